"""QR cards, card frames, the dry-run plan and the commit."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from workflow.images.schemas import ImportOptions, ImportReport


class CardsRequest(BaseModel):
    session_ids: list[str] = Field(min_length=1, max_length=500)
    # Client id -> the name to print, overriding the name booking's session events carried
    # (the client id is printed when neither knows a name).
    client_names: dict[str, str] = Field(default_factory=dict)


class Card(BaseModel):
    card_id: str
    label: str | None = None
    created_at: datetime
    frames: int
    bytes: int


class CardDraft(BaseModel):
    label: str | None = Field(default=None, max_length=200)


class StagedFrame(BaseModel):
    name: str
    outcome: Literal["staged", "skipped", "rejected"]
    reason: str | None = None
    size: int
    sha256: str | None = None
    card_session_number: str | None = None


class StagingReport(BaseModel):
    card_id: str
    staged: int
    skipped: int
    rejected: int
    files: list[StagedFrame]
    seconds_scanning: float
    frames_per_second: float | None


WarningKind = Literal[
    "unassigned_frames",
    "unknown_card",
    "cancelled_card",
    "zero_frames",
    "card_follows_card",
    "unreadable_qr",
    "follows_unreadable_card",
    "before_first_card",
    "card_read_again",
    "file_name_order",
]
# Why a frame gets no session in the dry run (until a correction names one).
UnplannedReason = Literal[
    "before_first_card",
    "follows_unknown_card",
    "follows_cancelled_card",
    "unreadable_card",
    "follows_unreadable_card",
]


class PlanWarning(BaseModel):
    kind: WarningKind
    message: str
    # The files the warning is about: cards for card warnings, frames otherwise.
    files: list[str]
    session_number: str | None = None
    # The frames at risk of being misfiled (planned, or left without a session), when the
    # warning is about a card and the frames after it.
    frames: list[str] = Field(default_factory=list)


class UnplannedFrame(BaseModel):
    """A frame the dry run files under no session, and why, in words a studio reads."""

    name: str
    reason: UnplannedReason
    message: str
    # The card (or unreadable card) frame(s) it follows; empty before the first card.
    after: list[str] = Field(default_factory=list)


class PlannedSession(BaseModel):
    session_id: str
    session_number: str
    card_files: list[str]
    frames: int
    files: list[str]


class Plan(BaseModel):
    card_id: str
    ordering: Literal["capture_time", "file_name"]
    sessions: list[PlannedSession]
    unassigned: list[str]
    # Every unassigned frame with its reason, in shooting order.
    unplanned: list[UnplannedFrame] = Field(default_factory=list)
    cards_not_imported: list[str]
    warnings: list[PlanWarning]
    assignments: dict[str, str | None]
    # Fingerprint of the assignments: a commit naming it imports exactly what was shown.
    plan_hash: str


class CommitRequest(BaseModel):
    # file name -> session id to file it under, or null to leave it out.
    corrections: dict[str, str | None] = Field(default_factory=dict)
    # The dry run's plan_hash: the card must still plan the same (else 409) before corrections.
    plan_hash: str | None = None
    options: ImportOptions = Field(default_factory=ImportOptions)


class CommitResult(BaseModel):
    card_id: str
    imports: list[ImportReport]
    left_out: list[str]
