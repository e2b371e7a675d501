"""Peak memory of the workflow process importing four 196-megapixel PNGs in one request, next to
the anchor: a bare Pillow decode of one of them in a process with the same imports.

    make bench-workflow_import_memory

Each case runs in a fresh Python process (peak RSS, `ru_maxrss`, only grows), so the figures are
each process's own: the process serving the import (its app started, the API driven over ASGI),
with the decode budget as configured (`WORKFLOW_DECODE_BUDGET_PIXELS`, 300 MP) and with a
budget large enough for all four at once (what an unbounded process does: four files checked
at a time, `WORKFLOW_IMPORT_CONCURRENCY`). The PNGs are written beforehand by another process.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _harness import peak_rss_mib, report

# bench/workflow.py would shadow the workflow package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

EDGE = 14_000  # 196 MP, under the 200 MP decompression-bomb limit
FILES = 4
DEFAULT_BUDGET = 300_000_000
UNBOUNDED = FILES * EDGE * EDGE


def generate(folder: Path) -> None:
    """Four different 196 MP RGB PNGs (gradients: small files, full-size decodes)."""
    from PIL import Image

    base = Image.linear_gradient("L").resize((EDGE, EDGE))
    for index in range(FILES):
        channels = [base.rotate(90 * ((index + c) % 4)) for c in range(3)]
        image = Image.merge("RGB", channels)
        image.save(folder / f"BIG_{index}.png", format="PNG", compress_level=1)


def decode_one(folder: Path) -> dict[str, float]:
    """The anchor: one file decoded whole, as the import's check does, nothing else."""
    from PIL import Image

    import workflow.main  # noqa: F401  (the same imports as the serving process)

    Image.MAX_IMAGE_PIXELS = None
    started = time.perf_counter()
    with Image.open(folder / "BIG_0.png") as image:
        image.load()
    return {"seconds": time.perf_counter() - started, "peak_rss_mib": peak_rss_mib()}


async def _import(folder: Path, budget: int) -> dict[str, float]:
    from kit.events.consumer import HandlerContext
    from kit.events.contracts.booking import SessionBooked
    from kit.events.envelope import Envelope, source_of
    from kit.mongo import connect_mongo
    from kit.settings import InfraSettings
    from kit.testing import build_app, running
    from workflow.archive.objects import delete_keys, list_objects
    from workflow.context import context_of
    from workflow.sessions.service import SessionService

    database = f"bench_wfm_{uuid.uuid4().hex[:8]}"
    app = build_app("workflow", database=database, decode_budget_pixels=budget)
    session_id = f"bench-mem-{uuid.uuid4().hex[:6]}"
    try:
        async with running(app) as client:
            context = context_of(app.state.platform)
            starts = datetime(2027, 1, 1, 10, tzinfo=UTC)
            payload = SessionBooked(
                session_id=session_id,
                session_number="S-MEM",
                client_id="c",
                session_type_id="portrait",
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
            )
            envelope = Envelope.wrap(payload, subject=session_id, source=source_of("bench"))
            await SessionService(context).session_scheduled(payload, HandlerContext(envelope))
            before = peak_rss_mib()
            # Streamed from the files: the request body is not held by the client.
            handles = [
                await asyncio.to_thread(open, folder / f"BIG_{i}.png", "rb") for i in range(FILES)
            ]
            try:
                started = time.perf_counter()
                answer = await client.post(
                    f"/workflow/sessions/{session_id}/imports",
                    files=[("files", (Path(h.name).name, h, "image/png")) for h in handles],
                    timeout=600,
                )
                seconds = time.perf_counter() - started
            finally:
                for handle in handles:
                    handle.close()
            if answer.status_code != 201 or answer.json()["stored"] != FILES:
                raise RuntimeError(f"the import failed: {answer.text[:500]}")
            bucket = context.settings.infra.images_bucket
            client_s3 = context.storage.client
            keys = [o.key for o in list_objects(client_s3, bucket, f"sessions/{session_id}/")]
            delete_keys(client_s3, bucket, keys)
    finally:
        mongo = connect_mongo(InfraSettings().mongo_url, app_name="bench")
        await mongo.drop_database(database)
        await mongo.close()
    return {"seconds": seconds, "rss_before_mib": before, "peak_rss_mib": peak_rss_mib()}


def _case(*arguments: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, *arguments], check=True, capture_output=True, text=True
    )
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-import-memory-") as temporary:
        folder = Path(temporary)
        _case("generate", temporary)
        megabytes = sum(p.stat().st_size for p in folder.glob("*.png")) / 1e6
        anchor = _case("decode", temporary)
        bounded = _case("import", temporary, str(DEFAULT_BUDGET))
        unbounded = _case("import", temporary, str(UNBOUNDED))
    rows = [
        ("measure", "peak RSS (MiB)", "x anchor"),
        ("one 196 MP PNG decoded alone (anchor)", f"{anchor['peak_rss_mib']:.0f}", "1.00"),
        (
            f"import of {FILES} in one request, budget 300 MP (default)",
            f"{bounded['peak_rss_mib']:.0f}",
            f"{bounded['peak_rss_mib'] / anchor['peak_rss_mib']:.2f}",
        ),
        (
            f"import of {FILES}, budget {UNBOUNDED // 1_000_000} MP (all at once)",
            f"{unbounded['peak_rss_mib']:.0f}",
            f"{unbounded['peak_rss_mib'] / anchor['peak_rss_mib']:.2f}",
        ),
        ("import seconds, default / all at once", f"{bounded['seconds']:.1f}", ""),
        ("", f"{unbounded['seconds']:.1f}", ""),
    ]
    report(
        "workflow_import_memory",
        rows,
        {
            "files": FILES,
            "megapixels_each": EDGE * EDGE / 1e6,
            "png_megabytes": round(megabytes, 1),
            "anchor_decode_peak_rss_mib": round(anchor["peak_rss_mib"], 1),
            "anchor_decode_seconds": round(anchor["seconds"], 2),
            "import_peak_rss_mib": round(bounded["peak_rss_mib"], 1),
            "import_rss_before_mib": round(bounded["rss_before_mib"], 1),
            "import_seconds": round(bounded["seconds"], 2),
            "unbounded_import_peak_rss_mib": round(unbounded["peak_rss_mib"], 1),
            "unbounded_import_seconds": round(unbounded["seconds"], 2),
            "import_over_anchor": round(bounded["peak_rss_mib"] / anchor["peak_rss_mib"], 3),
            "unbounded_over_anchor": round(unbounded["peak_rss_mib"] / anchor["peak_rss_mib"], 3),
        },
    )


def _child(arguments: list[str]) -> None:
    action, folder = arguments[0], Path(arguments[1])
    if action == "generate":
        generate(folder)
        print(json.dumps({}))
    elif action == "decode":
        print(json.dumps(decode_one(folder)))
    else:
        print(json.dumps(asyncio.run(_import(folder, int(arguments[2])))))


if __name__ == "__main__":
    if len(sys.argv) > 1:
        _child(sys.argv[1:])
    else:
        main()
