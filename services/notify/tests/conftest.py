"""Fixtures of the notify tests: the service in-process on a database of its own, a real SMTP
server and the fake SMS gateway (the harness is notify_harness.py)."""

from __future__ import annotations

import contextlib
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from pymongo import AsyncMongoClient

from kit.mongo import Document

# The tests import their harness and fakes from this folder (pytest runs in importlib mode).
sys.path.insert(0, str(Path(__file__).parent))

from notify_harness import Inbox, Notify, started_notify


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on loopback; its inbox collects what notify sends."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
async def notify(
    unique: str, mongo: AsyncMongoClient[Document], smtp: tuple[Inbox, int]
) -> AsyncIterator[Notify]:
    inbox, port = smtp
    async with started_notify(unique, mongo, inbox, port) as harness:
        yield harness


@pytest.fixture
def notify_with(unique: str, mongo: AsyncMongoClient[Document], smtp: tuple[Inbox, int]) -> Any:
    """notify with settings of the test's choosing: `async with notify_with(time_zone=...)`."""
    inbox, port = smtp

    def started(**overrides: Any) -> contextlib.AbstractAsyncContextManager[Notify]:
        return started_notify(unique, mongo, inbox, port, **overrides)

    return started
