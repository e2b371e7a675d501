"""Status changes of tracked entities (sessions, invoices, production orders)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class StatusChangeRequest(BaseModel):
    """Move an entity to `to_status_id`, or to the next status by sort order when omitted."""

    model_config = ConfigDict(extra="forbid")

    to_status_id: str | None = Field(default=None, min_length=1, max_length=100)
    note: str | None = Field(default=None, max_length=2000)
    result: str | None = Field(
        default=None, max_length=500, description="Why the status changed (the step's result)."
    )
    expected_version: int | None = Field(
        default=None,
        ge=0,
        description="The version the caller saw; a different current version answers 409.",
    )
    due_date: date | None = Field(
        default=None,
        description="When the new status is due (overdue from the day after); by default its "
        "duration in business days from now. Not today's past, not for a final status.",
    )


class HistoryEntry(BaseModel):
    from_status_id: str | None
    from_status_name: str | None
    to_status_id: str
    to_status_name: str
    completed_at: datetime
    due_at: datetime | None
    changed_by: str
    note: str | None = None
    result: str | None = None
    version: int


class CurrentStatus(BaseModel):
    id: str
    name: str
    stage: str
    since: datetime
    due_at: datetime | None
    overdue: bool
