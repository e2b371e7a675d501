"""Background work an API or consumer process repeats (sweeps), started and stopped with it.

Stopping lets the pass under way finish (up to a grace period) instead of cancelling it: a
database call cancelled half-way leaves its connection unreturned to the pool (pymongo then
warns of an unclosed socket when it is collected).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)


class Periodic:
    """`work` every `seconds` until stopped; a pass that raises is logged and tried again."""

    def __init__(
        self,
        name: str,
        work: Callable[[], Awaitable[Any]],
        seconds: float,
        *,
        grace_seconds: float = 10.0,
    ) -> None:
        self.name = name
        self._work = work
        self._seconds = seconds
        self._grace = grace_seconds
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self._work()
            except Exception as exc:
                log.warning("%s failed (%s); next in %s s", self.name, exc, self._seconds)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._seconds)

    async def stop(self) -> None:
        """Ask the loop to end after its pass, wait for it; cancel it after the grace."""
        self._stop.set()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), self._grace)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
