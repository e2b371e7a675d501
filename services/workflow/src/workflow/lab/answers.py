"""The lab's answers: signed events a lab posts back about an order (accepted, in production,
shipped with its tracking, delivered to the studio, a problem).

A lab posts to the gateway's public `POST /lab/<vendor id>/events`, which passes the body byte
for byte to `POST /workflow/lab-events/<vendor id>`. The body is signed with the vendor's
callback secret (`X-Lab-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, five
minutes of tolerance either way); the owner makes the secret (`POST /workflow/vendors/<id>/
callback-secret`, shown once, kept sealed). Each event id counts once. An event is recorded on
the order (`lab_updates`) and moves it: `shipped` to a status named "Shipped", `delivered` to
"Received from Lab", when the order's pipeline has that status ahead of where the order is.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pymongo.errors import DuplicateKeyError

from kit.errors import BadRequest, Conflict, NotFound, Unauthorized
from kit.mongo import Document
from workflow.context import WorkflowContext
from workflow.lab.http_api import verify_callback
from workflow.production.repository import ORDERS
from workflow.production.service import ProductionService
from workflow.tracking.schemas import StatusChangeRequest
from workflow.tracking.service import StatusChanger
from workflow.vendors.secrets import seal, unseal

EVENTS = "lab_events"
MOVES = {"shipped": "Shipped", "delivered": "Received from Lab"}


class Tracking(BaseModel):
    model_config = ConfigDict(extra="ignore")

    carrier: str | None = Field(default=None, max_length=100)
    number: str | None = Field(default=None, max_length=100)
    url: str | None = Field(default=None, max_length=1000, pattern=r"^https?://")


class LabEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=200)
    order_id: str = Field(min_length=1, max_length=100)
    event: Literal["accepted", "in_production", "shipped", "delivered", "problem"]
    message: str | None = Field(default=None, max_length=2000)
    tracking: Tracking | None = None


class CallbackSecret(BaseModel):
    secret: str
    path: str
    header: str = "X-Lab-Signature"


class LabEventReceipt(BaseModel):
    recorded: bool
    order_id: str
    status: str


async def new_callback_secret(context: WorkflowContext, vendor_id: str) -> CallbackSecret:
    """A fresh secret for the vendor's callbacks (the old one stops working); shown once."""
    secret = secrets.token_urlsafe(32)
    sealed = seal(context.settings.secret("secrets_key"), {"callback": secret})
    result = await context.db["vendors"].update_one(
        {"_id": vendor_id},
        {
            "$set": {"callback_secret": sealed, "updated_at": datetime.now(UTC)},
            "$inc": {"version": 1},
        },
    )
    if result.matched_count != 1:
        raise NotFound(f"No vendor {vendor_id}.", detail={"vendor_id": vendor_id})
    return CallbackSecret(secret=secret, path=f"/lab/{vendor_id}/events")


async def receive(
    context: WorkflowContext, vendor_id: str, body: bytes, signature: str | None
) -> LabEventReceipt:
    vendor = await context.db["vendors"].find_one({"_id": vendor_id})
    if vendor is None or not vendor.get("callback_secret"):
        # The same answer whether the vendor is unknown or has no secret: nothing to probe.
        raise Unauthorized("This callback is not signed with a secret the studio knows.")
    secret = unseal(context.settings.secret("secrets_key"), vendor["callback_secret"])["callback"]
    try:
        verify_callback(secret, body, signature or "", now=time.time())
    except ValueError as exc:
        raise Unauthorized(f"The callback's signature does not hold: {exc}") from exc
    try:
        event = LabEvent.model_validate_json(body)
    except ValidationError as exc:
        raise BadRequest(
            "The callback is not a lab event (id, order_id, event).",
            detail=[{"location": list(e["loc"]), "message": e["msg"]} for e in exc.errors()],
        ) from exc
    changer = StatusChanger(context, "production_order")
    try:
        order = await changer.load(event.order_id)
    except NotFound as exc:
        raise NotFound(
            f"No production order {event.order_id}.", detail={"order_id": event.order_id}
        ) from exc
    if order["vendor"].strip().casefold() != vendor["name_key"]:
        raise NotFound(
            f"Production order {event.order_id} is not for {vendor['name']}.",
            detail={"order_id": event.order_id},
        )
    update = {
        "event": event.event,
        "message": event.message,
        "tracking": event.tracking.model_dump() if event.tracking else None,
        "at": datetime.now(UTC),
        "event_id": event.id,
    }
    try:
        await context.db[EVENTS].insert_one({"_id": f"{vendor_id}:{event.id}", **update})
    except DuplicateKeyError:
        return LabEventReceipt(recorded=False, order_id=event.order_id, status=_status(order))
    await context.db[ORDERS].update_one({"_id": event.order_id}, {"$push": {"lab_updates": update}})
    moved = await _move(context, changer, order, event)
    return LabEventReceipt(recorded=True, order_id=event.order_id, status=moved or _status(order))


def _status(order: Document) -> str:
    return str(order.get("status_name") or order.get("status_id"))


async def _move(
    context: WorkflowContext, changer: StatusChanger, order: Document, event: LabEvent
) -> str | None:
    wanted = MOVES.get(event.event)
    if wanted is None:
        return None
    pipeline = await changer.pipeline_of(order)
    target, current = pipeline.named(wanted), pipeline.find(order["status_id"])
    if target is None or current is None or current.sort_order >= target.sort_order:
        return None
    note = f"lab: {event.event}" + (f" ({event.message})" if event.message else "")
    if event.tracking and event.tracking.number:
        note += f"; tracking {event.tracking.carrier or ''} {event.tracking.number}".rstrip()
    with contextlib.suppress(Conflict):
        moved = await ProductionService(context).change_status(
            order["_id"], StatusChangeRequest(to_status_id=target.id, note=note[:2000]), by="lab"
        )
        return moved.status.name
    return None
