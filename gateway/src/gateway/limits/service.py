"""Rate limits on login, PIN attempts and public booking, per address and per account.

Fixed windows: the first attempt of a window creates its counter; once the count passes the
limit the caller gets 429 with Retry-After until the window ends.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass

from pymongo.asynchronous.database import AsyncDatabase

from gateway.limits.repository import AttemptRepository
from kit.errors import TooManyRequests
from kit.mongo import Document

_CLEANUP_CHANCE = 0.01


@dataclass(frozen=True)
class Limit:
    name: str
    attempts: int
    window_seconds: int


class RateLimiter:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._attempts = AttemptRepository(db)

    async def hit(self, limit: Limit, scope: str, key: str) -> None:
        """Count one attempt of `key` (an address or an account); 429 once over the limit."""
        now = dt.datetime.now(dt.UTC)
        epoch = now.timestamp()
        window_start = math.floor(epoch / limit.window_seconds) * limit.window_seconds
        window_ends = dt.datetime.fromtimestamp(window_start + limit.window_seconds, dt.UTC)
        count = await self._attempts.count(
            f"{limit.name}:{scope}:{key}:{window_start}", window_ends
        )
        if random.random() < _CLEANUP_CHANCE:
            await self._attempts.forget_before(now)
        if count > limit.attempts:
            raise TooManyRequests(
                f"Too many {limit.name} attempts; try again later.",
                retry_after_seconds=math.ceil(window_start + limit.window_seconds - epoch),
                detail={"limit": limit.name, "per": scope},
            )
