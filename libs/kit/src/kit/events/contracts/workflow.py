"""Events produced by the workflow service on topic `workflow.events` (key: entity id)."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import BaseModel

from kit.events.envelope import EventPayload

TOPIC = "workflow.events"

EntityKind = Literal["session", "invoice", "production_order"]
ImageFolder = Literal["raw", "hires", "previews", "retouched", "rendered"]


class _WorkflowEvent(EventPayload):
    topic: ClassVar[str] = TOPIC


class StatusChange(_WorkflowEvent):
    entity_kind: EntityKind
    entity_id: str
    session_id: str | None = None
    session_type_id: str | None = None
    from_status: str | None
    to_status: str
    changed_by: str
    changed_at: datetime
    due_date: date | None = None
    note: str | None = None
    # Additive (issue 4): from_status/to_status are status ids; these carry the rest.
    from_status_name: str | None = None
    to_status_name: str | None = None
    stage: str | None = None
    result: str | None = None
    version: int | None = None


class SessionStatusChanged(StatusChange):
    event_type: ClassVar[str] = "workflow.session.status_changed.v1"


class InvoiceStatusChanged(StatusChange):
    event_type: ClassVar[str] = "workflow.invoice.status_changed.v1"


class ProductionOrderStatusChanged(StatusChange):
    event_type: ClassVar[str] = "workflow.production_order.status_changed.v1"


class InvoiceCreated(_WorkflowEvent):
    """An invoice (the order taken at the sales presentation) was entered, with what is due."""

    event_type: ClassVar[str] = "workflow.invoice.created.v1"
    invoice_id: str
    client_id: str
    session_id: str | None = None
    currency: str
    total_minor: int
    amount_due_minor: int
    created_at: datetime


class ImageRef(BaseModel):
    image_id: str
    key: str
    folder: ImageFolder
    content_type: str | None = None


class ImagesImported(_WorkflowEvent):
    event_type: ClassVar[str] = "workflow.images.imported.v1"
    session_id: str
    images: list[ImageRef]


class ImagesDeleted(_WorkflowEvent):
    event_type: ClassVar[str] = "workflow.images.deleted.v1"
    session_id: str
    images: list[ImageRef]
