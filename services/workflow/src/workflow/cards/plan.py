"""The dry run of a card import, as a pure function of the card's frames and the sessions.

Frames are taken in capture-time order (EXIF DateTimeOriginal; when any frame lacks one, the
whole card is taken in file-name order, which cameras number sequentially, with a warning). A
RAW+JPEG pair (one file stem) is one frame. A frame holding a session card switches the target
session and is not imported.

No frame is filed silently where it may not belong: frames before the first card, after a card
of an unknown or cancelled session and after a card that could not be read (a QR code seen but
not decoded: a blurred card) get no session until the studio names one in the commit's
corrections, each with its reason. Frames that are filed but at risk are named in a warning: the
frames after a card that directly follows another card (whose frames are they?) and after a card
read again once another session's card came in between (a retake, or the wrong card held up?).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from kit.mongo import Document
from workflow.cards.schemas import (
    Plan,
    PlannedSession,
    PlanWarning,
    UnplannedFrame,
    UnplannedReason,
)


@dataclass
class _Unit:
    stem: str
    files: list[str] = field(default_factory=list)
    capture_time: datetime | None = None
    card: str | None = None
    unreadable_qr: bool = False


@dataclass
class _Hold:
    """Why the frames met now get no session, and the warning that names them."""

    reason: UnplannedReason
    message: str
    after: list[str]
    warning: PlanWarning


def _units(frames: Sequence[Document]) -> list[_Unit]:
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
    return list(units.values())


def _count(n: int) -> str:
    return f"{n} frame" if n == 1 else f"{n} frames"


def plan_card(
    card_id: str,
    frames: Sequence[Document],
    sessions_by_number: dict[str, Document],
    expected_numbers: Sequence[str] = (),
) -> Plan:
    units = _units(frames)
    by_time = all(u.capture_time is not None for u in units)
    ordered = sorted(
        units,
        key=lambda u: (
            (u.capture_time or datetime.min, u.stem) if by_time else (datetime.min, u.stem)
        ),
    )

    warnings: list[PlanWarning] = []
    planned: dict[str, PlannedSession] = {}
    assignments: dict[str, str | None] = {}
    unplanned: list[UnplannedFrame] = []
    cards: list[str] = []
    untimed = [name for u in units if u.capture_time is None for name in u.files]
    if not by_time and len(untimed) < sum(len(u.files) for u in units):
        warnings.append(
            PlanWarning(
                kind="file_name_order",
                message=f"{len(untimed)} file(s) have no capture time, so the whole card is "
                "taken in file-name order: check the frames where the camera's numbering "
                "restarted or two cameras share the card.",
                files=untimed,
            )
        )
    # A warning's words once the frames after its card are known: frame count -> message.
    wording: dict[int, Callable[[int], str]] = {}
    before = PlanWarning(kind="before_first_card", message="", files=[])
    warnings.append(before)
    wording[id(before)] = lambda n: (
        f"{_count(n)} come before the first card: they get no session until you choose one."
    )
    hold: _Hold | None = _Hold("before_first_card", "comes before the first card", [], before)
    current: PlannedSession | None = None
    # The frames after a card that directly follows another card, or that is read again,
    # are named in that warning too (filed or not).
    at_risk: PlanWarning | None = None
    previous_card: _Unit | None = None
    last_number: str | None = None
    seen_numbers: set[str] = set()
    for unit in ordered:
        if unit.card is not None:
            cards.extend(unit.files)
            at_risk = None
            session = sessions_by_number.get(unit.card)
            if previous_card is not None and previous_card.card != unit.card:
                at_risk = PlanWarning(
                    kind="card_follows_card",
                    message="",
                    files=[*previous_card.files, *unit.files],
                    session_number=previous_card.card,
                )
                warnings.append(at_risk)
                wording[id(at_risk)] = _follows_card(str(previous_card.card), unit.card, session)
            elif (
                unit.card in seen_numbers
                and unit.card != last_number
                and session is not None
                and not session.get("cancelled")
            ):
                at_risk = PlanWarning(
                    kind="card_read_again",
                    message="",
                    files=list(unit.files),
                    session_number=unit.card,
                )
                warnings.append(at_risk)
                wording[id(at_risk)] = _read_again(str(last_number), unit.card)
            previous_card = unit
            last_number = unit.card
            seen_numbers.add(unit.card)
            if session is None or session.get("cancelled"):
                known = session is not None
                warning = PlanWarning(
                    kind="cancelled_card" if known else "unknown_card",
                    message="",
                    files=list(unit.files),
                    session_number=unit.card,
                )
                warnings.append(warning)
                wording[id(warning)] = _no_session(unit.card, known)
                hold = _Hold(
                    "follows_cancelled_card" if known else "follows_unknown_card",
                    f"follows the card of cancelled session {unit.card}"
                    if known
                    else f"follows card {unit.card}, which names no known session",
                    list(unit.files),
                    warning,
                )
                current = None
                continue
            hold = None
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
            # Most likely the next person's card, blurred: whoever it was, the frames after it
            # are not the previous session's by default.
            at_risk = None
            current = None
            warnings.append(
                PlanWarning(
                    kind="unreadable_qr",
                    message=f"A QR code in {unit.files[0]} could not be read: a blurred session "
                    "card? It and the frames after it get no session until you choose one.",
                    files=list(unit.files),
                )
            )
            follows = PlanWarning(kind="follows_unreadable_card", message="", files=[])
            warnings.append(follows)
            wording[id(follows)] = lambda n: (
                f"{_count(n)} follow an unreadable card: they get no session until you choose one."
            )
            hold = _Hold(
                "follows_unreadable_card",
                f"follows an unreadable card ({unit.files[0]})",
                list(unit.files),
                follows,
            )
            for name in unit.files:
                assignments[name] = None
                unplanned.append(
                    UnplannedFrame(
                        name=name,
                        reason="unreadable_card",
                        message="shows a QR code that could not be read (a blurred card?)",
                    )
                )
            continue
        if current is None:
            assert hold is not None
            for name in unit.files:
                assignments[name] = None
                unplanned.append(
                    UnplannedFrame(
                        name=name, reason=hold.reason, message=hold.message, after=hold.after
                    )
                )
            hold.warning.frames.extend(unit.files)
            if at_risk is not None:
                at_risk.frames.extend(unit.files)
            continue
        current.frames += 1
        current.files.extend(unit.files)
        for name in unit.files:
            assignments[name] = current.session_id
        if at_risk is not None:
            at_risk.frames.extend(unit.files)

    for warning in warnings:
        if warning.kind in ("before_first_card", "follows_unreadable_card"):
            warning.files = list(warning.frames)
        if id(warning) in wording:
            warning.message = wording[id(warning)](len(warning.frames))
    warnings = [w for w in warnings if w.files]
    for entry in planned.values():
        if entry.frames == 0:
            warnings.append(_zero(entry.session_number, entry.card_files))
    planned_numbers = {p.session_number for p in planned.values()}
    for number in expected_numbers:
        if number not in planned_numbers:
            warnings.append(_zero(number, []))
    return Plan(
        card_id=card_id,
        ordering="capture_time" if by_time else "file_name",
        sessions=list(planned.values()),
        unassigned=[u.name for u in unplanned],
        unplanned=unplanned,
        cards_not_imported=cards,
        warnings=warnings,
        assignments=assignments,
        plan_hash=hashlib.sha256(json.dumps(assignments, sort_keys=True).encode()).hexdigest()[:32],
    )


def _no_session(number: str, cancelled: bool) -> Callable[[int], str]:
    what = "a cancelled session" if cancelled else "no known session"
    return lambda n: (
        f"Card {number} names {what}: the {_count(n)} after it get no session until you choose one."
    )


def _follows_card(first: str, second: str, session: Document | None) -> Callable[[int], str]:
    filed = session is not None and not session.get("cancelled")
    into = f"are planned into session {second}" if filed else "get no session"
    return lambda n: (
        f"Card {first} is directly followed by card {second}: a missed or blurred card, or a "
        f"session shot without frames? The {_count(n)} after card {second} {into}; check "
        f"they are not {first}'s."
    )


def _read_again(before: str, number: str) -> Callable[[int], str]:
    return lambda n: (
        f"Card {number} is read again after card {before}: the {_count(n)} after it are "
        f"planned into session {number} again. A retake, or the wrong card held up? Check them."
    )


def _zero(number: str, files: list[str]) -> PlanWarning:
    return PlanWarning(
        kind="zero_frames",
        message=f"Session {number} got no frames: a missed or blurred card?",
        files=files,
        session_number=number,
    )
