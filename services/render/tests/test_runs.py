"""Render jobs fired by status changes, rendered by workers, closed with the job's status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
from PIL import ImageChops

from kit.events.contracts.workflow import InvoiceStatusChanged, SessionStatusChanged
from kit.events.envelope import Envelope, source_of
from kit.testing import eventually
from render.imaging.pipeline import SRGB_ICC, open_source

PRINT = {
    "name": "8x10 print",
    "purpose": "final",
    "product": "8x10",
    "size": {"print_size": {"width_in": 8, "height_in": 10}, "fit": "cover"},
    "dpi": 100,
    "bleed": {"amount": 0.25, "unit": "in", "fill": "edge"},
    "format": {"kind": "jpeg", "quality": 95, "subsampling": "4:4:4"},
    "naming": "{session}_{image}_{size}",
    "deliver": True,
    "link_expiry_days": 14,
}


def status_change(kind: str, entity_id: str, session_id: str, to: str) -> Envelope:
    contract = InvoiceStatusChanged if kind == "invoice" else SessionStatusChanged
    payload = contract(
        entity_kind=kind,
        entity_id=entity_id,
        session_id=session_id,
        from_status="st-entered",
        to_status="st-lab",
        to_status_name=to,
        changed_by="user-1",
        changed_at=datetime.now(UTC),
    )
    return Envelope.wrap(payload, subject=entity_id, source=source_of("workflow"))


async def upload_session(service: Any, make_photo: Any, session: str, count: int) -> list[str]:
    """A session booked in workflow with `count` photos imported: their S3 keys."""
    photos = [make_photo(1500, 1000, seed=i) for i in range(count)]
    images = await service.workflow.session_with_photos(session, photos)
    return [i["key"] for i in images]


async def test_a_status_change_renders_the_ordered_prints_once_and_carries_the_finish_status(
    render_service: Any, make_photo: Any, unique: str
) -> None:
    session, invoice = f"s-{unique}", f"inv-{unique}"
    async with render_service() as service:
        await upload_session(service, make_photo, session, 2)
        profile = await service.profile(**PRINT)
        job = await service.job(
            name="Prints to lab",
            entity_kind="invoice",
            select_status="Sent to Lab",
            profile_ids=[profile["id"]],
            finish_status="Received from Lab",
            error_status="Render Failed",
        )
        await service.job(  # another status: not fired
            name="Other",
            entity_kind="invoice",
            select_status="Delivered",
            profile_ids=[profile["id"]],
        )
        event = status_change("invoice", invoice, session, "Sent to Lab")
        run_id = f"{event.id}:{job['id']}"
        async with service.consuming(unique) as workflow, service.workers("w1"):
            await workflow.send(event, event)
            run = await service.settled(run_id)
            [completed] = await service.events(run_id, "render.run.completed.v1")
        assert run["status"] == "completed"
        assert run["total"] == run["done"] == 2
        assert [r["id"] for r in (await service.http.get("/runs")).json()] == [run_id]
        data = completed["data"]
        assert data["finish_status"] == "Received from Lab"
        assert data["entity_id"] == invoice
        assert data["deliver"] is True
        assert data["link_expiry_days"] == 14
        assert len(data["outputs"]) == 2
        for output, number in zip(
            sorted(data["outputs"], key=lambda o: o["key"]), ("0000", "0001"), strict=True
        ):
            assert output["key"] == (
                f"sessions/{session}/rendered/{run_id}/{session}_IMG_{number}_8x10.jpg"
            )
            image = open_source(await service.download(output["key"]))
            # A landscape 8x10 at 100 DPI is 1000x800, plus a quarter inch (25 px) each side.
            assert image.size == (1050, 850) == (output["width"], output["height"])
            assert image.info["dpi"] == pytest.approx((100, 100))
            assert image.info["icc_profile"] == SRGB_ICC
            assert output["profile_version"] == 1
        manifest = json.loads(await service.download(data["manifest_key"]))
        assert manifest["libraries"]["pillow"]
        assert all(len(o["source_sha256"]) == 64 for o in manifest["outputs"])
        assert all(len(o["sha256"]) == 64 for o in manifest["outputs"])


async def test_a_corrupt_image_fails_itself_the_others_render_and_the_run_takes_the_error_path(
    render_service: Any, make_photo: Any, unique: str
) -> None:
    session = f"s-{unique}"
    async with render_service() as service:
        *keys, broken = await upload_session(service, make_photo, session, 3)
        # The stored file went bad after its import (workflow checked it then).
        await service.upload(broken, make_photo()[:3000])
        proof = await service.profile(watermark={"text": "PROOF"})
        job = await service.job(
            name="Proofs",
            entity_kind="session",
            select_status="Presentation Pending",
            profile_ids=[proof["id"]],
            finish_status="Presentation Ready",
            error_status="Proofs Failed",
        )
        event = status_change("session", session, session, "Presentation Pending")
        run_id = f"{event.id}:{job['id']}"
        async with service.consuming(unique) as workflow, service.workers("w1"):
            await workflow.send(event)
            run = await service.settled(run_id)
            [failed] = await service.events(run_id, "render.run.failed.v1")
        assert run["status"] == "failed"
        assert [f["source_key"] for f in run["failures"]] == [broken]
        assert sorted(o["source_key"] for o in run["outputs"]) == keys
        data = failed["data"]
        assert data["error_status"] == "Proofs Failed"
        assert "IMG_0002" in data["error"]
        assert [f["key"] for f in data["failures"]] == [broken]
        assert (
            "decoded" in data["failures"][0]["reason"]
            or "readable" in data["failures"][0]["reason"]
        )
        assert len(data["outputs"]) == 2


async def test_two_workers_split_a_run_between_them(
    render_service: Any, make_photo: Any, unique: str
) -> None:
    session = f"s-{unique}"
    async with render_service() as service:
        keys = await upload_session(service, make_photo, session, 8)
        small = await service.profile()
        large = await service.profile(name="Large proof", size={"long_edge_px": 600})
        job = await service.job(
            name="Proofs",
            entity_kind="session",
            select_status="x",
            profile_ids=[small["id"], large["id"]],
        )
        async with service.workers("w1", "w2") as workers:
            answer = await service.http.post(
                "/runs",
                json={
                    "job_id": job["id"],
                    "entity_id": session,
                    "session_id": session,
                    "keys": keys,
                },
            )
            assert answer.status_code == 202, answer.text
            run = await service.settled(answer.json()["id"])
        assert run["status"] == "completed"
        assert run["total"] == run["done"] == len(run["outputs"]) == 16
        assert sorted({o["source_key"] for o in run["outputs"]}) == keys
        # 16 tasks keyed by task id over 12 partitions, 6 held by each worker.
        assert {o["rendered_by"] for o in run["outputs"]} == {"w1", "w2"}
        assert sum(w.rendered for w in workers) == 16


async def test_a_worker_process_killed_mid_run_loses_nothing(
    render_service: Any, make_photo: Any, unique: str
) -> None:
    session = f"s-{unique}"
    async with render_service() as service:
        photos = [make_photo(3000, 2000, seed=i) for i in range(8)]
        images = await service.workflow.session_with_photos(session, photos)
        keys = [i["key"] for i in images]
        proof = await service.profile(size={"long_edge_px": 1600})
        job = await service.job(
            name="Proofs", entity_kind="session", select_status="x", profile_ids=[proof["id"]]
        )
        worker = start_worker_process(service, unique)
        try:
            answer = await service.http.post(
                "/runs",
                json={
                    "job_id": job["id"],
                    "entity_id": session,
                    "session_id": session,
                    "keys": keys,
                },
            )
            run_id = answer.json()["id"]

            async def under_way() -> bool:
                run = (await service.http.get(f"/runs/{run_id}")).json()
                return bool(run["done"] >= 1)

            await eventually(under_way, timeout=90, what="the worker process to render a task")
        finally:
            worker.kill()  # SIGKILL: no clean shutdown, no commit of the task in hand
            worker.wait(timeout=30)
        half = (await service.http.get(f"/runs/{run_id}")).json()
        assert half["status"] == "rendering"
        assert half["done"] < half["total"] == 8
        async with service.workers("w2"):
            run = await service.settled(run_id)
        assert run["status"] == "completed"
        assert run["done"] == run["total"] == len(run["outputs"]) == 8
        assert sorted(o["source_key"] for o in run["outputs"]) == keys
        assert len({o["task_id"] for o in run["outputs"]}) == 8
        assert "w2" in {o["rendered_by"] for o in run["outputs"]}
        [_completed] = await service.events(run_id, "render.run.completed.v1")


def start_worker_process(service: Any, unique: str) -> subprocess.Popen[bytes]:
    """`python -m render.worker` as its own process, on the test's database, bucket and topics."""
    settings = service.ctx.settings
    env = {
        **os.environ,
        "RENDER_DATABASE": settings.database,
        "STUDIO_IMAGES_BUCKET": service.infra.images_bucket,
        "STUDIO_TOPIC_PREFIX": service.infra.topic_prefix,
        "RENDER_WORKER_GROUP": settings.worker_group,
        "RENDER_WORKER_CONCURRENCY": "1",
        "RENDER_WORKER_SESSION_TIMEOUT_MS": "6000",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "render.worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_a_run_records_the_profile_version_it_used(
    render_service: Any, make_photo: Any, unique: str
) -> None:
    session = f"s-{unique}"
    async with render_service() as service:
        keys = await upload_session(service, make_photo, session, 1)
        proof = await service.profile()
        job = await service.job(
            name="Proofs", entity_kind="session", select_status="x", profile_ids=[proof["id"]]
        )
        request = {"job_id": job["id"], "entity_id": session, "session_id": session, "keys": keys}
        async with service.workers("w1"):
            first = await service.settled(
                (await service.http.post("/runs", json=request)).json()["id"]
            )
            edited = await service.http.put(
                f"/profiles/{proof['id']}",
                json={"name": "Web proof", "purpose": "proof", "size": {"long_edge_px": 300}},
            )
            assert edited.json()["version"] == 2
            second = await service.settled(
                (await service.http.post("/runs", json=request)).json()["id"]
            )
        assert first["profiles"] == [{"id": proof["id"], "version": 1}]
        assert first["outputs"][0]["width"] == 400
        assert second["profiles"] == [{"id": proof["id"], "version": 2}]
        assert second["outputs"][0]["width"] == 300


