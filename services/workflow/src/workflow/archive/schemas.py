"""Archives of a session's originals, and the permanent deletion of those originals."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class ArchivedFile(BaseModel):
    folder: str
    source_key: str
    archive_key: str
    size: int
    sha256: str


class FileProblem(BaseModel):
    key: str
    expected_sha256: str
    actual_sha256: str | None


class Archive(BaseModel):
    archive_id: str
    session_id: str
    bucket: str
    prefix: str
    manifest_key: str
    files: list[ArchivedFile]
    verified: bool
    verified_at: datetime
    problems: list[FileProblem]
    created_at: datetime
    created_by: str


class RestoreResult(BaseModel):
    archive_id: str
    restored: list[str]
    problems: list[FileProblem]


class DeletionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    override: bool = False


class DeletionPending(BaseModel):
    """What a confirmation would delete; nothing is deleted until it is confirmed."""

    confirmation_token: str
    session_id: str
    keys: list[str]
    expires_at: datetime
    override: bool


class Deletion(BaseModel):
    session_id: str
    deleted_keys: list[str]
    deleted_at: datetime
    deleted_by: str
    override: bool
