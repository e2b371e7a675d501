"""Production orders: what goes to each lab, made from one or more invoices."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from workflow.invoices.schemas import Crop
from workflow.tracking.schemas import CurrentStatus


class ProductionOrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    invoice_ids: list[str] = Field(min_length=1, max_length=50)
    studio_notes: str | None = Field(default=None, max_length=4000)


class ProductionOrderNotes(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vendor_notes: str | None = Field(default=None, max_length=4000)
    studio_notes: str | None = Field(default=None, max_length=4000)


class ProductionLine(BaseModel):
    invoice_id: str
    line_id: str
    product_id: str
    product_name: str
    image_ids: list[str]
    quantity: int
    crop: Crop | None
    adjustments: dict[str, float]
    retouch_notes: str | None


class LabTracking(BaseModel):
    carrier: str | None = None
    number: str | None = None
    url: str | None = None


class LabUpdate(BaseModel):
    """What the lab said about the order (its signed events), oldest first."""

    event: str
    message: str | None = None
    tracking: LabTracking | None = None
    at: datetime


class ProductionOrder(BaseModel):
    production_order_id: str
    vendor: str
    invoice_ids: list[str]
    lines: list[ProductionLine]
    vendor_notes: str | None
    studio_notes: str | None
    created_at: datetime
    version: int
    closed: bool
    status: CurrentStatus
    lab_updates: list[LabUpdate] = Field(default_factory=list)


class UnassignedLine(BaseModel):
    invoice_id: str
    line_id: str
    product_name: str
    reason: str


class ProductionSplit(BaseModel):
    """One production order per preferred vendor; lines with no vendor are listed, not sent."""

    production_orders: list[ProductionOrder]
    unassigned_lines: list[UnassignedLine]
