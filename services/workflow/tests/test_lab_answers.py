"""A lab tells the studio about an order with signed events: recorded once each on the order,
tracking kept, "delivered" moving the order to "Received from Lab"; unsigned, stale, foreign or
malformed events change nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from lab_orders import production_order
from workflow_harness import Workflow


def _signed(secret: str, event: dict[str, Any], *, at: float | None = None) -> tuple[bytes, str]:
    body = json.dumps(event).encode()
    stamp = int(at if at is not None else time.time())
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={stamp},v1={mac}"


async def _lab(workflow: Workflow, name: str) -> tuple[str, str]:
    made = await workflow.client.post(
        "/workflow/vendors", json={"name": name, "transport": {"kind": "manual"}}
    )
    assert made.status_code == 201, made.text
    vendor_id: str = made.json()["vendor_id"]
    answer = await workflow.client.post(f"/workflow/vendors/{vendor_id}/callback-secret")
    assert answer.status_code == 200, answer.text
    assert answer.json()["path"] == f"/lab/{vendor_id}/events"
    assert "callback" not in (await workflow.client.get(f"/workflow/vendors/{vendor_id}")).text
    secret: str = answer.json()["secret"]
    return vendor_id, secret


async def _post(workflow: Workflow, vendor_id: str, body: bytes, signature: str) -> Any:
    return await workflow.client.post(
        f"/workflow/lab-events/{vendor_id}",
        content=body,
        headers={"x-lab-signature": signature, "content-type": "application/json"},
    )


async def test_a_labs_shipped_and_delivered_events_are_recorded_once_and_move_the_order(
    workflow: Workflow, unique: str
) -> None:
    vendor = f"Answering Lab {unique}"
    vendor_id, secret = await _lab(workflow, vendor)
    order_id = await production_order(workflow, vendor)
    shipped = {
        "id": "ev-1",
        "order_id": order_id,
        "event": "shipped",
        "message": "2 boxes",
        "tracking": {"carrier": "UPS", "number": "1Z999", "url": "https://ups.example/1Z999"},
    }
    first = await _post(workflow, vendor_id, *_signed(secret, shipped))
    assert first.status_code == 200, first.text
    assert first.json()["recorded"] is True
    again = await _post(workflow, vendor_id, *_signed(secret, shipped))
    assert again.json()["recorded"] is False
    order = (await workflow.client.get(f"/workflow/production-orders/{order_id}")).json()
    # The default pipeline has no "Shipped": recorded, the order stays where it is.
    assert order["status"]["name"] == "Order Entered"
    [update] = order["lab_updates"]
    assert update["event"] == "shipped"
    assert update["tracking"]["number"] == "1Z999"

    delivered = {"id": "ev-2", "order_id": order_id, "event": "delivered"}
    answer = await _post(workflow, vendor_id, *_signed(secret, delivered))
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "Received from Lab"
    history = (await workflow.client.get(f"/workflow/production-orders/{order_id}/history")).json()
    assert history[-1]["changed_by"] == "lab"
    assert "tracking" not in history[-1]["note"]  # delivered carries none; shipped did


async def test_unsigned_stale_foreign_or_malformed_events_change_nothing(
    workflow: Workflow, unique: str
) -> None:
    vendor = f"Careful Lab {unique}"
    vendor_id, secret = await _lab(workflow, vendor)
    order_id = await production_order(workflow, vendor)
    event = {"id": "ev-x", "order_id": order_id, "event": "delivered"}
    body, signature = _signed(secret, event)

    wrong_key = await _post(workflow, vendor_id, *_signed("not the secret", event))
    assert wrong_key.status_code == 401
    tampered = await _post(workflow, vendor_id, body.replace(b"ev-x", b"ev-y"), signature)
    assert tampered.status_code == 401
    stale = await _post(workflow, vendor_id, *_signed(secret, event, at=time.time() - 3600))
    assert stale.status_code == 401
    future = await _post(workflow, vendor_id, *_signed(secret, event, at=time.time() + 3600))
    assert future.status_code == 401
    unknown = await _post(workflow, "vnd_nobody", body, signature)
    assert unknown.status_code == 401
    malformed = await _post(workflow, vendor_id, *_signed(secret, {"id": "ev-z", "event": "x"}))
    assert malformed.status_code == 400
    assert malformed.json()["error"] == "bad_request"

    other = f"Other Lab {unique}"
    other_order = await production_order(workflow, other)
    foreign = {"id": "ev-f", "order_id": other_order, "event": "delivered"}
    assert (await _post(workflow, vendor_id, *_signed(secret, foreign))).status_code == 404

    # A new secret replaces the old one at once.
    renewed = await workflow.client.post(f"/workflow/vendors/{vendor_id}/callback-secret")
    old = await _post(workflow, vendor_id, body, signature)
    assert old.status_code == 401
    assert renewed.json()["secret"] != secret
    order = (await workflow.client.get(f"/workflow/production-orders/{order_id}")).json()
    assert order["status"]["name"] == "Order Entered"
    assert order["lab_updates"] == []
