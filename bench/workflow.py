"""Workflow status changes and the hub, next to the bare database writes a change needs
(one insert and one update), measured in the same run.

    set -a && . .local/test/env && set +a && .venv/bin/python bench/workflow.py
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _harness import percentile, report, summary

from kit.events.consumer import HandlerContext
from kit.events.contracts.booking import SessionBooked
from kit.events.envelope import Envelope, source_of
from kit.testing import build_app, running

# This file is named like the service's package; take bench/ off the path so that
# `workflow` means the service from here on.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
context_of = importlib.import_module("workflow.context").context_of
SessionService = importlib.import_module("workflow.sessions.service").SessionService

SESSIONS = 200
REPEATS = 3
HUB_SAMPLES = 20


async def main() -> None:
    database = f"bench_wf_{uuid.uuid4().hex[:8]}"
    app = build_app("workflow", database=database)
    async with running(app) as client:
        platform = app.state.platform
        sessions = SessionService(context_of(platform))
        starts_at = datetime(2026, 12, 1, 10, tzinfo=UTC)
        for i in range(SESSIONS):
            payload = SessionBooked(
                session_id=f"b{i}",
                session_number=f"S-{i}",
                client_id="c",
                session_type_id="portrait" if i % 2 else "school",
                starts_at=starts_at + timedelta(days=i % 30),
                ends_at=starts_at + timedelta(days=i % 30, hours=1),
                resource_ids=[f"p{i % 4}"],
            )
            envelope = Envelope.wrap(payload, subject=payload.session_id, source=source_of("bench"))
            await sessions.session_scheduled(payload, HandlerContext(envelope))

        scratch = platform.db["bench_scratch"]
        bare_ms: list[float] = []
        change_ms: list[float] = []
        bare_rate: list[float] = []
        change_rate: list[float] = []
        for repeat in range(REPEATS):  # interleaved, so drift hits both alike
            started = time.perf_counter()
            for i in range(SESSIONS):
                t0 = time.perf_counter()
                key = f"{repeat}-{i}"
                await scratch.insert_one({"_id": key, "status": "x", "at": datetime.now(UTC)})
                await scratch.update_one({"_id": key}, {"$set": {"status": "y"}})
                bare_ms.append((time.perf_counter() - t0) * 1000)
            bare_rate.append(SESSIONS / (time.perf_counter() - started))

            started = time.perf_counter()
            for i in range(SESSIONS):
                t0 = time.perf_counter()
                answer = await client.post(f"/workflow/sessions/b{i}/status", json={})
                change_ms.append((time.perf_counter() - t0) * 1000)
                if answer.status_code != 200:
                    raise RuntimeError(answer.text)
            change_rate.append(SESSIONS / (time.perf_counter() - started))

        hub_ms: list[float] = []
        count_ms: list[float] = []
        collection = platform.db["session_workflows"]
        for _ in range(HUB_SAMPLES):
            t0 = time.perf_counter()
            await collection.count_documents({})
            count_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            hub = await client.get("/workflow/hub")
            hub_ms.append((time.perf_counter() - t0) * 1000)
            if hub.json()["total"] != SESSIONS:
                raise RuntimeError("the hub lost sessions")
        await platform.mongo.drop_database(database)

    bare, change = summary(bare_rate), summary(change_rate)
    figures = {
        "sessions": SESSIONS,
        "repeats": REPEATS,
        "bare_writes_per_s": {k: round(v, 1) for k, v in bare.items()},
        "status_changes_per_s": {k: round(v, 1) for k, v in change.items()},
        "change_latency_ms": {
            "p50": round(percentile(change_ms, 50), 2),
            "p95": round(percentile(change_ms, 95), 2),
        },
        "bare_latency_ms": {
            "p50": round(percentile(bare_ms, 50), 2),
            "p95": round(percentile(bare_ms, 95), 2),
        },
        "change_over_bare_latency_p50": round(
            percentile(change_ms, 50) / percentile(bare_ms, 50), 3
        ),
        "hub_ms_p50": round(percentile(hub_ms, 50), 2),
        "count_ms_p50": round(percentile(count_ms, 50), 2),
        "hub_over_count_p50": round(percentile(hub_ms, 50) / percentile(count_ms, 50), 3),
    }
    rows = [
        ("measure", "bare insert+update (anchor)", "status change over HTTP (ASGI)"),
        ("per second (median)", f"{bare['median']:.0f}", f"{change['median']:.0f}"),
        ("spread", f"{bare['spread_pct']:.0f}%", f"{change['spread_pct']:.0f}%"),
        (
            "latency p50 / p95 (ms)",
            f"{percentile(bare_ms, 50):.2f} / {percentile(bare_ms, 95):.2f}",
            f"{percentile(change_ms, 50):.2f} / {percentile(change_ms, 95):.2f}",
        ),
        ("ratio change/bare p50", "1.00", f"{figures['change_over_bare_latency_p50']}"),
        (
            f"hub, {SESSIONS} sessions p50 (ms)",
            f"count_documents {percentile(count_ms, 50):.2f}",
            f"{percentile(hub_ms, 50):.2f} (x{figures['hub_over_count_p50']})",
        ),
    ]
    report("workflow", rows, figures)


if __name__ == "__main__":
    asyncio.run(main())
