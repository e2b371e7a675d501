"""The default pipelines (ARCHITECTURE.md), seeded once; studios edit them afterwards."""

from __future__ import annotations

from kit.events.contracts.workflow import EntityKind
from workflow.statuses.schemas import StatusDefinition

# name, stage, business days, extra flags
_SESSION: list[tuple[str, str, int, dict[str, object]]] = [
    ("Session Pending", "capture", 0, {"initial": True}),
    ("Capture Images Pending", "capture", 1, {}),
    ("Edits Pending", "present", 3, {}),
    ("Presentation Pending", "present", 5, {}),
    ("Retouch Pending", "produce", 5, {}),
    ("Upload Pending", "produce", 1, {}),
    ("Production Pending", "produce", 10, {}),
    ("Delivery Pending", "deliver", 3, {}),
    ("Archive Pending", "archive", 20, {}),
    ("Delete Images Pending", "delete", 60, {}),
    ("Session Closed", "delete", 0, {"final": True}),
    ("Session Cancelled", "archive", 0, {"final": True, "role": "cancelled"}),
]
_INVOICE: list[tuple[str, str, int, dict[str, object]]] = [
    ("Order Entered", "present", 2, {"initial": True}),
    ("Paid", "produce", 1, {"role": "paid"}),
    ("Sent to Lab", "produce", 7, {}),
    ("Received from Lab", "produce", 2, {}),
    ("Ready for Pickup", "deliver", 10, {}),
    ("Delivered", "deliver", 0, {"final": True}),
]
_PRODUCTION: list[tuple[str, str, int, dict[str, object]]] = [
    ("Order Entered", "produce", 1, {"initial": True}),
    ("Sent to Lab", "produce", 7, {}),
    ("Received from Lab", "produce", 2, {}),
    ("Ready for Pickup", "deliver", 10, {}),
    ("Delivered", "deliver", 0, {"final": True}),
]
_SLUG = {"session": "session", "invoice": "invoice", "production_order": "production"}


def default_statuses() -> list[StatusDefinition]:
    pipelines: list[tuple[EntityKind, list[tuple[str, str, int, dict[str, object]]]]] = [
        ("session", _SESSION),
        ("invoice", _INVOICE),
        ("production_order", _PRODUCTION),
    ]
    statuses = []
    for kind, steps in pipelines:
        for position, (name, stage, days, flags) in enumerate(steps, start=1):
            statuses.append(
                StatusDefinition.model_validate(
                    {
                        "id": f"default-{_SLUG[kind]}-{position:02d}",
                        "kind": kind,
                        "name": name,
                        "sort_order": position * 10 if flags.get("role") != "cancelled" else 900,
                        "stage": stage,
                        "duration_days": days,
                        **flags,
                    }
                )
            )
    return statuses
