"""Scheduling: session types, resources, opening hours and closures, availability, sessions."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from booking.features import Feature
from booking.scheduling.repository import INDEXES
from booking.scheduling.router import build_service, router
from kit.app import Platform

log = logging.getLogger(__name__)
SWEEP_SECONDS = 30.0


async def _sweep_forever(platform: Platform) -> None:
    service = build_service(platform)
    while True:
        try:
            await service.sweep()
        except Exception as exc:
            log.warning("session sweep failed (%s); next in %s s", exc, SWEEP_SECONDS)
        await asyncio.sleep(SWEEP_SECONDS)


async def start_sweeper(platform: Platform) -> None:
    platform.extras["scheduling_sweeper"] = asyncio.create_task(_sweep_forever(platform))


async def stop_sweeper(platform: Platform) -> None:
    task: asyncio.Task[None] | None = platform.extras.pop("scheduling_sweeper", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


feature = Feature(
    routers=[router],
    indexes=INDEXES,
    outbox_collections=["sessions"],
    on_start=[start_sweeper],
    on_stop=[stop_sweeper],
)
