"""The booking service's features, each a folder that exports what the app needs.

Every feature package exposes `feature: Feature`; `main.py` assembles them, so adding a
feature touches only its own folder and this list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from fastapi import APIRouter

from kit.mongo import IndexSpec


@dataclass(frozen=True)
class Feature:
    routers: Sequence[APIRouter] = ()
    indexes: Sequence[IndexSpec] = ()
    # Collections whose documents carry outbox events (relayed to booking.events).
    outbox_collections: Sequence[str] = ()
    collections: Sequence[str] = field(default_factory=tuple)
