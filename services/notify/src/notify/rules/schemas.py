"""Trigger rules as the API takes and answers them."""

from __future__ import annotations

from datetime import datetime, time
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from notify.messages.templates import TemplateInvalid, check_template

Trigger = Literal[
    "client.created",
    "session.booked",
    "session.rescheduled",
    "session.cancelled",
    "session.status",
    "deposit.paid",
    "invoice.created",
    "invoice.status",
    "invoice.paid",
    "production_order.status",
    "delivery.ready",
]
# When a rule's action falls due: the event's own time, the session's start, or (status
# triggers) the status's due date.
Anchor = Literal["event", "session_start", "status_due"]
Channel = Literal["email", "sms", "task", "call"]
# Marketing goes only to clients who consented; transactional messages always go.
Purpose = Literal["transactional", "marketing"]

STATUS_TRIGGERS = frozenset({"session.status", "invoice.status", "production_order.status"})
# Triggers whose record belongs to a session (so the session's start is known).
SESSION_TRIGGERS = frozenset(
    {"session.booked", "session.rescheduled", "session.status", "deposit.paid"}
)


def entity_of(trigger: str) -> str:
    """The kind of record a trigger is about."""
    return {"deposit.paid": "session", "invoice.paid": "invoice"}.get(
        trigger, trigger.split(".", 1)[0]
    )


class RuleFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    trigger: Trigger
    # The status's name, for the status triggers (as the studio's pipeline names it).
    status: str | None = Field(default=None, min_length=1, max_length=120)
    # Only sessions of these types (empty: every type).
    session_type_ids: list[str] = Field(default_factory=list, max_length=100)
    anchor: Anchor = "event"
    offset_days: int = Field(default=0, ge=-365, le=365)
    offset_minutes: int = Field(default=0, ge=-10_080, le=10_080)
    # The studio's local time of day, after `offset_days` (e.g. 09:00 the day before).
    at_local_time: time | None = None
    channel: Channel = "email"
    # Tried in order when the client cannot be reached on `channel` (no email, no SMS number).
    fallbacks: list[Channel] = Field(default_factory=list, max_length=3)
    purpose: Purpose = "transactional"
    # Invoice rules' emails carry the invoice as the PDF workflow prints (its SHA-256 kept).
    attach_invoice: bool = False
    subject: str = Field(default="", max_length=300)
    body: str = Field(min_length=1, max_length=20_000)
    enabled: bool = True

    @field_validator("subject", "body")
    @classmethod
    def _renders(cls, value: str) -> str:
        try:
            check_template(value)
        except TemplateInvalid as exc:
            raise ValueError(f"template: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.trigger in STATUS_TRIGGERS) != (self.status is not None):
            raise ValueError("status is given for the status triggers, and only for them")
        if self.anchor == "session_start" and self.trigger not in SESSION_TRIGGERS:
            raise ValueError(f"a {self.trigger} rule has no session start to count from")
        if self.anchor == "status_due":
            if self.trigger not in STATUS_TRIGGERS:
                raise ValueError("only status triggers have a status due date")
            if self.at_local_time is None:
                raise ValueError("a due date needs at_local_time (the time of day to send)")
        if self.session_type_ids and entity_of(self.trigger) != "session":
            raise ValueError("session_type_ids filters only session rules")
        if self.channel in self.fallbacks or len(set(self.fallbacks)) != len(self.fallbacks):
            raise ValueError("fallbacks must differ from the channel and from each other")
        if self.attach_invoice and entity_of(self.trigger) != "invoice":
            raise ValueError("only invoice rules can attach the invoice")
        if self.channel == "email" and not self.subject.strip():
            raise ValueError("an email needs a subject")
        return self


class RuleCreate(RuleFields):
    pass


class RuleUpdate(RuleFields):
    # The version the editor read; a rule changed since is a 409 rather than overwritten.
    version: int = Field(ge=1)


class Rule(RuleFields):
    # As stored (its `_id`, outbox and the like are not part of the answer).
    model_config = ConfigDict(extra="ignore")

    id: str
    # The default this rule came from (`booking-confirmation`, ...); None for the studio's own.
    default_key: str | None = None
    version: int
    created_at: datetime
    updated_at: datetime


class RuleList(BaseModel):
    items: list[Rule]


class PreviewRequest(BaseModel):
    """What a rule would do for one record: the record the event would be about (a session,
    client, invoice, production order or delivery id), without sending anything."""

    model_config = ConfigDict(extra="forbid")

    entity_id: str = Field(min_length=1, max_length=200)


class PreviewOutcome(BaseModel):
    would_send: bool
    # Why not, when it would not (no consent, no address, session type not covered, ...).
    reason: str | None = None
    channel: Channel | None = None
    recipient: str | None = None
    due_at: datetime | None = None
    subject: str | None = None
    text: str | None = None
    html: str | None = None