async def test_render_jobs_refuse_profiles_of_the_wrong_purpose_or_that_do_not_exist(
    render_service: Any,
) -> None:
    async with render_service() as service:
        proof = await service.profile()
        final = await service.profile(**PRINT)
        base = {"name": "J", "select_status": "x"}
        cases: list[tuple[dict[str, Any], int]] = [
            ({**base, "entity_kind": "session", "profile_ids": [final["id"]]}, 422),
            ({**base, "entity_kind": "invoice", "profile_ids": [proof["id"]]}, 422),
            ({**base, "entity_kind": "session", "profile_ids": ["prf_nothing"]}, 422),
            ({**base, "entity_kind": "session", "profile_ids": []}, 422),
            ({**base, "entity_kind": "lab", "profile_ids": [proof["id"]]}, 422),
            (
                {
                    **base,
                    "entity_kind": "session",
                    "profile_ids": [proof["id"]],
                    "images": {"kind": "keys"},
                },
                422,
            ),
        ]
        for body, code in cases:
            answer = await service.http.post("/jobs", json=body)
            assert answer.status_code == code, body
            assert answer.json()["error"] in ("unprocessable", "validation_error")
        assert (await service.http.get("/jobs")).json() == []
        missing = await service.http.post(
            "/runs", json={"job_id": "job_nothing", "entity_id": "e", "session_id": "s"}
        )
        assert missing.status_code == 404


