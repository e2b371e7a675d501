"""Image import through the workflow API next to a direct boto3 upload of the same files, and
the QR card scan rate on 24-megapixel frames, measured in the same run.

    set -a && . .local/test/env && set +a && .venv/bin/python bench/workflow_import.py

The anchor is the S3 write that an import cannot avoid: `put_object` of each file, four at a
time as the service stores them (`WORKFLOW_IMPORT_CONCURRENCY`), and one after the other for
reference; the ratio is what multipart parsing, validation (Pillow decode), hashing, the
records and the report cost on top. The API is driven in-process over ASGI (no socket).
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import segno
from _harness import report, summary
from PIL import Image

from kit.events.consumer import HandlerContext
from kit.events.contracts.booking import SessionBooked
from kit.events.envelope import Envelope, source_of
from kit.mongo import connect_mongo
from kit.settings import InfraSettings
from kit.testing import build_app, running

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
from workflow.archive.objects import delete_keys, list_objects  # noqa: E402
from workflow.cards.qr import card_text, scan_frame  # noqa: E402
from workflow.context import context_of  # noqa: E402
from workflow.sessions.service import SessionService  # noqa: E402

FILES = 50
REPEATS = 3
SCANS = 10
EDGE = (2000, 1500)


def jpeg(seed: int) -> bytes:
    """A 3-megapixel JPEG of noise (compresses like a detailed photograph, ~2 MB)."""
    noise = Image.frombytes("RGB", EDGE, os.urandom(EDGE[0] * EDGE[1] * 3))
    out = io.BytesIO()
    noise.save(out, format="JPEG", quality=85)
    return out.getvalue()


def card_frame() -> bytes:
    """A 24-megapixel frame with a session card's QR code in it."""
    image = Image.linear_gradient("L").resize((6000, 4000)).convert("RGB")
    code = io.BytesIO()
    segno.make(card_text("S-BENCH"), error="h").save(code, kind="png", scale=30, border=4)
    code.seek(0)
    image.paste(Image.open(code).convert("RGB"), (2200, 1200))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def clean_up(client: Any, bucket: str, database: str) -> None:
    keys = [o.key for o in list_objects(client, bucket, f"bench-direct/{database}/")]
    for repeat in range(REPEATS):
        keys += [o.key for o in list_objects(client, bucket, f"sessions/bench-{repeat}/")]
    delete_keys(client, bucket, keys)


async def main() -> None:
    database = f"bench_wfi_{uuid.uuid4().hex[:8]}"
    app = build_app("workflow", database=database)
    files = [(f"IMG_{i:04d}.jpg", jpeg(i)) for i in range(FILES)]
    total_mb = sum(len(b) for _, b in files) / 1e6
    try:
        async with running(app) as client:
            platform = app.state.platform
            context = context_of(platform)
            sessions = SessionService(context)
            storage = context.storage
            bucket = context.settings.infra.images_bucket
            api_mbps: list[float] = []
            s3_mbps: list[float] = []
            s3_serial_mbps: list[float] = []
            limit = asyncio.Semaphore(context.settings.import_concurrency)
            for repeat in range(REPEATS):
                session_id = f"bench-{repeat}"
                starts = datetime(2027, 1, 1, 10, tzinfo=UTC)
                payload = SessionBooked(
                    session_id=session_id,
                    session_number=f"S-{repeat}",
                    client_id="c",
                    session_type_id="portrait",
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=1),
                )
                envelope = Envelope.wrap(payload, subject=session_id, source=source_of("bench"))
                await sessions.session_scheduled(payload, HandlerContext(envelope))

                started = time.perf_counter()
                for name, body in files:
                    await storage.put(bucket, f"bench-direct/{database}/s{repeat}/{name}", body)
                s3_serial_mbps.append(total_mb / (time.perf_counter() - started))

                async def put(name: str, body: bytes, repeat: int = repeat) -> None:
                    async with limit:
                        key = f"bench-direct/{database}/{repeat}/{name}"
                        await storage.put(bucket, key, body)

                started = time.perf_counter()
                await asyncio.gather(*(put(name, body) for name, body in files))
                s3_mbps.append(total_mb / (time.perf_counter() - started))

                started = time.perf_counter()
                answer = await client.post(
                    f"/workflow/sessions/{session_id}/imports",
                    files=[("files", (n, b, "image/jpeg")) for n, b in files],
                )
                elapsed = time.perf_counter() - started
                if answer.status_code != 201 or answer.json()["stored"] != FILES:
                    raise RuntimeError(f"the import failed: {answer.text[:500]}")
                api_mbps.append(total_mb / elapsed)

            frame = card_frame()
            scan_seconds: list[float] = []
            for _ in range(SCANS):
                started = time.perf_counter()
                scan = await asyncio.to_thread(scan_frame, io.BytesIO(frame), "JPEG")
                scan_seconds.append(time.perf_counter() - started)
                if scan.session_number != "S-BENCH":
                    raise RuntimeError("the card was not read")
            await asyncio.to_thread(clean_up, context.storage.client, bucket, database)
    finally:
        mongo = connect_mongo(InfraSettings().mongo_url, app_name="bench")
        await mongo.drop_database(database)
        await mongo.close()
    api = summary(api_mbps)
    s3 = summary(s3_mbps)
    serial = summary(s3_serial_mbps)
    scans = summary(scan_seconds)
    rows = [
        ("measure", "median", "spread"),
        (
            f"API import, {FILES} files, {total_mb:.0f} MB (MB/s)",
            f"{api['median']:.1f}",
            f"{api['spread_pct']:.0f}%",
        ),
        (
            "direct boto3 put_object, one at a time (MB/s)",
            f"{serial['median']:.1f}",
            f"{serial['spread_pct']:.0f}%",
        ),
        (
            "direct boto3 put_object, 4 at a time (MB/s)",
            f"{s3['median']:.1f}",
            f"{s3['spread_pct']:.0f}%",
        ),
        ("API / direct", f"{api['median'] / s3['median']:.2f}", ""),
        (
            "QR scan of a 24 MP JPEG (frames/s)",
            f"{1 / scans['median']:.1f}",
            f"{scans['spread_pct']:.0f}%",
        ),
    ]
    report(
        "workflow_import",
        rows,
        {
            "files": FILES,
            "megabytes": round(total_mb, 1),
            "api_mb_per_s": round(api["median"], 2),
            "direct_s3_mb_per_s": round(s3["median"], 2),
            "direct_s3_serial_mb_per_s": round(serial["median"], 2),
            "api_to_direct_ratio": round(api["median"] / s3["median"], 3),
            "qr_scan_frames_per_s": round(1 / scans["median"], 2),
            "repeats": REPEATS,
        },
    )


if __name__ == "__main__":
    asyncio.run(main())
