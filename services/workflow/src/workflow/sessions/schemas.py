"""A session's workflow record, as the API shows it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from workflow.tracking.schemas import CurrentStatus, HistoryEntry, StatusChangeRequest


class SessionWorkflow(BaseModel):
    session_id: str
    session_number: str
    client_id: str | None
    client_name: str | None = None
    session_type_id: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    resource_ids: list[str]
    location: str | None
    cancelled: bool
    closed: bool
    version: int
    status: CurrentStatus
    archived: bool = False
    images_deleted: bool = False


class SessionHistory(BaseModel):
    session_id: str
    history: list[HistoryEntry]


class BulkAdvanceRequest(BaseModel):
    """Advance many sessions of one type, each to its next status or all to one status."""

    model_config = ConfigDict(extra="forbid")

    session_type_id: str = Field(min_length=1, max_length=100)
    session_ids: list[str] = Field(min_length=1, max_length=500)
    to_status_id: str | None = Field(default=None, min_length=1, max_length=100)
    note: str | None = Field(default=None, max_length=2000)
    result: str | None = Field(default=None, max_length=500)

    def change_for_each(self) -> StatusChangeRequest:
        return StatusChangeRequest(
            to_status_id=self.to_status_id, note=self.note, result=self.result
        )


class BulkFailure(BaseModel):
    session_id: str
    error: str
    message: str


class BulkAdvanceResult(BaseModel):
    advanced: list[SessionWorkflow]
    failed: list[BulkFailure]
