"""Scheduled actions (the studio's message log) as the API answers them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

ActionState = Literal["scheduled", "sending", "sent", "missed", "cancelled", "failed", "skipped"]


class Action(BaseModel):
    id: str
    rule_id: str
    rule_name: str | None = None
    trigger: str
    entity_kind: str
    entity_id: str
    client_id: str | None
    session_id: str | None
    channel: str
    state: ActionState
    due_at: datetime
    not_after: datetime | None = None
    attempts: int
    reason: str | None = None
    last_error: str | None = None
    channel_used: str | None = None
    recipient: str | None = None
    subject: str | None = None
    message_id: str | None = None
    sent_at: datetime | None = None
    created_at: datetime


class ActionList(BaseModel):
    items: list[Action]
