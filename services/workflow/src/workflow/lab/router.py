"""`/workflow/production-orders/{id}/shipments`: send an order to its lab, and what was sent."""

from __future__ import annotations

from fastapi import APIRouter, status

from workflow.context import ActorDep, ContextDep
from workflow.lab.shipments import Shipment, ShipmentService

router = APIRouter(prefix="/workflow/production-orders", tags=["lab"])


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
