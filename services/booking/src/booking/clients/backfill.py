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
        self._tasks: set[asyncio.Task[int]] = set()

    async def run(self, repository: ClientRepository) -> int:
        """Refold every client that needs it, in id order; how many were refolded."""
        refolded = 0
        after = ""
        while batch := await repository.without_current_search_keys(after, BATCH):
            for document in batch:
                refolded += await repository.set_search_keys(document)
            after = batch[-1]["_id"]
        if refolded:
            log.info("search keys refolded for %d clients", refolded)
        return refolded

    async def start(self, platform: Platform) -> None:
        repository = ClientRepository(platform.db, lambda *_: None)
        task = asyncio.create_task(self.run(repository), name="client-search-keys-backfill")
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[int]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # The next start tries again; search falls back to the sort keys meanwhile.
            log.warning("search keys backfill stopped: %s", task.exception())

    async def stop(self) -> None:
        loop = asyncio.get_running_loop()  # this app's task only (tests start many apps)
        tasks = [t for t in self._tasks if t.get_loop() is loop]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


search_keys_backfill = SearchKeysBackfill()