async def test_a_rating_job_renders_the_selected_images_with_their_recipes(
    render_service: Any, make_photo: Any, unique: str
) -> None:
    session = f"s-{unique}"
    async with render_service() as service:
        keys = await upload_session(service, make_photo, session, 3)
        listed = (await service.workflow.http.get(f"/workflow/sessions/{session}/images")).json()
        first, second, third = (i["image_id"] for i in listed)
        workflow = service.workflow
        await workflow.put(f"/images/{first}/rating", {"selection": "selected", "stars": 4})
        await workflow.put(f"/images/{second}/rating", {"selection": "selected", "stars": 1})
        await workflow.put(f"/images/{third}/rating", {"selection": "not_selected"})
        square = {"x": 1 / 6, "y": 0, "width": 2 / 3, "height": 1}
        await workflow.put(
            f"/images/{first}/recipe",
            {
                "crops": [{"name": "square", "aspect_ratio": "1:1", "rect": square}],
                "colorization": {"mode": "black_and_white"},
            },
        )
        proof = await service.profile()
        job = await service.job(
            name="Selected proofs",
            entity_kind="session",
            select_status="Presentation Pending",
            profile_ids=[proof["id"]],
            images={"kind": "rating", "selection": "selected"},
            finish_status="Presented",
        )
        event = status_change("session", session, session, "Presentation Pending")
        async with service.consuming(unique) as events, service.workers("w1"):
            await events.send(event)
            run = await service.settled(f"{event.id}:{job['id']}")
        assert run["status"] == "completed", run
        outputs = {o["image_id"]: o for o in run["outputs"]}
        assert set(outputs) == {first, second}
        assert outputs[first]["source_key"] == keys[0]
        assert (outputs[first]["width"], outputs[first]["height"]) == (400, 400)
        assert (outputs[second]["width"], outputs[second]["height"]) == (400, 267)

        async def red_blue_spread(key: str) -> int:
            red, _, blue = open_source(await service.download(key)).convert("RGB").split()
            return int(ImageChops.difference(red, blue).getextrema()[1])

        assert await red_blue_spread(outputs[first]["key"]) <= 6  # black and white
        assert await red_blue_spread(outputs[second]["key"]) > 60  # no recipe: in colour
        manifest = json.loads(await service.download(run["manifest_key"]))
        versions = {o["image_id"]: o["recipe_version"] for o in manifest["outputs"]}
        assert versions[first] == 1
        assert versions[second] is None


