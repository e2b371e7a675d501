"""Refolding the search keys of clients stored before them (or under an older folding).

Runs in the background of each API process after start: until a client is refolded, search
matches it on its case-folded sort keys as before, so nothing is missed meanwhile, only
accents still count for it. Idempotent and safe on many replicas at once: a client that
changed since it was read keeps the keys its change stored.
"""

from __future__ import annotations

import asyncio
import logging

from booking.clients.repository import ClientRepository
from kit.app import Platform

log = logging.getLogger(__name__)

BATCH = 500


class SearchKeysBackfill:
    def __init__(self) -> None:
        # Each running backfill and what tells it to stop between two clients: cancelling it
        # mid-query would leave its database connection unreturned.
        self._runs: dict[asyncio.Task[int], asyncio.Event] = {}

    async def run(self, repository: ClientRepository, stop: asyncio.Event | None = None) -> int:
        """Refold every client that needs it, in id order, until done or told to stop; how
        many were refolded."""
        refolded = 0
        after = ""
        while not (stop is not None and stop.is_set()) and (
            batch := await repository.without_current_search_keys(after, BATCH)
        ):
            for document in batch:
                if stop is not None and stop.is_set():
                    break
                refolded += await repository.set_search_keys(document)
            after = batch[-1]["_id"]
        if refolded:
            log.info("search keys refolded for %d clients", refolded)
        return refolded

    async def start(self, platform: Platform) -> None:
        repository = ClientRepository(platform.db, lambda *_: None)
        stop = asyncio.Event()
        task = asyncio.create_task(self.run(repository, stop), name="client-search-keys-backfill")
        self._runs[task] = stop
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[int]) -> None:
        self._runs.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            # The next start tries again; search falls back to the sort keys meanwhile.
            log.warning("search keys backfill stopped: %s", task.exception())

    async def stop(self) -> None:
        loop = asyncio.get_running_loop()  # this app's backfill only (tests start many apps)
        runs = [(t, stop) for t, stop in self._runs.items() if t.get_loop() is loop]
        for _, stop in runs:
            stop.set()
        await asyncio.gather(*(t for t, _ in runs), return_exceptions=True)


search_keys_backfill = SearchKeysBackfill()
