"""Scheduling: session types, resources, opening hours and closures, availability, sessions."""

from __future__ import annotations

from booking.features import Feature
from booking.scheduling.repository import INDEXES
from booking.scheduling.router import build_service, router
from kit.app import Platform
from kit.periodic import Periodic

SWEEP_SECONDS = 30.0


async def start_sweeper(platform: Platform) -> None:
    service = build_service(platform)
    sweeper = Periodic("session sweep", service.sweep, SWEEP_SECONDS)
    sweeper.start()
    platform.extras["scheduling_sweeper"] = sweeper


async def stop_sweeper(platform: Platform) -> None:
    sweeper: Periodic | None = platform.extras.pop("scheduling_sweeper", None)
    if sweeper is not None:
        await sweeper.stop()


feature = Feature(
    routers=[router],
    indexes=INDEXES,
    outbox_collections=["sessions"],
    on_start=[start_sweeper],
    on_stop=[stop_sweeper],
)
