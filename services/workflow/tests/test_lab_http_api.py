"""Sending a production order to a photo lab through its HTTP API, against a real HTTP server
on loopback (`fake_lab_api`) that keeps what it was sent."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import time

import pytest
from fake_lab_api import API_KEY, Misbehaviour, running_lab
from pydantic import SecretStr

from workflow.lab.http_api import (
    CallbackRejected,
    Crop,
    HttpLabTarget,
    LabFile,
    LabOrder,
    OrderLine,
    send_order_http,
    verify_callback,
)
from workflow.lab.sftp import LabRefused, LabUnreachable, OrderFile, SourceChanged, manifest_of

BIG = 4 * 1024 * 1024
SUMMARY = b"%PDF-1.7\n% order summary for the lab\n"
SUMMARY_NAME = "order-summary.pdf"


def an_order(
    order_id: str, files: list[OrderFile] | None = None, product: str = "Print 20x30"
) -> tuple[LabOrder, list[OrderFile]]:
    """Two prints and a canvas (the big file last), with the summary PDF."""
    files = files or [
        OrderFile.from_bytes("0001-portrait.jpg", os.urandom(200_000)),
        OrderFile.from_bytes("0002-family.tif", os.urandom(300_000)),
        OrderFile.from_bytes("0003-canvas-60x90.tif", os.urandom(BIG)),
    ]
    summary = OrderFile.from_bytes(SUMMARY_NAME, SUMMARY)
    order = LabOrder(
        order_id=order_id,
        studio="Lumen Portraits",
        files=[*(LabFile.describing(f) for f in files), LabFile.describing(summary)],
        summary=SUMMARY_NAME,
        notes="Matte paper, please.",
        lines=[
            OrderLine(
                product_name=product,
                quantity=2,
                file_names=[files[0].name, files[1].name],
                crop=Crop(x=0.1, y=0.0, width=0.8, height=1.0),
            ),
            OrderLine(
                product_name="Canvas 60x90",
                quantity=1,
                file_names=[files[-1].name],
                retouch_notes="soften the background",
            ),
        ],
    )
    return order, files


def bodies(files: list[OrderFile]) -> dict[str, bytes]:
    everything = [*files, OrderFile.from_bytes(SUMMARY_NAME, SUMMARY)]
    return {f.name: f.open().read() for f in everything}


async def test_a_complete_order_arrives_with_matching_checksums_and_is_submitted() -> None:
    order, files = an_order("PO-2001")
    async with running_lab() as lab:
        receipt = await send_order_http(lab.target(), order, files, summary_pdf=SUMMARY)

    stored = lab.order("PO-2001")
    assert stored.status == "received"
    assert stored.files == bodies(files)
    assert stored.body["customer"] == {"name": "Lumen Portraits"}
    assert stored.body["items"][0]["crop"] == {"x": 0.1, "y": 0.0, "width": 0.8, "height": 1.0}
    assert stored.body["items"][1]["retouch"] == "soften the background"
    assert stored.assets[SUMMARY_NAME].role == "summary"
    assert stored.assets[files[1].name].content_type == "image/tiff"
    manifest_sha256 = hashlib.sha256(
        manifest_of([*files, OrderFile.from_bytes(SUMMARY_NAME, SUMMARY)])
    ).hexdigest()
    assert stored.idempotency_key == f"PO-2001:{manifest_sha256}"
    assert set(lab.log.authorizations) == {f"Bearer {API_KEY}"}
    # Created, every file put once, then submitted: nothing else, nothing twice.
    assert [(m, s) for m, _, s in lab.log.requests] == [
        ("POST", 201),
        *[("PUT", 201)] * 4,
        ("POST", 200),
    ]
    assert lab.log.requests[-1][1] == f"/api/v1/orders/{stored.lab_order_id}/submit"
    assert not receipt.already_complete
    assert receipt.sent == (*(f.name for f in files), SUMMARY_NAME)
    assert receipt.skipped == ()
    assert receipt.attempts == 1
    assert receipt.bytes_sent == sum(f.size for f in files) + len(SUMMARY)
    assert receipt.manifest_sha256 == manifest_sha256
    assert receipt.remote_path == f"{lab.base_url}/orders/{stored.lab_order_id}"


async def test_the_same_order_sent_again_creates_no_second_lab_order_and_uploads_nothing() -> None:
    order, files = an_order("PO-2002")
    async with running_lab() as lab:
        first = await send_order_http(lab.target(), order, files, summary_pdf=SUMMARY)
        puts = len(lab.puts())
        again = await send_order_http(lab.target(), order, files, summary_pdf=SUMMARY)

    assert len(lab.orders) == 1
    assert len(lab.puts()) == puts == 4
    assert lab.log.requests[-1] == ("POST", "/api/v1/orders", 200)  # no second submit either
    assert again.already_complete
    assert not first.already_complete
    assert again.sent == ()
    assert again.skipped == (*(f.name for f in files), SUMMARY_NAME)
    assert again.bytes_sent == 0
    assert again.remote_path == first.remote_path


async def test_a_send_that_failed_half_way_resumes_with_the_missing_files_only() -> None:
    order, files = an_order("PO-2003")
    faults = Misbehaviour(drop_upload_of=files[2].name, drop_after_bytes=BIG // 2)
    async with running_lab(faults) as lab:
        with pytest.raises(LabUnreachable, match="after 1 attempt"):
            await send_order_http(lab.target(), order, files, summary_pdf=SUMMARY, attempts=1)
        assert lab.order("PO-2003").status == "awaiting_files"
        receipt = await send_order_http(lab.target(), order, files, summary_pdf=SUMMARY)

    assert lab.order("PO-2003").files == bodies(files)
    assert lab.order("PO-2003").status == "received"
    assert receipt.skipped == (files[0].name, files[1].name)
    assert receipt.sent == (files[2].name, SUMMARY_NAME)
    assert lab.log.uploads.count(files[0].name) == 1


async def test_a_503_with_retry_after_is_retried_and_succeeds() -> None:
    order, files = an_order("PO-2004")
    faults = Misbehaviour(unavailable=1, unavailable_path="/api/v1/orders", retry_after="1")
    async with running_lab(faults) as lab:
        started = time.monotonic()
        receipt = await send_order_http(
            lab.target(), order, files, summary_pdf=SUMMARY, backoff_seconds=0.0
        )
        waited = time.monotonic() - started

    assert lab.log.requests[:2] == [
        ("POST", "/api/v1/orders", 503),
        ("POST", "/api/v1/orders", 201),
    ]
    assert waited >= 1.0  # the lab's Retry-After, not our zero backoff
    assert receipt.attempts == 2
    assert len(lab.orders) == 1
    assert lab.order("PO-2004").status == "received"


async def test_a_dropped_upload_is_retried_and_the_file_arrives_whole() -> None:
    order, files = an_order("PO-2005")
    faults = Misbehaviour(drop_upload_of=files[2].name, drop_after_bytes=BIG // 2)
    async with running_lab(faults) as lab:
        receipt = await send_order_http(
            lab.target(), order, files, summary_pdf=SUMMARY, backoff_seconds=0.05
        )

    [(name, received)] = lab.log.dropped
    assert name == files[2].name
    assert BIG // 2 <= received < BIG
    assert lab.log.uploads.count(files[2].name) == 2
    assert lab.order("PO-2005").files == bodies(files)
    assert receipt.attempts == 2
    assert receipt.sent == (*(f.name for f in files), SUMMARY_NAME)
    # What went into the dropped request is counted too.
    assert receipt.bytes_sent > sum(f.size for f in files) + len(SUMMARY)


async def test_pre_signed_upload_urls_on_another_origin_never_see_the_api_key() -> None:
    order, files = an_order("PO-2009")
    async with running_lab(presigned_uploads=True) as lab:
        await send_order_http(lab.target(), order, files, summary_pdf=SUMMARY)

    assert lab.order("PO-2009").files == bodies(files)
    by_path = dict(zip((p for _, p, _ in lab.log.requests), lab.log.authorizations, strict=True))
    assert [a for p, a in by_path.items() if p.startswith("/uploads/")] == [None] * 4
    assert by_path["/api/v1/orders"] == f"Bearer {API_KEY}"


async def test_a_wrong_api_key_is_refused_and_nothing_is_uploaded() -> None:
    order, files = an_order("PO-2006")
    async with running_lab() as lab:
        target = lab.target(api_key=SecretStr("stolen-or-stale"))
        with pytest.raises(LabRefused, match="refused the API key"):
            await send_order_http(target, order, files, summary_pdf=SUMMARY, backoff_seconds=0)

    assert lab.log.requests == [("POST", "/api/v1/orders", 401)]  # not retried
    assert lab.orders == {}
    assert lab.log.uploads == []


async def test_an_order_the_lab_cannot_make_is_refused_with_the_lab_s_words() -> None:
    order, files = an_order("PO-2007", product="Hologram 3D")
    async with running_lab() as lab:
        with pytest.raises(LabRefused, match="unknown product 'Hologram 3D'"):
            await send_order_http(lab.target(), order, files, summary_pdf=SUMMARY)

    assert lab.log.requests == [("POST", "/api/v1/orders", 422)]


async def test_a_file_changed_since_hashing_raises_source_changed() -> None:
    hashed, changed = os.urandom(BIG), os.urandom(BIG)
    tampered = OrderFile(
        "0003-canvas-60x90.tif",
        BIG,
        hashlib.sha256(hashed).hexdigest(),
        lambda: io.BytesIO(changed),
    )
    files = [OrderFile.from_bytes("0001-portrait.jpg", os.urandom(1000)), tampered]
    order, files = an_order("PO-2008", files)
    async with running_lab() as lab:
        with pytest.raises(SourceChanged, match=r"0003-canvas-60x90\.tif"):
            await send_order_http(lab.target(), order, files, summary_pdf=SUMMARY)

    stored = lab.order("PO-2008")
    assert list(stored.files) == ["0001-portrait.jpg"]  # the changed file was never kept
    assert stored.status == "awaiting_files"
    # Not retried, and the lab never had the whole wrong file: the last chunk was held back.
    [received] = [size for name, size in lab.log.received if name == tampered.name]
    assert received < BIG


def test_plain_http_is_refused_except_to_this_machine() -> None:
    key = SecretStr(API_KEY)
    with pytest.raises(ValueError, match="plain http"):
        HttpLabTarget("http://lab.example.com/api", key)
    with pytest.raises(ValueError, match="plain http"):
        HttpLabTarget("http://10.0.0.7/api", key)
    with pytest.raises(ValueError, match="credentials"):
        HttpLabTarget("https://user:pw@lab.example.com/api", key)
    for allowed in ("https://lab.example.com/api", "http://127.0.0.1:8080", "http://localhost"):
        assert HttpLabTarget(allowed, key).base_url == allowed
    assert API_KEY not in repr(HttpLabTarget("https://lab.example.com", key))


SECRET = "whsec-lab-callbacks"
EVENT = json.dumps({"event": "order.shipped", "lab_order_id": "LAB-5001"}).encode()


def signed(body: bytes, at: int, secret: str = SECRET) -> str:
    mac = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def test_a_callback_signed_with_the_shared_secret_is_accepted() -> None:
    now = 1_790_000_000
    assert verify_callback(SECRET, EVENT, signed(EVENT, now - 10), now=now) == {
        "event": "order.shipped",
        "lab_order_id": "LAB-5001",
    }
    # While the lab rotates its secret it signs with both.
    rotating = f"{signed(EVENT, now, 'old-secret')},v1={signed(EVENT, now).split('v1=')[1]}"
    assert verify_callback(SECRET, EVENT, rotating, now=now)["event"] == "order.shipped"


@pytest.mark.parametrize(
    ("header", "why"),
    [
        (signed(EVENT, 1_790_000_000, "another-secret"), "does not match"),
        (signed(EVENT + b" ", 1_790_000_000), "does not match"),
        (signed(EVENT, 1_790_000_000 - 301), "outside 300 s"),
        (signed(EVENT, 1_790_000_000 + 301), "outside 300 s"),
        ("v1=" + "0" * 64, "one t="),
        ("garbage", "malformed"),
    ],
    ids=["wrong-secret", "altered-body", "stale", "future", "no-timestamp", "malformed"],
)
def test_a_callback_that_does_not_prove_itself_is_refused(header: str, why: str) -> None:
    with pytest.raises(CallbackRejected, match=why):
        verify_callback(SECRET, EVENT, header, now=1_790_000_000)
