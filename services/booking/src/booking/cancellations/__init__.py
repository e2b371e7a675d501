"""Cancellations: the deposit policy on a cancellation, the cut-off of clients' links, and
reopening a session cancelled by mistake."""

from __future__ import annotations

from datetime import timedelta

from booking.cancellations.router import build_service, router
from booking.features import Feature
from kit.app import Platform
from kit.periodic import Periodic

SWEEP_SECONDS = 30.0
# A refund a cancellation decided is normally done within the same request; one older than
# this was left by a crash or a restart.
REFUND_GRACE = timedelta(minutes=2)
SWEEPER = "deposit_refund_sweeper"


async def start_sweeper(platform: Platform) -> None:
    async def finish_refunds() -> None:
        await build_service(platform).finish_pending_refunds(older_than=REFUND_GRACE)

    sweeper = Periodic("deposit refund sweep", finish_refunds, SWEEP_SECONDS)
    sweeper.start()
    platform.extras[SWEEPER] = sweeper


async def stop_sweeper(platform: Platform) -> None:
    sweeper: Periodic | None = platform.extras.pop(SWEEPER, None)
    if sweeper is not None:
        await sweeper.stop()


# Listed after payments in main.FEATURES: the sweeper uses the Stripe client payments opens.
feature = Feature(routers=[router], on_start=[start_sweeper], on_stop=[stop_sweeper])
