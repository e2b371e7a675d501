"""What the scheduling routes take and answer."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from booking.scheduling.calendar import GRANULE_MINUTES

ResourceKind = Literal["photographer", "room", "camera"]
# `reopening`: a cancelled session whose slot is being claimed again by the studio (a moment).
SessionState = Literal["pending", "held", "booked", "cancelled", "expired", "reopening"]
DepositPolicyKind = Literal["keep", "refund", "refund_before"]
DepositOutcomeKind = Literal["pending", "kept", "refunded", "none", "failed"]


def _granular(minutes: int) -> int:
    if minutes % GRANULE_MINUTES:
        raise ValueError(f"must be a multiple of {GRANULE_MINUTES} minutes")
    return minutes


def _currency(code: str) -> str:
    if not re.fullmatch(r"[A-Za-z]{3}", code):
        raise ValueError("must be a three-letter ISO 4217 code")
    return code.lower()


Minutes = Annotated[int, Field(ge=0, le=24 * 60), AfterValidator(_granular)]
Currency = Annotated[str, AfterValidator(_currency)]
Colour = Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SessionTypeIn(Strict):
    name: str = Field(min_length=1, max_length=120)
    duration_minutes: Minutes = Field(gt=0)
    buffer_after_minutes: Minutes = 0
    start_every_minutes: Minutes = Field(default=30, gt=0)
    # At most Stripe's largest charge (999,999.99 in a two-decimal currency); an amount past
    # 64 bits could not even be stored (a 500, found by `make fuzz`).
    deposit_minor: int = Field(default=0, ge=0, le=99_999_999)
    currency: Currency = "usd"
    colour: Colour = "#4a90d9"
    bookable_online: bool = False
    online_description: str | None = Field(default=None, max_length=4000)
    # The resources that can hold a session of this type; online booking picks a free one.
    resource_ids: list[str] = Field(default_factory=list)
    active: bool = True


class SessionType(SessionTypeIn):
    id: str


class ResourceIn(Strict):
    name: str = Field(min_length=1, max_length=120)
    kind: ResourceKind
    active: bool = True


class Resource(ResourceIn):
    id: str


class OpeningHoursIn(Strict):
    """Weekly opening hours for one or more resources (one rule per resource is stored)."""

    resource_ids: list[str] = Field(min_length=1)
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(min_length=1)
    opens: time
    closes: time
    valid_from: date
    valid_until: date | None = None

    @model_validator(mode="after")
    def _order(self) -> OpeningHoursIn:
        if self.opens >= self.closes:
            raise ValueError("opens must be before closes")
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise ValueError("valid_until must not be before valid_from")
        return self


class OpeningHours(Strict):
    id: str
    resource_id: str
    weekdays: list[int]
    opens: time
    closes: time
    valid_from: date
    valid_until: date | None


class ClosureIn(Strict):
    """A holiday or other closure; without `resource_id` the whole studio is closed."""

    resource_id: str | None = None
    first_day: date
    last_day: date
    reason: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _order(self) -> ClosureIn:
        if self.last_day < self.first_day:
            raise ValueError("last_day must not be before first_day")
        return self


class Closure(ClosureIn):
    id: str


class BookSession(Strict):
    client_id: str
    session_type_id: str
    starts_at: AwareDatetime
    # Empty: the first free resource among the session type's.
    resource_ids: list[str] = Field(default_factory=list)
    location: str | None = Field(default=None, max_length=300)
    notes: str | None = Field(default=None, max_length=4000)
    # Staff may book outside the opening hours (never over another booking).
    outside_hours: bool = False


class Reschedule(Strict):
    starts_at: AwareDatetime
    resource_ids: list[str] = Field(default_factory=list)
    # The version the caller saw; a change made meanwhile answers 409.
    version: int = Field(ge=0, le=2**53)
    outside_hours: bool = False


class Cancel(Strict):
    reason: str = Field(min_length=1, max_length=500)
    # What happens to a paid deposit: the studio's policy (as for a client's cancellation),
    # or the studio decides this once. Whatever happens is recorded on the session.
    deposit: Literal["policy", "keep", "refund"] = "policy"


class Reopen(Strict):
    """Reinstate a session cancelled by mistake; without `starts_at` in its old slot."""

    reason: str = Field(min_length=1, max_length=500)
    starts_at: AwareDatetime | None = None
    resource_ids: list[str] = Field(default_factory=list)
    # The version the caller saw; a change made meanwhile answers 409.
    version: int = Field(ge=0, le=2**53)
    outside_hours: bool = False


class DepositOutcome(BaseModel):
    """What became of a session's deposit when it was cancelled (never silently kept)."""

    outcome: DepositOutcomeKind
    policy: str
    reason: str
    payment_id: str | None = None
    amount_minor: int = 0
    refund_id: str | None = None
    decided_at: datetime


class Reopened(BaseModel):
    by: str
    reason: str
    at: datetime
    previous_cancel_reason: str | None


class Session(BaseModel):
    id: str
    number: str | None
    client_id: str
    session_type_id: str
    starts_at: datetime
    ends_at: datetime
    blocked_until: datetime
    resource_ids: list[str]
    location: str | None
    notes: str | None
    state: SessionState
    hold_expires_at: datetime | None = None
    cancel_reason: str | None = None
    cancelled_by: str | None = None
    deposit_outcome: DepositOutcome | None = None
    reopened: list[Reopened] = Field(default_factory=list)
    # What booking last heard from workflow (`workflow.session.status_changed.v1`).
    workflow_status: str | None = None
    workflow_stage: str | None = None
    # Workflow moved it past the stage it started in: clients' links no longer change it.
    workflow_moved_on: bool = False
    version: int


class DepositPolicy(Strict):
    """What happens to a paid deposit when the client cancels.

    `keep`: the studio keeps it; `refund`: refunded in full; `refund_before`: refunded in
    full when cancelled at least `days` days before the session starts, else kept."""

    kind: DepositPolicyKind = "keep"
    days: int | None = Field(default=None, ge=0, le=365)

    @model_validator(mode="after")
    def _days(self) -> DepositPolicy:
        if self.kind == "refund_before" and self.days is None:
            raise ValueError("refund_before needs days")
        if self.kind != "refund_before" and self.days is not None:
            raise ValueError("days belongs to refund_before only")
        return self


class StudioSettingsIn(Strict):
    """The studio's own settings (the owner changes them; `version` is the one read)."""

    studio_name: str = Field(min_length=1, max_length=120)
    studio_phone: str | None = Field(default=None, max_length=40)
    currency: Currency = "usd"
    # A client's cancel or reschedule link stops working this many hours before the session.
    change_cutoff_hours: int = Field(default=24, ge=0, le=24 * 60)
    deposit_policy: DepositPolicy = Field(default_factory=DepositPolicy)
    version: int = Field(ge=0, le=2**53)


class SchedulingSettings(BaseModel):
    """How the studio's calendar is read (opening hours are wall times in `timezone`), and
    the studio's own settings: name, currency, the link cut-off and the deposit policy."""

    timezone: str
    granule_minutes: int
    studio_name: str | None
    studio_phone: str | None
    currency: str
    change_cutoff_hours: int
    deposit_policy: DepositPolicy
    version: int
    updated_at: datetime | None
    updated_by: str | None


class FreeStart(BaseModel):
    starts_at: datetime
    resource_ids: list[str]


class Availability(BaseModel):
    session_type_id: str
    starts: list[FreeStart]
