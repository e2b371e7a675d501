"""Stripe webhook events as Stripe sends them, signed the way Stripe signs them: for the tests,
the benchmarks and for replaying a webhook by hand against a local booking service (stripe-mock
sends no webhooks)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any


def stripe_event(event_type: str, obj: dict[str, Any], event_id: str | None = None) -> bytes:
    """The body of a Stripe event of `event_type` about `obj`."""
    event = {
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": obj},
    }
    return json.dumps(event).encode()


def stripe_signature(body: bytes, secret: str, *, at: int | None = None) -> dict[str, str]:
    """The headers Stripe sends with `body`: `Stripe-Signature` (HMAC-SHA256 over
    "<timestamp>.<body>" with the endpoint's secret) and the JSON content type."""
    timestamp = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={timestamp},v1={mac}", "Content-Type": "application/json"}


def checkout_completed(
    payment_id: str, *, checkout_session: str | None = None, event_id: str | None = None
) -> bytes:
    """A paid `checkout.session.completed` for our payment `payment_id`."""
    return stripe_event(
        "checkout.session.completed",
        {
            "id": checkout_session or f"cs_test_{uuid.uuid4().hex[:12]}",
            "object": "checkout.session",
            "client_reference_id": payment_id,
            "metadata": {"payment_id": payment_id},
            "payment_status": "paid",
            "payment_intent": f"pi_{uuid.uuid4().hex[:20]}",
        },
        event_id,
    )
