"""Typed payloads, one module per producing service, shared by producers and consumers.

Within a version only additive, optional fields; anything else is a new `.vN` type.
`CATALOGUE` maps every event type name to its payload model.
"""

from __future__ import annotations

from kit.events.contracts import booking, delivery, notify, render, workflow
from kit.events.envelope import EventPayload


def _collect() -> dict[str, type[EventPayload]]:
    catalogue: dict[str, type[EventPayload]] = {}
    for module in (booking, workflow, render, delivery, notify):
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, EventPayload)
                and "event_type" in vars(value)
            ):
                if value.event_type in catalogue:
                    raise RuntimeError(f"event type {value.event_type} is defined twice")
                catalogue[value.event_type] = value
    return catalogue


CATALOGUE = _collect()
