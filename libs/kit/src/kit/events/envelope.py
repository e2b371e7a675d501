"""The event envelope: CloudEvents 1.0 attribute names, structured mode, JSON.

The whole Kafka message body is one envelope. `requestid` is a CloudEvents extension
attribute carrying the request id of the HTTP call that caused the event.
"""

from __future__ import annotations

import builtins
import json
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from kit.logging import current_request_id


class EventPayload(BaseModel):
    """Base of every typed event payload; each subclass names its event type and topic."""

    model_config = ConfigDict(extra="allow", frozen=True)

    event_type: ClassVar[str]
    topic: ClassVar[str]


P = TypeVar("P", bound=EventPayload)


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    source: str
    type: str
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str
    datacontenttype: Literal["application/json"] = "application/json"
    requestid: str | None = None
    data: dict[str, Any]

    @classmethod
    def wrap(cls, payload: EventPayload, *, subject: str, source: str) -> Envelope:
        """A new envelope around `payload`, stamped with the current request id."""
        return cls(
            source=source,
            type=payload.event_type,
            subject=subject,
            requestid=current_request_id(),
            data=payload.model_dump(mode="json"),
        )

    # `type` is also a field of the envelope (the CloudEvents attribute), hence builtins.type.
    def payload(self, model: builtins.type[P]) -> P:
        return model.model_validate(self.data)

    def as_record(self) -> dict[str, Any]:
        """JSON-only form, as stored in an outbox (exact-value comparisons stay stable)."""
        return self.model_dump(mode="json")

    def to_bytes(self) -> bytes:
        return json.dumps(self.as_record(), separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        return cls.model_validate_json(raw)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Envelope:
        return cls.model_validate(record)


def source_of(service: str) -> str:
    return f"/services/{service}"
