"""The dry run of a card import, as a pure function of the card's frames and the sessions.

Frames are taken in capture-time order (EXIF DateTimeOriginal; when any frame lacks one, the
whole card is taken in file-name order, which cameras number sequentially). A RAW+JPEG pair (one
file stem) is one frame. A frame holding a session card switches the target session and is not
imported. After an unknown or cancelled card, frames are left unassigned rather than misfiled.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from kit.mongo import Document
from workflow.cards.schemas import Plan, PlannedSession, PlanWarning


@dataclass
class _Unit:
    stem: str
    files: list[str] = field(default_factory=list)
    capture_time: datetime | None = None
    card: str | None = None
    unreadable_qr: bool = False


def plan_card(
    card_id: str,
    frames: Sequence[Document],
    sessions_by_number: dict[str, Document],
    expected_numbers: Sequence[str] = (),
) -> Plan:
    units: dict[str, _Unit] = {}
    for frame in frames:
        unit = units.setdefault(frame["stem"], _Unit(frame["stem"]))
        unit.files.append(frame["name"])
        if frame.get("capture_time") and (
            unit.capture_time is None or frame["capture_time"] < unit.capture_time
        ):
            unit.capture_time = frame["capture_time"]
        unit.card = unit.card or frame.get("card_session_number")
        unit.unreadable_qr = unit.unreadable_qr or bool(frame.get("unreadable_qr"))
    by_time = all(u.capture_time is not None for u in units.values())
    ordered = sorted(
        units.values(),
        key=lambda u: (
            (u.capture_time or datetime.min, u.stem) if by_time else (datetime.min, u.stem)
        ),
    )

    warnings: list[PlanWarning] = []
    planned: dict[str, PlannedSession] = {}
    assignments: dict[str, str | None] = {}
    unassigned: list[str] = []
    cards: list[str] = []
    current: PlannedSession | None = None
    previous_card: _Unit | None = None
    for unit in ordered:
        if unit.card is not None:
            cards.extend(unit.files)
            if previous_card is not None:
                warnings.append(
                    PlanWarning(
                        kind="card_follows_card",
                        message=(
                            f"Card {previous_card.card} is directly followed by card {unit.card}: "
                            "a missed or blurred card, or a session shot without frames?"
                        ),
                        files=[*previous_card.files, *unit.files],
                        session_number=previous_card.card,
                    )
                )
            previous_card = unit
            session = sessions_by_number.get(unit.card)
            if session is None or session.get("cancelled"):
                kind = "unknown_card" if session is None else "cancelled_card"
                what = "no known session" if session is None else "a cancelled session"
                warnings.append(
                    PlanWarning(
                        kind=kind,
                        message=f"Card {unit.card} names {what}; the frames after it are "
                        "left unassigned.",
                        files=unit.files,
                        session_number=unit.card,
                    )
                )
                current = None
                continue
            current = planned.setdefault(
                session["_id"],
                PlannedSession(
                    session_id=session["_id"],
                    session_number=unit.card,
                    card_files=[],
                    frames=0,
                    files=[],
                ),
            )
            current.card_files.extend(unit.files)
            continue
        previous_card = None
        if unit.unreadable_qr:
            warnings.append(
                PlanWarning(
                    kind="unreadable_qr",
                    message="A QR code here could not be read: a blurred card?",
                    files=unit.files,
                )
            )
        if current is None:
            unassigned.extend(unit.files)
            for name in unit.files:
                assignments[name] = None
            continue
        current.frames += 1
        current.files.extend(unit.files)
        for name in unit.files:
            assignments[name] = current.session_id
    if unassigned:
        warnings.append(
            PlanWarning(
                kind="unassigned_frames",
                message=f"{len(unassigned)} file(s) have no session: before the first card, "
                "or after an unknown or cancelled card.",
                files=unassigned,
            )
        )
    seen_numbers = {p.session_number for p in planned.values()}
    for entry in planned.values():
        if entry.frames == 0:
            warnings.append(_zero(entry.session_number, entry.card_files))
    for number in expected_numbers:
        if number not in seen_numbers:
            warnings.append(_zero(number, []))
    return Plan(
        card_id=card_id,
        ordering="capture_time" if by_time else "file_name",
        sessions=list(planned.values()),
        unassigned=unassigned,
        cards_not_imported=cards,
        warnings=warnings,
        assignments=assignments,
        plan_hash=hashlib.sha256(json.dumps(assignments, sort_keys=True).encode()).hexdigest()[:32],
    )


def _zero(number: str, files: list[str]) -> PlanWarning:
    return PlanWarning(
        kind="zero_frames",
        message=f"Session {number} got no frames: a missed or blurred card?",
        files=files,
        session_number=number,
    )
