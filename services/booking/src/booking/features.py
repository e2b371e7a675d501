"""The booking service's features, each a folder that exports what the app needs.

Every feature package exposes `feature: Feature`; `main.py` assembles them, so adding a
feature touches only its own folder and this list.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from fastapi import APIRouter

from kit.app import Platform
from kit.mongo import IndexSpec


@dataclass(frozen=True)
class Feature:
    routers: Sequence[APIRouter] = ()
    indexes: Sequence[IndexSpec] = ()
    # Collections whose documents carry outbox events (relayed to booking.events).
    outbox_collections: Sequence[str] = ()
    # Background work of the API process (sweepers), started and stopped with it.
    on_start: Sequence[Callable[[Platform], Awaitable[None]]] = ()
    on_stop: Sequence[Callable[[Platform], Awaitable[None]]] = ()
