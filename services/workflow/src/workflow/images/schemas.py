"""What an import takes and answers, and an image's metadata."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

ImportFolder = Literal["hires", "raw"]
Outcome = Literal["stored", "skipped", "rejected"]


def _hires_only() -> list[ImportFolder]:
    return ["hires"]


class ImportOptions(BaseModel):
    """Per-import choices, sent as the JSON form field `options` beside the files."""

    # Where JPEG/PNG/TIFF files go (one or both), and where camera RAW files go.
    image_folders: list[ImportFolder] = Field(default_factory=_hires_only, min_length=1)
    raw_folder: ImportFolder = "raw"
    # keep: the original name; session_prefix: `<session number>-<original>`;
    # renumber: `<session number>-<n>` from `renumber_from` (a RAW+JPEG pair shares its number).
    rename: Literal["keep", "session_prefix", "renumber"] = "keep"
    renumber_from: int = Field(default=1, ge=0, le=10_000_000)
    renumber_digits: int = Field(default=4, ge=1, le=9)
    # Which part of the original name (without extension) holds the image number:
    # first N characters, last N, from position N (1-based), or the whole name.
    number_rule: Literal["first", "last", "from", "whole"] = "whole"
    number_n: int = Field(default=1, ge=1, le=200)
    keywords: list[str] = Field(default_factory=list, max_length=100)


class ImportedFile(BaseModel):
    """One file of an import: what it was, what became of it, and why."""

    original_name: str
    outcome: Outcome
    reason: str | None = None
    image_id: str | None = None
    stored_as: list[str] = Field(default_factory=list)
    number: int | None = None
    size: int
    sha256: str | None = None


class ImportReport(BaseModel):
    import_id: str
    session_id: str
    stored: int
    skipped: int
    rejected: int
    bytes_stored: int
    files: list[ImportedFile]


class Preview(BaseModel):
    key: str
    width: int
    height: int


class Retouched(BaseModel):
    """A retouched version of an image (in `retouched/`), which renders use instead of it."""

    key: str
    original_name: str
    content_type: str
    size: int
    sha256: str
    width: int | None = None
    height: int | None = None
    uploaded_at: datetime
    uploaded_by: str


class Image(BaseModel):
    image_id: str
    session_id: str
    original_name: str
    name: str
    stem: str
    kind: Literal["image", "raw"]
    content_type: str
    keys: dict[str, str]
    number: int | None = None
    size: int
    sha256: str
    width: int | None = None
    height: int | None = None
    keywords: list[str] = Field(default_factory=list)
    selection: Literal["selected", "not_selected", "undecided"] = "undecided"
    stars: int = 0
    preview: Preview | None = None
    preview_failure: str | None = None
    retouched: Retouched | None = None
    import_id: str
    imported_at: datetime
    imported_by: str


class UploadRequest(BaseModel):
    """Files to upload straight to storage (presigned PUT), then import by `upload_id`."""

    names: list[str] = Field(min_length=1, max_length=500)
    expires_in: int = Field(default=3600, ge=60, le=24 * 3600)


class PresignedUpload(BaseModel):
    name: str
    url: str | None
    method: Literal["PUT"] = "PUT"
    reason: str | None = None


class UploadBatch(BaseModel):
    upload_id: str
    session_id: str
    expires_in: int
    files: list[PresignedUpload]


class UploadedImport(BaseModel):
    upload_id: str
    options: ImportOptions = Field(default_factory=ImportOptions)
