"""Cancellations: the deposit policy on a cancellation, the cut-off of clients' links, and
reopening a session cancelled by mistake."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from booking.cancellations.router import build_service, router
from booking.features import Feature
from kit.app import Platform

log = logging.getLogger(__name__)
SWEEP_SECONDS = 30.0
# A refund a cancellation decided is normally done within the same request; one older than
# this was left by a crash or a restart.
REFUND_GRACE = timedelta(minutes=2)
SWEEPER = "deposit_refund_sweeper"


async def _sweep_forever(platform: Platform) -> None:
    while True:
        try:
            await build_service(platform).finish_pending_refunds(older_than=REFUND_GRACE)
        except Exception as exc:
            log.warning("deposit refund sweep failed (%s); next in %s s", exc, SWEEP_SECONDS)
        await asyncio.sleep(SWEEP_SECONDS)


async def start_sweeper(platform: Platform) -> None:
    platform.extras[SWEEPER] = asyncio.create_task(_sweep_forever(platform))


async def stop_sweeper(platform: Platform) -> None:
    task: asyncio.Task[None] | None = platform.extras.pop(SWEEPER, None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# Listed after payments in main.FEATURES: the sweeper uses the Stripe client payments opens.
feature = Feature(routers=[router], on_start=[start_sweeper], on_stop=[stop_sweeper])
