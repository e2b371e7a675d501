"""The studio sends a production order to its lab: the order's lab render and its summary go
over SFTP to a real server (asyncssh, on loopback), the shipment records what arrived, the order
moves to "Sent to Lab"; what cannot go is refused with the reason; a hot folder gets the same
layout."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from fake_lab_api import API_KEY
from fake_lab_api import running_lab as running_api_lab
from lab_orders import production_order
from sftp_server import PASSWORD, REMOTE_FOLDER, USER, running_lab
from workflow_harness import Workflow

from kit.events.contracts.render import RenderOutput, RunCompleted
from kit.testing import eventually
from workflow.lab.hot_folder import write_order
from workflow.lab.sftp import COMPLETE_NAME, MANIFEST_NAME, SUMMARY_NAME, OrderFile


async def _rendered(workflow: Workflow, order_id: str, sizes: list[int]) -> dict[str, bytes]:
    """What render's lab run of the order left in S3, announced as render announces it."""
    storage = workflow.context.storage
    bucket = workflow.context.settings.infra.images_bucket
    bodies, outputs = {}, []
    for index, size in enumerate(sizes, start=1):
        key = f"production/{order_id}/rendered/lab/IMG_{index:04d}.jpg"
        bodies[f"IMG_{index:04d}.jpg"] = body = os.urandom(size)
        await storage.put(bucket, key, body)
        outputs.append(
            RenderOutput(
                image_id=f"img-{index}",
                profile_id="lab",
                profile_version=1,
                key=key,
                bytes=size,
                width=2400,
                height=3000,
            )
        )
    done = RunCompleted(
        run_id=f"run-{order_id}",
        job_id=None,
        entity_kind="production_order",
        entity_id=order_id,
        outputs=outputs,
    )
    await workflow.deliver(workflow.envelope(done, subject=order_id))
    return bodies


async def _sftp_vendor(workflow: Workflow, name: str, lab: Any, **changes: Any) -> None:
    sftp = {
        "host": "127.0.0.1",
        "port": lab.port,
        "username": USER,
        "remote_folder": REMOTE_FOLDER,
        "known_host_key": lab.host_key.export_public_key("openssh").decode(),
        "auth": "password",
        **changes,
    }
    answer = await workflow.client.post(
        "/workflow/vendors",
        json={"name": name, "transport": {"kind": "sftp", "sftp": sftp, "password": PASSWORD}},
    )
    assert answer.status_code == 201, answer.text


async def _finished(workflow: Workflow, order_id: str, count: int = 1) -> list[dict[str, Any]]:
    url = f"/workflow/production-orders/{order_id}/shipments"

    async def done() -> bool:
        shipments = (await workflow.client.get(url)).json()
        finished = [s for s in shipments if s["status"] in ("sent", "failed")]
        return len(finished) >= count

    await eventually(done, timeout=60, what="the shipment to finish")
    shipments: list[dict[str, Any]] = (await workflow.client.get(url)).json()
    return shipments


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_an_order_goes_to_its_lab_over_sftp_with_its_summary_and_moves_to_sent(
    workflow: Workflow, unique: str, tmp_path: Path
) -> None:
    vendor = f"Miller's {unique}"
    order_id = await production_order(workflow, vendor)
    async with running_lab(tmp_path) as lab:
        await _sftp_vendor(workflow, vendor, lab)
        url = f"/workflow/production-orders/{order_id}/shipments"
        # Before the lab render exists there is nothing to send.
        early = await workflow.client.post(url, headers={"X-User-Id": "ann"})
        assert early.status_code == 409
        assert "render it for the lab first" in early.json()["message"]

        bodies = await _rendered(workflow, order_id, [3 * 2**20, 200_000])
        queued = await workflow.client.post(url, headers={"X-User-Id": "ann"})
        assert queued.status_code == 202, queued.text
        assert queued.json()["status"] == "queued"
        assert [f["name"] for f in queued.json()["files"]] == list(bodies)
        # One shipment of an order at a time.
        twice = await workflow.client.post(url, headers={"X-User-Id": "ann"})
        assert twice.status_code == 409
        assert twice.json()["detail"] == {"shipment_id": queued.json()["shipment_id"]}

        [shipment] = await _finished(workflow, order_id)
        assert shipment["status"] == "sent", shipment
        folder = lab.folder / order_id
        for name, body in bodies.items():
            assert _sha256(folder / name) == hashlib.sha256(body).hexdigest()
        assert (folder / SUMMARY_NAME).read_bytes().startswith(b"%PDF-")
        manifest = (folder / MANIFEST_NAME).read_bytes()
        assert shipment["manifest_sha256"] == hashlib.sha256(manifest).hexdigest()
        assert sorted(line.split("  ")[1] for line in manifest.decode().splitlines()) == sorted(
            [*bodies, SUMMARY_NAME]
        )
        assert (folder / COMPLETE_NAME).exists()
        assert not [p.name for p in folder.iterdir() if p.name.endswith(".part")]
        assert shipment["bytes_sent"] >= sum(len(b) for b in bodies.values())
        assert shipment["already_at_lab"] is False

        async def moved() -> bool:
            order = (await workflow.client.get(f"/workflow/production-orders/{order_id}")).json()
            return bool(order["status"]["name"] == "Sent to Lab")

        await eventually(moved, timeout=15, what='the order to move to "Sent to Lab"')

        # Sent again (the lab has it complete): recorded, nothing uploaded twice.
        again = await workflow.client.post(url, headers={"X-User-Id": "ann"})
        assert again.status_code == 202, again.text
        shipments = await _finished(workflow, order_id, count=2)
        assert shipments[0]["status"] == "sent", shipments[0]["failure"]
        assert shipments[0]["already_at_lab"] is True
        assert shipments[0]["bytes_sent"] == 0