async def test_an_unchanged_rerun_is_done_at_once_and_a_changed_recipe_renders_only_its_image(
    render_service: Any, make_photo: Any, unique: str
) -> None:
    session = f"s-{unique}"
    async with render_service() as service:
        await upload_session(service, make_photo, session, 2)
        listed = (await service.workflow.http.get(f"/workflow/sessions/{session}/images")).json()
        proof = await service.profile()
        job = await service.job(
            name="Proofs", entity_kind="session", select_status="Proofs", profile_ids=[proof["id"]]
        )

        async def fire() -> Any:
            event = status_change("session", session, session, "Proofs")
            await events.send(event)
            return await service.settled(f"{event.id}:{job['id']}")

        async with service.consuming(unique) as events, service.workers("w1"):
            first = await fire()
            again = await fire()
            await service.workflow.put(
                f"/images/{listed[1]['image_id']}/recipe", {"colorization": {"mode": "sepia"}}
            )
            changed = await fire()
        assert first["status"] == again["status"] == changed["status"] == "completed"
        assert (first["reused"], again["reused"], changed["reused"]) == (0, 2, 1)
        earlier = {o["image_id"]: o["key"] for o in first["outputs"]}
        assert {o["image_id"]: o["key"] for o in again["outputs"]} == earlier
        assert all(o["reused_from"] == first["id"] for o in again["outputs"])
        by_image = {o["image_id"]: o for o in changed["outputs"]}
        assert by_image[listed[0]["image_id"]]["key"] == earlier[listed[0]["image_id"]]
        recoloured = by_image[listed[1]["image_id"]]
        assert recoloured["key"].startswith(f"sessions/{session}/rendered/{changed['id']}/")
        assert recoloured["recipe_version"] == 1


async def test_delivery_renders_chosen_images_through_named_profiles_with_its_reference(
    render_service: Any, make_photo: Any, unique: str
) -> None:
    session = f"s-{unique}"
    async with render_service() as service:
        await upload_session(service, make_photo, session, 3)
        listed = (await service.workflow.http.get(f"/workflow/sessions/{session}/images")).json()
        chosen = [listed[0]["image_id"], listed[2]["image_id"]]
        web = await service.profile(name="Web", size={"long_edge_px": 300})
        final = await service.profile(**PRINT)
        async with service.workers("w1"):
            answer = await service.http.post(
                "/runs",
                json={
                    "session_id": session,
                    "profile_ids": [web["id"], final["id"]],
                    "image_ids": chosen,
                    "reference": f"delivery:d-{unique}",
                },
            )
            assert answer.status_code == 202, answer.text
            run = await service.settled(answer.json()["id"])
            [completed] = await service.events(run["id"], "render.run.completed.v1")
        assert run["status"] == "completed"
        assert run["job_id"] is None
        assert run["reference"] == f"delivery:d-{unique}"
        assert sorted((o["image_id"], o["profile_id"]) for o in run["outputs"]) == sorted(
            (i, p) for i in chosen for p in (web["id"], final["id"])
        )
        assert completed["data"]["reference"] == f"delivery:d-{unique}"
        assert completed["data"]["deliver"] is True
        for body in (
            {"session_id": session},
            {"session_id": session, "profile_ids": [web["id"]], "job_id": "job_x"},
            {"session_id": session, "profile_ids": [web["id"]], "keys": ["a"], "image_ids": ["b"]},
        ):
            refused = await service.http.post("/runs", json=body)
            assert refused.status_code == 422, body
        missing = await service.http.post(
            "/runs", json={"session_id": session, "profile_ids": ["prf_nothing"]}
        )
        assert missing.status_code == 422
        assert missing.json()["detail"] == {"missing": ["prf_nothing"]}
