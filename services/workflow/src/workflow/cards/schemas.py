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
]


class PlanWarning(BaseModel):
    kind: WarningKind
    message: str
    files: list[str]
    session_number: str | None = None


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
