"""What the public (online booking) routes take and answer."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from booking.clients.schemas import Email, PhoneText, ShortText
from booking.scheduling.schemas import SessionState


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BookableType(BaseModel):
    id: str
    name: str
    description: str | None
    duration_minutes: int
    deposit_minor: int
    currency: str


class FreeStarts(BaseModel):
    session_type_id: str
    starts: list[datetime]


class ClientDetails(Strict):
    """Who books; an existing client is recognised by the email address."""

    email: Email = Field(description="Required; recognises a returning client")
    first_name: ShortText | None = None
    last_name: ShortText = Field(min_length=1)
    phone: PhoneText | None = None

    @model_validator(mode="after")
    def _has_email(self) -> ClientDetails:
        if not self.email:
            raise ValueError("an email address is required to book online")
        return self


class OnlineBooking(Strict):
    session_type_id: str = Field(min_length=1)
    starts_at: AwareDatetime
    client: ClientDetails
    notes: str | None = Field(default=None, max_length=2000)


class DepositCheckout(BaseModel):
    payment_id: str
    amount_minor: int
    currency: str
    checkout_url: str | None


class ManageLinks(BaseModel):
    cancel_url: str
    reschedule_url: str


class BookingConfirmation(BaseModel):
    session_id: str
    session_number: str | None
    state: SessionState
    starts_at: datetime
    ends_at: datetime
    hold_expires_at: datetime | None
    client_id: str
    deposit: DepositCheckout | None
    links: ManageLinks


class LinkCancel(Strict):
    token: str = Field(min_length=1, max_length=200)
    reason: str | None = Field(default=None, max_length=500)


class LinkReschedule(Strict):
    token: str = Field(min_length=1, max_length=200)
    starts_at: AwareDatetime


class PublicStudio(BaseModel):
    """What a client's page says about the studio: its name, phone, and the time zone in
    which its times are read."""

    studio_name: str | None
    studio_phone: str | None
    timezone: str
    currency: str


class PublicSession(BaseModel):
    session_id: str
    session_number: str | None
    session_type_id: str
    session_type_name: str | None = None
    state: SessionState
    starts_at: datetime
    ends_at: datetime
    # Whether the links still cancel or move it; if not, `refusal` says why and to call.
    can_change: bool = True
    changes_close_at: datetime | None = None
    refusal: str | None = None
    studio_name: str | None = None
    studio_phone: str | None = None
    # After a cancellation: what became of the deposit (kept, refunded, none, ...) and why.
    deposit_outcome: str | None = None
    deposit_outcome_reason: str | None = None
