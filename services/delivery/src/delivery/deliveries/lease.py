"""A packer's hold on its delivery: short, and renewed while the work goes on.

A packer claims a delivery for `DELIVERY_PACKAGING_LEASE_SECONDS` and renews the claim every
third of that while it packages, so a packer that dies is taken over by another within one
lease, and a long delivery is never taken from a packer that lives. A packer whose claim is
gone (another took the delivery over, its renewals having come too late) or that cannot renew
it before it lapses is told to stop: it stops at its next file or part and removes what it
wrote, and it can neither publish nor fail the delivery (both are conditional on the claim).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from types import TracebackType

from delivery.context import DeliveryContext
from delivery.deliveries.repository import DeliveryRepository

log = logging.getLogger(__name__)


class PackagingLease:
    """`async with PackagingLease(...) as lease:` renews the claim until the block ends;
    `lease.stop` is set when the claim is lost (and when the block ends), for the packing
    thread to check."""

    def __init__(self, ctx: DeliveryContext, delivery_id: str, claim: str) -> None:
        self._repository = DeliveryRepository(ctx.db)
        self._delivery_id = delivery_id
        self._claim = claim
        self._seconds = float(ctx.settings.packaging_lease_seconds)
        # Taken just after the claim was written, so a little later than the claim's own end.
        self._held_until = time.monotonic() + self._seconds
        self.stop = threading.Event()
        self._done = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> PackagingLease:
        self._task = asyncio.create_task(self._keep(), name=f"delivery-lease-{self._delivery_id}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Also tells a packing thread still running (its caller was cancelled) to stop.
        self.stop.set()
        self._done.set()
        if self._task is not None:
            # Let a renewal under way finish rather than cancel it mid-write.
            await asyncio.shield(self._task)

    async def renew(self) -> bool:
        """Renew the claim now; False (and `stop` set) if this attempt no longer holds it."""
        if self.stop.is_set():
            return False
        asked = time.monotonic()
        until = datetime.now(UTC) + timedelta(seconds=self._seconds)
        if await self._repository.renew_claim(self._delivery_id, self._claim, until):
            self._held_until = asked + self._seconds
            return True
        log.warning(
            "delivery %s: packaging attempt %s lost its claim; stopping",
            self._delivery_id,
            self._claim,
        )
        self.stop.set()
        return False

    async def _keep(self) -> None:
        while not self._done.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._seconds / 3):
                    await self._done.wait()
            if self._done.is_set():
                return
            try:
                if not await self.renew():
                    return
            except Exception as exc:
                if time.monotonic() >= self._held_until:
                    log.warning(
                        "delivery %s: the packaging claim could not be renewed in time (%s);"
                        " stopping",
                        self._delivery_id,
                        exc,
                    )
                    self.stop.set()
                    return
                log.warning(
                    "delivery %s: renewing the packaging claim failed (%s)", self._delivery_id, exc
                )