async def test_a_lab_whose_host_key_does_not_match_fails_the_shipment_readably(
    workflow: Workflow, unique: str, tmp_path: Path
) -> None:
    vendor = f"Impostor {unique}"
    order_id = await production_order(workflow, vendor)
    await _rendered(workflow, order_id, [50_000])
    async with running_lab(tmp_path) as lab, running_lab(tmp_path / "other") as other:
        # The vendor pins another server's key: the real one is refused before any write.
        pinned = other.host_key.export_public_key("openssh").decode()
        await _sftp_vendor(workflow, vendor, lab, known_host_key=pinned)
        url = f"/workflow/production-orders/{order_id}/shipments"
        assert (await workflow.client.post(url, headers={"X-User-Id": "ann"})).status_code == 202
        [shipment] = await _finished(workflow, order_id)
        assert shipment["status"] == "failed"
        assert "host key" in shipment["failure"].lower()
        assert not (lab.folder / order_id).exists()
        order = (await workflow.client.get(f"/workflow/production-orders/{order_id}")).json()
        assert order["status"]["name"] == "Order Entered"
        # Failed, the order may be sent again (once the vendor is fixed).
        assert (await workflow.client.post(url, headers={"X-User-Id": "ann"})).status_code == 202


async def test_an_order_without_a_vendor_record_or_for_a_lab_taken_by_hand_is_refused(
    workflow: Workflow, unique: str
) -> None:
    nobody = await production_order(workflow, f"Nobody {unique}")
    await _rendered(workflow, nobody, [1000])
    refused = await workflow.client.post(f"/workflow/production-orders/{nobody}/shipments")
    assert refused.status_code == 409
    assert "no vendor record" in refused.json()["message"]
    by_hand = f"Corner Shop {unique}"
    made = await workflow.client.post(
        "/workflow/vendors", json={"name": by_hand, "transport": {"kind": "manual"}}
    )
    assert made.status_code == 201
    order_id = await production_order(workflow, by_hand)
    await _rendered(workflow, order_id, [1000])
    manual = await workflow.client.post(f"/workflow/production-orders/{order_id}/shipments")
    assert manual.status_code == 409
    assert "by hand" in manual.json()["message"]
    assert (
        await workflow.client.get(f"/workflow/production-orders/{order_id}/shipments")
    ).json() == []


async def test_a_hot_folder_gets_the_files_then_the_manifest_and_the_marker_once(
    tmp_path: Path,
) -> None:
    files = [OrderFile.from_bytes(f"F{i}.jpg", os.urandom(100_000 + i)) for i in range(3)]
    receipt = await write_order(tmp_path, "po-1", files, summary_pdf=b"%PDF-1.7 summary")
    folder = tmp_path / "po-1"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*(f.name for f in files), SUMMARY_NAME, MANIFEST_NAME, COMPLETE_NAME]
    )
    for item in files:
        assert _sha256(folder / item.name) == item.sha256
    assert receipt.already_complete is False
    assert receipt.bytes_sent == sum(f.size for f in files) + len(b"%PDF-1.7 summary")
    again = await write_order(tmp_path, "po-1", files, summary_pdf=b"%PDF-1.7 summary")
    assert again.already_complete is True
    assert again.manifest_sha256 == receipt.manifest_sha256


async def test_an_order_goes_to_a_lab_through_its_http_api_with_its_lines(
    workflow: Workflow, unique: str
) -> None:
    vendor = f"API Lab {unique}"
    order_id = await production_order(
        workflow, vendor, product="Print 20x30", image_ids=["img-1", "img-2"]
    )
    async with running_api_lab() as lab:
        made = await workflow.client.post(
            "/workflow/vendors",
            json={
                "name": vendor,
                "transport": {
                    "kind": "http_api",
                    "http_api": {"base_url": lab.base_url},
                    "api_key": API_KEY,
                },
            },
        )
        assert made.status_code == 201, made.text
        assert made.json()["transport"]["credentials_set"] is True
        assert API_KEY not in made.text
        bodies = await _rendered(workflow, order_id, [400_000, 300_000])
        url = f"/workflow/production-orders/{order_id}/shipments"
        assert (await workflow.client.post(url, headers={"X-User-Id": "ann"})).status_code == 202
        [shipment] = await _finished(workflow, order_id)
        assert shipment["status"] == "sent", shipment["failure"]
        stored = lab.order(order_id)
        assert stored.status == "received"
        for name, body in bodies.items():
            assert stored.files[name] == body
        assert stored.files[SUMMARY_NAME].startswith(b"%PDF-")
        [item] = stored.body["items"]
        assert item["product"] == "Print 20x30"
        assert item["quantity"] == 3
        assert sorted(item["files"]) == sorted(bodies)
        assert item["retouch"] == "warm skin tones"
        assert shipment["remote_path"].endswith(stored.lab_order_id)
