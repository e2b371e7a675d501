"""A consumer process's or render worker's sign of life for container health checks: the file
is touched while the database answers, not when it does not, and `python -m kit.heartbeat`
judges it by its age."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, cast

from kit import heartbeat as beating
from kit.app import Platform
from kit.mongo import connect_mongo
from kit.settings import InfraSettings


class _Away:
    """A database that never answers (a ping fails at once)."""

    async def command(self, *_: Any, **__: Any) -> Any:
        raise ConnectionError("database away")


def _check(path: Path) -> int:
    return subprocess.run(
        [sys.executable, "-m", "kit.heartbeat", str(path)], check=False, timeout=30
    ).returncode


async def test_the_heartbeat_beats_while_the_database_answers_and_the_check_judges_its_age(
    tmp_path: Path,
) -> None:
    mongo = connect_mongo(InfraSettings().mongo_url, app_name="heartbeat-test")
    alive = tmp_path / "alive"
    away = tmp_path / "away"
    try:
        platform = cast(Platform, type("P", (), {"db": mongo["heartbeat_test"]})())
        stranded = cast(Platform, type("P", (), {"db": _Away()})())
        async with beating.heartbeat(platform, str(alive)), beating.heartbeat(stranded, str(away)):
            for _ in range(100):
                if alive.exists():
                    break
                await asyncio.sleep(0.1)
        async with beating.heartbeat(platform, None):
            pass  # no file named: nothing runs
    finally:
        await mongo.close()

    fresh = _check(alive)
    old = time.time() - beating.STALE_AFTER - 5
    os.utime(alive, (old, old))
    stale = _check(alive)

    assert fresh == 0
    assert not away.exists()  # no sign of life while the database does not answer
    assert _check(away) == 1
    assert stale == 1
    assert _check(tmp_path / "never") == 1
