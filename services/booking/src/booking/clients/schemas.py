"""What the clients routes accept and answer."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
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


# How a client gave or withdrew marketing consent. `staff_entry`: recorded by the studio without
# saying how; `import`: a client import's consent column; `unsubscribe`: the client asked to
# stop (the withdraw action's default).
ConsentMethod = Literal[
    "in_person",
    "paper_form",
    "web_form",
    "online_booking",
    "email",
    "phone",
    "import",
    "unsubscribe",
    "staff_entry",
    "other",
]
ConsentNote = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class ConsentChange(BaseModel):
    """One time marketing consent was given or withdrawn."""

    given: bool
    at: datetime
    method: ConsentMethod
    by: str | None = Field(None, description="The studio user who recorded it (X-User-Id)")
    note: str | None = None


# A moment a person says consent was given may be a little ahead of this server's clock.
CLOCK_SKEW = timedelta(minutes=5)


def _not_in_the_future(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # a time without a zone is taken as UTC
    if value > datetime.now(UTC) + CLOCK_SKEW:
        raise ValueError("consent cannot be given or withdrawn in the future")
    # In UTC and to the millisecond, as BSON keeps it: what is answered is what is read back.
    return value.astimezone(UTC).replace(microsecond=value.microsecond // 1000 * 1000)


ConsentMoment = Annotated[datetime | None, AfterValidator(_not_in_the_future)]
CONSENT_DETAILS = ("marketing_consent_method", "marketing_consent_at", "marketing_consent_note")


class ConsentFields(Strict):
    """How a consent given or withdrawn in the same request came about (all optional)."""

    marketing_consent_method: ConsentMethod | None = Field(
        None, description="How it was given or withdrawn; `staff_entry` when not said"
    )
    marketing_consent_at: ConsentMoment = Field(
        None, description="When (not in the future); now when not said"
    )
    marketing_consent_note: ConsentNote | None = None


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


class ClientFields(ConsentFields):
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


class ClientUpdate(ConsentFields):
    """Only the fields sent change; `null` clears a field. Consent changes are recorded only
    when `marketing_consent` changes (sending the same value again records nothing)."""

    @model_validator(mode="after")
    def _details_with_consent(self) -> ClientUpdate:
        if set(CONSENT_DETAILS) & self.model_fields_set and (
            "marketing_consent" not in self.model_fields_set
        ):
            raise ValueError("say how consent changed together with marketing_consent")
        return self

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
    notes: str | None = Field(description="Staff-only: never shown to the marketing role")
    marketing_consent: bool
    marketing_consent_at: datetime | None = Field(
        None, description="When consent was last given or withdrawn; null: never recorded"
    )
    marketing_consent_method: ConsentMethod | None = None
    marketing_consent_history: list[ConsentChange] = Field(
        default_factory=list, description="Every change, oldest first (the last 50)"
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_document(cls, document: dict[str, Any], *, notes: bool = True) -> ClientOut:
        """The client as answered; `notes=False` leaves the staff-only notes out."""
        out = cls.model_validate({**document, "id": document["_id"]})
        return out if notes else out.model_copy(update={"notes": None})


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
    """Search criteria; all given criteria must hold (text matches ignore case and accents)."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    organization: str | None = None
    tags: list[str] = Field(default_factory=list)
    postal_code: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    marketing_consent: bool | None = None


class ConsentWithdrawal(Strict):
    """The client withdraws marketing consent (unsubscribes)."""

    method: ConsentMethod = "unsubscribe"
    at: ConsentMoment = Field(None, description="When (not in the future); now when not said")
    note: ConsentNote | None = None


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
    "marketing_consent_at",
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
