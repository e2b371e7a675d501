"""Invoices: the order taken at the sales presentation."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from workflow.tracking.schemas import CurrentStatus


class Crop(BaseModel):
    """A crop as fractions of the image (0..1), applied at render time."""

    model_config = ConfigDict(extra="forbid")

    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)
    width: float = Field(gt=0, le=1)
    height: float = Field(gt=0, le=1)
    rotation: float = Field(default=0, ge=-360, le=360)

    @model_validator(mode="after")
    def _inside(self) -> Self:
        if self.x + self.width > 1.000001 or self.y + self.height > 1.000001:
            raise ValueError("the crop reaches outside the image")
        return self


class LineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: str = Field(min_length=1, max_length=100)
    image_ids: list[str] = Field(default_factory=list, max_length=500)
    quantity: int = Field(ge=1, le=10_000)
    unit_price_minor: int | None = Field(
        default=None, ge=0, le=10**10, description="Overrides the price list's price."
    )
    crop: Crop | None = None
    adjustments: dict[str, float] = Field(default_factory=dict, max_length=50)
    retouch_notes: str | None = Field(default=None, max_length=4000)


class DiscountCreate(BaseModel):
    """A percentage of the subtotal or a fixed amount; exactly one of the two."""

    model_config = ConfigDict(extra="forbid")

    description: str = Field(min_length=1, max_length=200)
    percent: Decimal | None = Field(default=None, gt=0, le=100, max_digits=7, decimal_places=4)
    amount_minor: int | None = Field(default=None, gt=0, le=10**10)

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if (self.percent is None) == (self.amount_minor is None):
            raise ValueError("give either percent or amount_minor")
        return self


class InvoiceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(min_length=1, max_length=100)
    session_id: str | None = Field(default=None, min_length=1, max_length=100)
    price_list_id: str = Field(min_length=1, max_length=100)
    lines: list[LineCreate] = Field(min_length=1, max_length=500)
    discounts: list[DiscountCreate] = Field(default_factory=list, max_length=20)
    tax_rate_percent: Decimal = Field(
        default=Decimal(0), ge=0, le=100, max_digits=7, decimal_places=4
    )


class InvoiceLine(BaseModel):
    line_id: str
    product_id: str
    product_name: str
    product_kind: str
    vendor: str | None
    image_ids: list[str]
    quantity: int
    unit_price_minor: int
    total_minor: int
    crop: Crop | None
    adjustments: dict[str, float]
    retouch_notes: str | None


class InvoiceDiscount(BaseModel):
    description: str
    percent: Decimal | None
    amount_minor: int | None
    applied_minor: int


class Payment(BaseModel):
    payment_id: str
    # `deposit`: the session's deposit paid at booking, credited to this invoice.
    kind: str = "payment"
    outcome: str
    amount_minor: int
    currency: str
    recorded_at: datetime


class Invoice(BaseModel):
    invoice_id: str
    client_id: str
    session_id: str | None
    price_list_id: str
    currency: str
    lines: list[InvoiceLine]
    discounts: list[InvoiceDiscount]
    subtotal_minor: int
    discount_minor: int
    tax_rate_percent: Decimal
    tax_minor: int
    total_minor: int
    paid_minor: int
    balance_minor: int
    payments: list[Payment]
    created_at: datetime
    version: int
    closed: bool
    status: CurrentStatus
