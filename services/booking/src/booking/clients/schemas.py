"""What the clients routes accept and answer."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from booking.clients.keys import normalise_phone

EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]


def _check_email(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not EMAIL.match(value):
        raise ValueError("not an email address")
    return value


def _check_phone(value: str) -> str:
    normalise_phone(value)  # raises ValueError with the reason
    return value


Email = Annotated[
    str | None,
    StringConstraints(strip_whitespace=True, max_length=254),
    AfterValidator(_check_email),
]
PhoneText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=40), AfterValidator(_check_phone)
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Phone(Strict):
    number: PhoneText
    sms: bool = False


class Address(Strict):
    street: ShortText | None = None
    city: ShortText | None = None
    region: ShortText | None = None
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] | None = (
        None
    )
    country: ShortText | None = None


class ClientFields(Strict):
    first_name: ShortText | None = None
    last_name: ShortText | None = None
    organization: ShortText | None = None
    email: Email = None
    phones: list[Phone] = Field(default_factory=list, max_length=10)
    address: Address | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    notes: Annotated[str, StringConstraints(max_length=10_000)] | None = None
    marketing_consent: bool = False


class ClientCreate(ClientFields):
    @model_validator(mode="after")
    def _names_something(self) -> ClientCreate:
        if not (self.first_name or self.last_name or self.organization):
            raise ValueError("a client needs a first name, a last name or an organization")
        return self


class ClientUpdate(Strict):
    """Only the fields sent change; `null` clears a field."""

    first_name: ShortText | None = None
    last_name: ShortText | None = None
    organization: ShortText | None = None
    email: Email = None
    phones: list[Phone] | None = Field(default=None, max_length=10)
    address: Address | None = None
    tags: list[Tag] | None = Field(default=None, max_length=50)
    notes: Annotated[str, StringConstraints(max_length=10_000)] | None = None
    marketing_consent: bool | None = None


class ClientOut(BaseModel):
    id: str
    first_name: str | None
    last_name: str | None
    organization: str | None
    email: str | None
    phones: list[Phone]
    address: Address | None
    tags: list[str]
    notes: str | None
    marketing_consent: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> ClientOut:
        return cls.model_validate({**document, "id": document["_id"]})


class ClientPage(BaseModel):
    items: list[ClientOut]
    total: int
    page: int
    page_size: int


class ClientSort(StrEnum):
    last_name = "last_name"
    last_name_desc = "-last_name"
    first_name = "first_name"
    first_name_desc = "-first_name"
    organization = "organization"
    organization_desc = "-organization"
    email = "email"
    email_desc = "-email"
    postal_code = "postal_code"
    postal_code_desc = "-postal_code"
    created_at = "created_at"
    created_at_desc = "-created_at"


class ClientFilter(BaseModel):
    """Search criteria; all given criteria must hold (text matches are case-insensitive)."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    organization: str | None = None
    tags: list[str] = Field(default_factory=list)
    postal_code: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


class MergeRequest(Strict):
    """Merge the client `source_id` into the client in the path."""

    source_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class MergeResult(BaseModel):
    client: ClientOut
    merged_client_id: str
    sessions_moved: int
    payments_moved: int


# The fields an import column can fill.
ImportField = Literal[
    "first_name",
    "last_name",
    "organization",
    "email",
    "phone",
    "phone_sms",
    "mobile",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "tags",
    "notes",
    "marketing_consent",
]
ColumnMapping = Annotated[
    dict[ImportField, Annotated[str, StringConstraints(min_length=1, max_length=200)]],
    Field(min_length=1),
]
TemplateName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class ImportTemplateIn(Strict):
    """`mapping`: client field -> the column header that fills it."""

    mapping: ColumnMapping


class ImportTemplate(BaseModel):
    name: str
    mapping: dict[str, str]
    updated_at: datetime


class FieldProblem(BaseModel):
    field: str
    message: str


class RowOutcome(BaseModel):
    row: int = Field(description="Row number in the file; the header is row 1")
    label: str | None = Field(
        None, description="Who the row is about as the file says it (names, else organization)"
    )
    outcome: Literal["created", "duplicate", "rejected"]
    client_id: str | None = Field(None, description="The client created (real import only)")
    duplicate_of_client: str | None = None
    duplicate_of_row: int | None = None
    matched_on: list[str] = Field(default_factory=list)
    problems: list[FieldProblem] = Field(default_factory=list)


ImportEncoding = Literal["utf-8", "windows-1252", "iso-8859-1", "utf-16"]
ImportDelimiter = Literal[",", ";", "\t", "comma", "semicolon", "tab"]


class ImportSource(BaseModel):
    """How the file was read: found out from its bytes, or as the caller chose."""

    kind: Literal["csv", "xlsx"]
    encoding: str | None = Field(
        None, description="CSV: the text encoding read, e.g. `utf-8-sig` (UTF-8 with a BOM)"
    )
    encoding_label: str | None = Field(None, description='For people: "UTF-8 with BOM"')
    encoding_detected: bool = Field(False, description="Found out from the bytes, not chosen")
    delimiter: str | None = Field(None, description="CSV: the separator, one of , ; or a tab")
    delimiter_label: str | None = Field(None, description='For people: "semicolon (;)"')
    delimiter_detected: bool = False
    columns: list[str] = Field(default_factory=list, description="The header row")


class ImportColumns(BaseModel):
    """The file's columns before any mapping: how it was read, a few rows, and the client
    field each column probably fills (from its header's name)."""

    source: ImportSource
    rows: int = Field(description="Data rows, the header not counted")
    sample: list[list[str]] = Field(description="The first data rows, as read")
    suggested_mapping: dict[str, str] = Field(
        description="client field -> column header, for the headers that name a known field"
    )


class ImportReport(BaseModel):
    dry_run: bool
    source: ImportSource | None = None
    rows: int
    created: int
    duplicates: int
    rejected: int
    outcomes: list[RowOutcome]


class ImportRun(BaseModel):
    """An import running in the background (`POST /clients/imports`) and, once done, its report."""

    import_id: str
    status: Literal["running", "done", "failed", "interrupted"] = Field(
        description="`interrupted`: the process running it stopped (or made no progress for "
        "10 minutes); the rows written so far stay, importing the file again skips them"
    )
    file_name: str | None
    source: ImportSource
    allow_duplicates: bool
    rows: int = Field(description="Data rows in the file")
    rows_done: int
    created: int
    duplicates: int
    rejected: int
    outcomes: list[RowOutcome] = Field(
        description="Once done: every row's outcome for files up to 1,000 rows; for larger "
        "files the duplicate and rejected rows (up to 5,000)"
    )
    outcomes_omitted: int = 0
    error: str | None = None
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None
