"""Public routes for online booking (the gateway exposes `/public/...` without login)."""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Query, status
from pydantic import AwareDatetime

from booking.cancellations.router import build_service as build_cancellations
from booking.clients.router import get_repository as client_repository
from booking.config import BookingSettings
from booking.online import schemas
from booking.online.links import Purpose
from booking.online.service import OnlineBookingService
from booking.payments.router import build_service as build_payments
from booking.scheduling.router import build_service as build_scheduling
from kit.app import PlatformDep
from kit.query_params import FreeQuery


def online_service(platform: PlatformDep) -> OnlineBookingService:
    settings = cast(BookingSettings, platform.settings)
    return OnlineBookingService(
        build_scheduling(platform),
        client_repository(platform),
        build_payments(platform),
        build_cancellations(platform),
        link_secret=settings.secret("link_secret"),
        public_base_url=settings.public_base_url,
        hold_minutes=settings.hold_minutes,
        lead_minutes=settings.online_lead_minutes,
    )


OnlineDep = Annotated[OnlineBookingService, Depends(online_service)]
Token = Annotated[str, Query(min_length=1, max_length=200)]
router = APIRouter(prefix="/public", tags=["online booking"])
# A link's token is checked first: one for another session or purpose is a 403.
LINK_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "The link does not allow this"}
}


@router.get("/studio")
async def studio(service: OnlineDep) -> schemas.PublicStudio:
    """The studio's name and phone, and the time zone its times are read in."""
    return await service.studio()


@router.get("/session-types")
async def bookable_types(service: OnlineDep) -> list[schemas.BookableType]:
    """The session types a client can book online."""
    return await service.bookable_types()


@router.get("/session-types/{type_id}/availability")
async def free_starts(
    type_id: str,
    service: OnlineDep,
    start: Annotated[AwareDatetime, Query(description="From (with a UTC offset)")],
    end: Annotated[AwareDatetime, Query(description="Until (with a UTC offset)")],
) -> schemas.FreeStarts:
    """Free starts between `start` and `end`, from the online lead time on."""
    return await service.free_starts(type_id, start, end)


@router.post("/bookings", status_code=status.HTTP_201_CREATED, responses={409: {}, 502: {}})
async def book(data: schemas.OnlineBooking, service: OnlineDep) -> schemas.BookingConfirmation:
    """Book as a new or returning client (by email); with a deposit, the session is held
    until it is paid through the Checkout page, then booked; unpaid, the hold expires."""
    return await service.book(data)


# Links opened from emails may carry a mail sender's tracking parameters: taken, not refused.
@router.get("/sessions/{session_id}", responses=LINK_ERRORS, dependencies=[FreeQuery])
async def view_session(session_id: str, token: Token, service: OnlineDep) -> schemas.PublicSession:
    """The session a cancel or reschedule link is for."""
    return await service.view(session_id, token)


@router.get("/sessions/{session_id}/{purpose}", responses=LINK_ERRORS, dependencies=[FreeQuery])
async def open_link(
    session_id: str, purpose: Purpose, token: Token, service: OnlineDep
) -> schemas.PublicSession:
    """What opening a cancel or reschedule link (a GET of its URL) answers: the session and
    whether the link still changes it (`can_change`); if not, `refusal` says to call the
    studio."""
    return await service.view(session_id, token, purpose=purpose)


@router.post("/sessions/{session_id}/cancel", responses={**LINK_ERRORS, 409: {}})
async def cancel(
    session_id: str, data: schemas.LinkCancel, service: OnlineDep
) -> schemas.PublicSession:
    """Cancel through the signed link sent to the client."""
    return await service.cancel(session_id, data)


@router.post("/sessions/{session_id}/reschedule", responses={**LINK_ERRORS, 409: {}})
async def reschedule(
    session_id: str, data: schemas.LinkReschedule, service: OnlineDep
) -> schemas.PublicSession:
    """Move the session through the signed link sent to the client."""
    return await service.reschedule(session_id, data)
