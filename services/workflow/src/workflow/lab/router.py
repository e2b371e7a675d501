"""`/workflow/production-orders/{id}/shipments`: send an order to its lab, and what was sent."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, status

from workflow.context import ActorDep, ContextDep
from workflow.lab import answers
from workflow.lab.shipments import Shipment, ShipmentService

router = APIRouter(prefix="/workflow/production-orders", tags=["lab"])
answers_router = APIRouter(prefix="/workflow", tags=["lab"])


@router.post(
    "/{order_id}/shipments",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a production order to its lab",
    responses={
        409: {
            "description": "No vendor record, a lab taken by hand, no lab render yet, "
            "or a shipment of the order still open"
        }
    },
)
async def send_to_lab(order_id: str, context: ContextDep, actor: ActorDep) -> Shipment:
    """Queued: the order's latest lab render and its order summary go through the vendor's
    transport (SFTP or hot folder); the shipment says what arrived, or why not, and the order
    moves to "Sent to Lab" once it is there."""
    return await ShipmentService(context).request(order_id, by=actor.user_id)


@router.get("/{order_id}/shipments", summary="The order's shipments to its lab, newest first")
async def shipments(order_id: str, context: ContextDep) -> list[Shipment]:
    return await ShipmentService(context).of_order(order_id)


@answers_router.post(
    "/vendors/{vendor_id}/callback-secret",
    summary="A new secret for the lab's signed callbacks (shown once)",
)
async def callback_secret(vendor_id: str, context: ContextDep) -> answers.CallbackSecret:
    """The lab signs its events with it (`X-Lab-Signature`); a new one replaces the old at once.
    Give the lab the secret and the gateway's public URL `<gateway>/lab/<vendor id>/events`."""
    return await answers.new_callback_secret(context, vendor_id)


@answers_router.post(
    "/lab-events/{vendor_id}",
    summary="A lab's signed event about an order (the gateway's public /lab/{id}/events)",
    responses={401: {"description": "Not signed with the vendor's callback secret"}},
)
async def lab_event(
    vendor_id: str,
    request: Request,
    context: ContextDep,
    x_lab_signature: Annotated[str | None, Header(max_length=500)] = None,
) -> answers.LabEventReceipt:
    """Recorded on the order once per event id; `shipped` moves it to "Shipped" and
    `delivered` to "Received from Lab" where its pipeline has them ahead of it."""
    return await answers.receive(context, vendor_id, await request.body(), x_lab_signature)
