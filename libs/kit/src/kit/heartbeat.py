"""A background process's sign of life, for container health checks.

A consumer process or render worker serves no HTTP, so its health is a file it touches every
`INTERVAL` seconds while its event loop runs and its database answers (`STUDIO_HEARTBEAT_FILE`;
unset: no file). The check, from the container:

    python -m kit.heartbeat /tmp/heartbeat      # exit 0 when touched within 3 intervals
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

from kit.app import Platform
from kit.mongo import ping

INTERVAL = 10.0
STALE_AFTER = 3 * INTERVAL
log = logging.getLogger(__name__)


async def _beat(platform: Platform, path: Path) -> None:
    while True:
        try:
            await asyncio.wait_for(ping(platform.db), timeout=INTERVAL / 2)
        except Exception as exc:  # any failure means: no sign of life this time
            log.warning("heartbeat skipped: the database does not answer (%s)", exc)
        else:
            await asyncio.to_thread(path.touch)
        await asyncio.sleep(INTERVAL)


@contextlib.asynccontextmanager
async def heartbeat(platform: Platform, path: str | None) -> AsyncIterator[None]:
    """Touch `path` while the body runs (nothing when `path` is None)."""
    if not path:
        yield
        return
    task = asyncio.create_task(_beat(platform, Path(path)))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def is_alive(path: Path, *, now: float | None = None) -> bool:
    try:
        touched = path.stat().st_mtime
    except FileNotFoundError:
        return False
    return (now if now is not None else time.time()) - touched <= STALE_AFTER


if __name__ == "__main__":
    sys.exit(0 if len(sys.argv) == 2 and is_alive(Path(sys.argv[1])) else 1)
