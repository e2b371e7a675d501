"""`/workflow/vendors`: the labs, and how each one receives its orders."""

from __future__ import annotations

from fastapi import APIRouter, status

from workflow.context import ContextDep
from workflow.vendors.schemas import Vendor, VendorCreate, VendorUpdate
from workflow.vendors.service import VendorService

router = APIRouter(prefix="/workflow/vendors", tags=["vendors"])


@router.post("", status_code=status.HTTP_201_CREATED, summary="Add a vendor (a lab)")
async def create_vendor(request: VendorCreate, context: ContextDep) -> Vendor:
    """Its name is the one products give as their preferred vendor. Credentials (`password`,
    `private_key`) are stored encrypted and never answered back (`credentials_set`)."""
    return await VendorService(context).create(request)


@router.get("", summary="Vendors, by name")
async def list_vendors(context: ContextDep) -> list[Vendor]:
    return await VendorService(context).list()


@router.get("/{vendor_id}", summary="A vendor")
async def get_vendor(vendor_id: str, context: ContextDep) -> Vendor:
    return await VendorService(context).get(vendor_id)


@router.patch("/{vendor_id}", summary="Change a vendor's contact, notes or transport")
async def update_vendor(vendor_id: str, request: VendorUpdate, context: ContextDep) -> Vendor:
    """A new transport replaces the old; SFTP credentials left out are kept (while it stays
    SFTP), given ones replace them."""
    return await VendorService(context).update(vendor_id, request)
