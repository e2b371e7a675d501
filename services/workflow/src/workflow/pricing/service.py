"""Price lists: products with a price, a preferred vendor, digital or physical."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from kit.errors import NotFound, Unprocessable
from kit.mongo import Document
from workflow.pricing.repository import PricingRepository
from workflow.pricing.schemas import (
    PriceList,
    PriceListCreate,
    Product,
    ProductCreate,
    ProductUpdate,
)


def _product(document: Document) -> Product:
    return Product.model_validate({**document, "id": document["_id"]})


class PricingService:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._repository = PricingRepository(db)

    async def create(self, request: PriceListCreate) -> PriceList:
        price_list_id = f"pl-{uuid.uuid4().hex[:12]}"
        products = [self._new_product(price_list_id, p) for p in request.products]
        # Products first: a list is visible only once its products are in.
        await self._repository.insert_products(products)
        created_at = datetime.now(UTC)
        await self._repository.insert_list(
            {
                "_id": price_list_id,
                "name": request.name,
                "currency": request.currency,
                "created_at": created_at,
            }
        )
        return PriceList(
            id=price_list_id,
            name=request.name,
            currency=request.currency,
            created_at=created_at,
            products=[_product(p) for p in products],
        )

    async def get(self, price_list_id: str) -> PriceList:
        document = await self._repository.get_list(price_list_id)
        if document is None:
            raise NotFound(
                f"No price list {price_list_id}.", detail={"price_list_id": price_list_id}
            )
        products = await self._repository.products_of(price_list_id)
        return PriceList(
            id=document["_id"],
            name=document["name"],
            currency=document["currency"],
            created_at=document["created_at"],
            products=[_product(p) for p in products],
        )

    async def get_or_none(self, price_list_id: str) -> PriceList | None:
        if await self._repository.get_list(price_list_id) is None:
            return None
        return await self.get(price_list_id)

    async def all(self) -> list[PriceList]:
        return [await self.get(d["_id"]) for d in await self._repository.lists()]

    async def add_product(self, price_list_id: str, request: ProductCreate) -> Product:
        await self.get(price_list_id)
        product = self._new_product(price_list_id, request)
        await self._repository.insert_products([product])
        return _product(product)

    async def update_product(
        self, price_list_id: str, product_id: str, request: ProductUpdate
    ) -> Product:
        changes = request.model_dump(exclude_unset=True)
        nulls = [k for k, v in changes.items() if v is None and k != "vendor"]
        if nulls:
            raise Unprocessable("Only `vendor` may be set to null.", detail=nulls)
        document = await self._repository.update_product(price_list_id, product_id, changes)
        if document is None:
            raise NotFound(
                f"No product {product_id} in price list {price_list_id}.",
                detail={"product_id": product_id},
            )
        return _product(document)

    async def products(self, price_list_id: str, product_ids: list[str]) -> dict[str, Document]:
        found = await self._repository.products(product_ids)
        return {p["_id"]: p for p in found if p["price_list_id"] == price_list_id}

    @staticmethod
    def _new_product(price_list_id: str, request: ProductCreate) -> Document:
        return {
            "_id": f"pr-{uuid.uuid4().hex[:12]}",
            "price_list_id": price_list_id,
            **request.model_dump(),
            "active": True,
        }
