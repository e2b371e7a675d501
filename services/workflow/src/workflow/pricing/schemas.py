"""Price lists and their products."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ProductKind = Literal["digital", "physical"]
Currency = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. USD.")


class ProductCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    price_minor: int = Field(ge=0, le=10**10, description="Unit price in minor units (cents).")
    kind: ProductKind
    vendor: str | None = Field(
        default=None, min_length=1, max_length=120, description="The preferred vendor (lab)."
    )


class ProductUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=120)
    price_minor: int | None = Field(default=None, ge=0, le=10**10)
    kind: ProductKind | None = None
    vendor: str | None = Field(default=None, min_length=1, max_length=120)
    active: bool | None = None


class Product(BaseModel):
    id: str
    price_list_id: str
    name: str
    price_minor: int
    kind: ProductKind
    vendor: str | None
    active: bool = True


class PriceListCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    currency: str = Currency
    products: list[ProductCreate] = Field(default_factory=list, max_length=1000)


class PriceList(BaseModel):
    id: str
    name: str
    currency: str
    created_at: datetime
    products: list[Product]
