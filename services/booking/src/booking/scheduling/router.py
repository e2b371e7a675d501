"""Scheduling routes for the studio's staff: session types, resources, hours, sessions."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, Depends, Header, Query, Response, status
from pydantic import AwareDatetime

from booking.config import BookingSettings
from booking.scheduling import schemas
from booking.scheduling.repository import SchedulingRepository
from booking.scheduling.service import SchedulingService
from booking.scheduling.studio_settings import StudioSettingsRepository, StudioSettingsService
from kit.app import Platform, PlatformDep


def scheduling_service(platform: PlatformDep) -> SchedulingService:
    return build_service(platform)


def build_service(platform: Platform) -> SchedulingService:
    settings = cast(BookingSettings, platform.settings)
    relay = platform.relay
    return SchedulingService(
        SchedulingRepository(platform.db),
        timezone=settings.timezone,
        notify=relay.notify if relay else lambda *_: None,
    )


SchedulingDep = Annotated[SchedulingService, Depends(scheduling_service)]
router = APIRouter(tags=["scheduling"])


def studio_settings_service(platform: PlatformDep) -> StudioSettingsService:
    return build_studio_settings(platform)


def build_studio_settings(platform: Platform) -> StudioSettingsService:
    settings = cast(BookingSettings, platform.settings)
    return StudioSettingsService(StudioSettingsRepository(platform.db), timezone=settings.timezone)


StudioSettingsDep = Annotated[StudioSettingsService, Depends(studio_settings_service)]


@router.get("/scheduling-settings")
async def scheduling_settings(service: StudioSettingsDep) -> schemas.SchedulingSettings:
    """The studio's time zone (opening hours are local wall times there), the granule, and
    the studio's settings: name, phone, currency, the cut-off of clients' cancel and
    reschedule links (hours before the session) and the deposit policy."""
    return await service.current()


@router.put(
    "/scheduling-settings",
    responses={403: {"description": "Not the owner"}, 409: {"description": "Changed meanwhile"}},
)
async def change_scheduling_settings(
    data: schemas.StudioSettingsIn,
    service: StudioSettingsDep,
    x_user_id: Annotated[str | None, Header(max_length=200)] = None,
    x_user_role: Annotated[str | None, Header(max_length=50)] = None,
) -> schemas.SchedulingSettings:
    """The owner changes the studio's settings; `version` is the one read (409 if another
    change was saved meanwhile). The time zone comes from `BOOKING_TIMEZONE`."""
    return await service.change(data, by=x_user_id, role=x_user_role)


@router.post("/session-types", status_code=status.HTTP_201_CREATED)
async def create_session_type(
    data: schemas.SessionTypeIn, service: SchedulingDep
) -> schemas.SessionType:
    """Create a session type (duration, buffer, deposit, online booking)."""
    return await service.create_session_type(data)


@router.get("/session-types")
async def list_session_types(service: SchedulingDep) -> list[schemas.SessionType]:
    return await service.session_types()


@router.get("/session-types/{type_id}")
async def get_session_type(type_id: str, service: SchedulingDep) -> schemas.SessionType:
    return await service.session_type(type_id)


@router.put("/session-types/{type_id}")
async def update_session_type(
    type_id: str, data: schemas.SessionTypeIn, service: SchedulingDep
) -> schemas.SessionType:
    """Replace a session type; retire one with `active: false` (its sessions keep it)."""
    return await service.update_session_type(type_id, data)


@router.post("/resources", status_code=status.HTTP_201_CREATED)
async def create_resource(data: schemas.ResourceIn, service: SchedulingDep) -> schemas.Resource:
    """Add a photographer, room or camera."""
    return await service.create_resource(data)


@router.get("/resources")
async def list_resources(service: SchedulingDep) -> list[schemas.Resource]:
    return await service.resources()


@router.put("/resources/{resource_id}")
async def update_resource(
    resource_id: str, data: schemas.ResourceIn, service: SchedulingDep
) -> schemas.Resource:
    return await service.update_resource(resource_id, data)


@router.post("/opening-hours", status_code=status.HTTP_201_CREATED)
async def add_opening_hours(
    data: schemas.OpeningHoursIn, service: SchedulingDep
) -> list[schemas.OpeningHours]:
    """Weekly opening hours for several resources at once (local studio time)."""
    return await service.add_opening_hours(data)


@router.get("/opening-hours")
async def list_opening_hours(service: SchedulingDep) -> list[schemas.OpeningHours]:
    return await service.opening_hours()


@router.delete("/opening-hours/{hours_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_opening_hours(hours_id: str, service: SchedulingDep) -> Response:
    await service.delete_opening_hours(hours_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/closures", status_code=status.HTTP_201_CREATED)
async def add_closure(data: schemas.ClosureIn, service: SchedulingDep) -> schemas.Closure:
    """A holiday or other closure, for one resource or the whole studio."""
    return await service.add_closure(data)


@router.get("/closures")
async def list_closures(service: SchedulingDep) -> list[schemas.Closure]:
    return await service.closures()


@router.delete("/closures/{closure_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_closure(closure_id: str, service: SchedulingDep) -> Response:
    await service.delete_closure(closure_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/availability", responses={404: {"description": "No such session type or resource"}})
async def availability(
    service: SchedulingDep,
    session_type_id: str,
    start: Annotated[AwareDatetime, Query(description="From (with a UTC offset)")],
    end: Annotated[AwareDatetime, Query(description="Until (with a UTC offset)")],
    resource_id: str | None = None,
) -> schemas.Availability:
    """Bookable starts of a session type between `start` and `end`, with the free resources."""
    return await service.availability(session_type_id, start, end, resource_id=resource_id)


@router.post("/sessions", status_code=status.HTTP_201_CREATED)
async def book_session(data: schemas.BookSession, service: SchedulingDep) -> schemas.Session:
    """Book a session; 409 when a resource is taken at that time (never double-booked)."""
    return await service.book(data)


@router.get("/sessions")
async def calendar(
    service: SchedulingDep,
    start: Annotated[AwareDatetime, Query()],
    end: Annotated[AwareDatetime, Query()],
    resource_id: str | None = None,
    client_id: str | None = None,
) -> list[schemas.Session]:
    """Held and booked sessions between `start` and `end`, by resource or client."""
    return await service.calendar(start, end, resource_id=resource_id, client_id=client_id)


@router.get("/sessions/{session_id}")
async def get_session(session_id: str, service: SchedulingDep) -> schemas.Session:
    return await service.session(session_id)


@router.post("/sessions/{session_id}/reschedule")
async def reschedule(
    session_id: str, data: schemas.Reschedule, service: SchedulingDep
) -> schemas.Session:
    """Move a session; `version` must be the one the caller saw."""
    return await service.reschedule(session_id, data)
