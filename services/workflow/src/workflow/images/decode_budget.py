"""How many decoded pixels the workflow process holds at once, across all imports.

Checking a file decodes it whole (a 196-megapixel PNG is about 600 MB of RGB), and imports
check several files at once, from several requests: without a bound, four such files took the
process to 3 GB. Each decode first takes its pixels from one process-wide budget and gives them
back when done; a decode that does not fit waits. A file larger than the whole budget decodes
alone, so nothing the pixel limit accepts is refused for memory.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class PixelBudget:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._used = 0
        self._cond = threading.Condition()
        # The most pixels held at once since the start (what the tests and /metrics read).
        self.peak = 0

    @contextmanager
    def hold(self, pixels: int) -> Iterator[None]:
        """Hold `pixels` of the budget while decoding (blocks the calling thread until free)."""
        wanted = max(1, min(pixels, self.capacity))
        with self._cond:
            self._cond.wait_for(lambda: self._used + wanted <= self.capacity)
            self._used += wanted
            self.peak = max(self.peak, self._used)
        try:
            yield
        finally:
            with self._cond:
                self._used -= wanted
                self._cond.notify_all()


_BUDGETS: dict[int, PixelBudget] = {}
_LOCK = threading.Lock()


def budget_of(capacity: int) -> PixelBudget:
    """The process's budget of `capacity` pixels (one per setting value, made on first use)."""
    with _LOCK:
        budget = _BUDGETS.get(capacity)
        if budget is None:
            budget = _BUDGETS[capacity] = PixelBudget(capacity)
        return budget
