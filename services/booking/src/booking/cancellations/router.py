"""The studio's routes to cancel a session (settling its deposit) and to reopen one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header

from booking.cancellations.service import CancellationService
from booking.payments.router import build_service as build_payments
from booking.scheduling import schemas
from booking.scheduling.router import build_service as build_scheduling
from booking.scheduling.router import build_studio_settings
from kit.app import Platform, PlatformDep


def build_service(platform: Platform) -> CancellationService:
    return CancellationService(
        build_scheduling(platform), build_payments(platform), build_studio_settings(platform)
    )


def cancellation_service(platform: PlatformDep) -> CancellationService:
    return build_service(platform)


CancellationDep = Annotated[CancellationService, Depends(cancellation_service)]
UserId = Annotated[str | None, Header(max_length=200)]
UserRole = Annotated[str | None, Header(max_length=50)]
router = APIRouter(tags=["scheduling"])


@router.post("/sessions/{session_id}/cancel")
async def cancel(
    session_id: str, data: schemas.Cancel, service: CancellationDep, x_user_id: UserId = None
) -> schemas.Session:
    """Cancel with a reason; the resources are free again at once. A paid deposit follows
    the studio's policy (`deposit: policy`) or the choice given (`keep`, `refund`); what
    became of it is the session's `deposit_outcome`."""
    return await service.cancel(session_id, data.reason, by=x_user_id, deposit=data.deposit)


@router.post(
    "/sessions/{session_id}/reopen",
    responses={
        403: {"description": "Not the studio's owner or staff"},
        409: {"description": "The slot is taken (choose another: `starts_at`), or changed"},
    },
)
async def reopen(
    session_id: str,
    data: schemas.Reopen,
    service: CancellationDep,
    x_user_id: UserId = None,
    x_user_role: UserRole = None,
) -> schemas.Session:
    """Reinstate a session cancelled by mistake, in its slot or in `starts_at`; a taken slot
    answers 409 with `choose_another_slot`. Workflow restores the status it had."""
    return await service.reopen(session_id, data, by=x_user_id, role=x_user_role)
