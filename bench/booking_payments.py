"""Stripe webhooks handled per second, next to the one conditional update each one needs.

    set -a && . .local/test/env && set +a && .venv/bin/python bench/booking_payments.py

Each webhook is signed with the service's secret and sent through the in-process app (ASGI):
signature check, ledger and outbox write. The anchor is the plain `find_one_and_update` of the
same number of payment documents on the same server in the same run. A second pass sends
every event again (what Stripe does on a timeout): those must change nothing.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Run as a script, this folder comes first on the path; keep it from shadowing packages.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.append(str(Path(__file__).resolve().parent))

from _harness import percentile, report, summary  # noqa: E402

from booking.config import BookingSettings  # noqa: E402
from booking.testing import stripe_event, stripe_signature  # noqa: E402
from kit.mongo import connect_mongo  # noqa: E402
from kit.settings import InfraSettings  # noqa: E402
from kit.testing import build_app, running  # noqa: E402

EVENTS = 300


def payment(payment_id: str) -> dict[str, Any]:
    at = datetime.now(UTC)
    return {
        "_id": payment_id,
        "purpose": "invoice",
        "method": "payment_intent",
        "client_id": "bench-client",
        "session_id": None,
        "invoice_id": f"inv-{payment_id}",
        "amount_minor": 5000,
        "currency": "usd",
        "status": "pending",
        "refunded_minor": 0,
        "refunds": {},
        "checkout_url": None,
        "client_secret": None,
        "stripe_checkout_session": None,
        "stripe_payment_intent": f"pi_{payment_id}",
        "failure_reason": None,
        "stripe_events": [],
        "settled": False,
        "version": 0,
        "created_at": at,
        "updated_at": at,
    }


def signed(payment_id: str, secret: str) -> tuple[bytes, dict[str, str]]:
    body = stripe_event(
        "payment_intent.succeeded",
        {
            "id": f"pi_{payment_id}",
            "object": "payment_intent",
            "metadata": {"payment_id": payment_id},
        },
        f"evt_{payment_id}",
    )
    return body, stripe_signature(body, secret)


async def main() -> None:
    infra = InfraSettings()
    mongo = connect_mongo(infra.mongo_url, app_name="bench")
    database = f"bench_{uuid.uuid4().hex[:6]}"
    db = mongo[database]
    secret = BookingSettings().secret("stripe_webhook_secret")
    try:
        anchor_ids = [f"a{i}" for i in range(EVENTS)]
        await db["anchor_payments"].insert_many([payment(p) for p in anchor_ids])
        started = time.perf_counter()
        for p in anchor_ids:
            await db["anchor_payments"].find_one_and_update(
                {"_id": p, "status": "pending"}, {"$set": {"status": "succeeded"}}
            )
        anchor_s = time.perf_counter() - started

        ids = [f"p{i}" for i in range(EVENTS)]
        await db["payments"].insert_many([payment(p) for p in ids])
        bodies = [signed(p, secret) for p in ids]
        app = build_app("booking", database=database)
        latencies: list[float] = []
        async with running(app) as client:
            started = time.perf_counter()
            for body, headers in bodies:
                t0 = time.perf_counter()
                response = await client.post(
                    "/public/payments/stripe-webhook", content=body, headers=headers
                )
                latencies.append(time.perf_counter() - t0)
                assert response.json()["outcome"] == "applied", response.text
            ours_s = time.perf_counter() - started
            started = time.perf_counter()
            for body, headers in bodies:
                response = await client.post(
                    "/public/payments/stripe-webhook", content=body, headers=headers
                )
                assert response.json()["outcome"] == "duplicate", response.text
            again_s = time.perf_counter() - started
        succeeded = await db["payments"].count_documents({"status": "succeeded"})
        assert succeeded == EVENTS
    finally:
        await mongo.drop_database(database)
        await mongo.close()

    lat = summary(latencies)
    rows = [
        ("measure", "find_one_and_update (anchor)", "signed webhook, applied / again"),
        (
            "events per second",
            f"{EVENTS / anchor_s:.0f}",
            f"{EVENTS / ours_s:.0f} / {EVENTS / again_s:.0f}",
        ),
        ("ratio to anchor", "1.0", f"{anchor_s / ours_s:.2f}"),
        (
            "webhook latency ms (median, p95)",
            "",
            f"{lat['median'] * 1000:.1f}, {percentile(latencies, 95) * 1000:.1f}",
        ),
    ]
    report(
        "booking_payments",
        rows,
        {
            "events": EVENTS,
            "anchor_per_s": round(EVENTS / anchor_s, 1),
            "webhook_per_s": round(EVENTS / ours_s, 1),
            "duplicate_webhook_per_s": round(EVENTS / again_s, 1),
            "ratio_to_anchor": round(anchor_s / ours_s, 3),
            "webhook_median_ms": round(lat["median"] * 1000, 2),
            "webhook_p95_ms": round(percentile(latencies, 95) * 1000, 2),
        },
    )


if __name__ == "__main__":
    asyncio.run(main())
