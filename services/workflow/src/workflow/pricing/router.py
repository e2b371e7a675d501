"""Price lists and products."""

from __future__ import annotations

from fastapi import APIRouter, status

from workflow.context import ContextDep
from workflow.pricing.schemas import (
    PriceList,
    PriceListCreate,
    Product,
    ProductCreate,
    ProductUpdate,
)
from workflow.pricing.service import PricingService

router = APIRouter(prefix="/workflow/price-lists", tags=["price lists"])


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a price list")
async def create_price_list(request: PriceListCreate, context: ContextDep) -> PriceList:
    return await PricingService(context.db).create(request)


@router.get("", summary="Every price list with its products")
async def list_price_lists(context: ContextDep) -> list[PriceList]:
    return await PricingService(context.db).all()


@router.get("/{price_list_id}", summary="A price list with its products")
async def get_price_list(price_list_id: str, context: ContextDep) -> PriceList:
    return await PricingService(context.db).get(price_list_id)


@router.post(
    "/{price_list_id}/products", status_code=status.HTTP_201_CREATED, summary="Add a product"
)
async def add_product(price_list_id: str, request: ProductCreate, context: ContextDep) -> Product:
    return await PricingService(context.db).add_product(price_list_id, request)


@router.patch("/{price_list_id}/products/{product_id}", summary="Change or retire a product")
async def update_product(
    price_list_id: str, product_id: str, request: ProductUpdate, context: ContextDep
) -> Product:
    return await PricingService(context.db).update_product(price_list_id, product_id, request)
