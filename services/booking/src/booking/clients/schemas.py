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
    outcome: Literal["created", "duplicate", "rejected"]
    client_id: str | None = Field(None, description="The client created (real import only)")
    duplicate_of_client: str | None = None
    duplicate_of_row: int | None = None
    matched_on: list[str] = Field(default_factory=list)
    problems: list[FieldProblem] = Field(default_factory=list)


class ImportReport(BaseModel):
    dry_run: bool
    rows: int
    created: int
    duplicates: int
    rejected: int
    outcomes: list[RowOutcome]
