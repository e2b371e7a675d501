"""Vendors: one document each in `vendors`, its credentials sealed in it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncssh
from pydantic import SecretStr
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from kit.errors import Conflict, NotFound, Unprocessable
from kit.mongo import Document, IndexSpec
from workflow.context import WorkflowContext
from workflow.lab.http_api import HttpLabTarget
from workflow.vendors.schemas import TransportIn, Vendor, VendorCreate, VendorUpdate
from workflow.vendors.secrets import seal, unseal

COLLECTION = "vendors"
INDEXES = [IndexSpec(COLLECTION, [("name_key", 1)], "by_name", unique=True)]


def vendor_view(document: Document) -> Vendor:
    transport = document["transport"]
    return Vendor.model_validate(
        {
            **document,
            "vendor_id": document["_id"],
            "transport": {
                "kind": transport["kind"],
                "sftp": transport.get("sftp"),
                "http_api": transport.get("http_api"),
                "hot_folder": transport.get("hot_folder"),
                "email": transport.get("email"),
                "credentials_set": bool(document.get("credentials")),
            },
        }
    )


class VendorService:
    def __init__(self, context: WorkflowContext) -> None:
        self._context = context
        self._vendors = context.db[COLLECTION]

    async def create(self, request: VendorCreate) -> Vendor:
        transport, credentials = self._transport(request.transport, stored=None)
        now = datetime.now(UTC)
        document: Document = {
            "_id": f"vnd_{uuid.uuid4().hex[:16]}",
            "name": request.name.strip(),
            "name_key": request.name.strip().casefold(),
            "contact_email": request.contact_email,
            "notes": request.notes,
            "transport": transport,
            "credentials": credentials,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        try:
            await self._vendors.insert_one(document)
        except DuplicateKeyError as exc:
            raise Conflict(
                f"There is a vendor named {request.name!r} already.", detail={"name": request.name}
            ) from exc
        return vendor_view(document)

    async def list(self) -> list[Vendor]:
        cursor = self._vendors.find({}).sort("name_key", 1).limit(500)
        return [vendor_view(d) async for d in cursor]

    async def get(self, vendor_id: str) -> Vendor:
        return vendor_view(await self._document(vendor_id))

    async def update(self, vendor_id: str, request: VendorUpdate) -> Vendor:
        current = await self._document(vendor_id)
        if request.expected_version is not None and request.expected_version != current["version"]:
            raise Conflict(
                "The vendor was changed meanwhile; reload it.",
                detail={"version": current["version"]},
            )
        changes: dict[str, Any] = {
            name: getattr(request, name)
            for name in ("contact_email", "notes")
            if name in request.model_fields_set
        }
        if request.transport is not None:
            changes["transport"], changes["credentials"] = self._transport(
                request.transport, stored=current
            )
        changes["updated_at"] = datetime.now(UTC)
        updated = await self._vendors.find_one_and_update(
            {"_id": vendor_id, "version": current["version"]},
            {"$set": changes, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER,
        )
        if updated is None:
            raise Conflict("The vendor was changed meanwhile; reload it.")
        return vendor_view(updated)

    async def by_name(self, name: str) -> Document | None:
        """The vendor record a product's preferred vendor names (whatever its case)."""
        return await self._vendors.find_one({"name_key": name.strip().casefold()})

    async def raw(self, vendor_id: str) -> Document:
        return await self._document(vendor_id)

    async def credentials(self, vendor_id: str) -> dict[str, str]:
        """The vendor's unsealed credentials, for its transport only (never answered)."""
        sealed = (await self._document(vendor_id)).get("credentials")
        return unseal(self._secret(), sealed) if sealed else {}

    async def _document(self, vendor_id: str) -> Document:
        document = await self._vendors.find_one({"_id": vendor_id})
        if document is None:
            raise NotFound(f"No vendor {vendor_id}.", detail={"vendor_id": vendor_id})
        return document

    def _secret(self) -> str:
        return self._context.settings.secret("secrets_key")

    def _transport(
        self, requested: TransportIn, *, stored: Document | None
    ) -> tuple[dict[str, Any], str | None]:
        """The transport to store and its sealed credentials (new ones, or those kept)."""
        transport: dict[str, Any] = {"kind": requested.kind}
        if requested.kind == "hot_folder":
            transport["hot_folder"] = self._hot_folder(requested.hot_folder or "")
        elif requested.kind == "email":
            transport["email"] = requested.email
        elif requested.kind == "http_api":
            return self._http_api(requested, transport, stored)
        if requested.kind != "sftp":
            return transport, None
        assert requested.sftp is not None
        sftp = requested.sftp
        try:
            asyncssh.import_public_key(sftp.known_host_key.strip())
        except (asyncssh.KeyImportError, ValueError) as exc:
            raise Unprocessable(
                "The lab's host key is not an OpenSSH public key (one line: type, key).",
                detail={"field": "transport.sftp.known_host_key"},
            ) from exc
        transport["sftp"] = sftp.model_dump()
        kept = self._kept(stored, "sftp")
        if requested.password is not None:
            kept = {"password": requested.password.get_secret_value()}
        if requested.private_key is not None:
            key = requested.private_key.get_secret_value()
            try:
                asyncssh.import_private_key(key)
            except (asyncssh.KeyImportError, ValueError) as exc:
                raise Unprocessable(
                    "The private key cannot be read (OpenSSH or PEM, without a passphrase).",
                    detail={"field": "transport.private_key"},
                ) from exc
            kept = {"private_key": key}
        wanted = "password" if sftp.auth == "password" else "private_key"
        if wanted not in kept:
            raise Unprocessable(
                f"An SFTP vendor with {sftp.auth} authentication needs its {wanted}.",
                detail={"field": f"transport.{wanted}"},
            )
        return transport, seal(self._secret(), kept)

    def _http_api(
        self, requested: TransportIn, transport: dict[str, Any], stored: Document | None
    ) -> tuple[dict[str, Any], str | None]:
        assert requested.http_api is not None
        kept = self._kept(stored, "http_api")
        if requested.api_key is not None:
            kept = {"api_key": requested.api_key.get_secret_value()}
        if "api_key" not in kept:
            raise Unprocessable(
                "A lab taking orders by its API needs its API key.",
                detail={"field": "transport.api_key"},
            )
        try:
            HttpLabTarget(requested.http_api.base_url, SecretStr(kept["api_key"]))
        except ValueError as exc:
            raise Unprocessable(str(exc), detail={"field": "transport.http_api.base_url"}) from exc
        transport["http_api"] = requested.http_api.model_dump()
        return transport, seal(self._secret(), kept)

    def _kept(self, stored: Document | None, kind: str) -> dict[str, str]:
        """The stored credentials, while the vendor's transport stays of `kind`."""
        sealed = (stored or {}).get("credentials")
        if not sealed or (stored or {}).get("transport", {}).get("kind") != kind:
            return {}
        return unseal(self._secret(), sealed)

    def _hot_folder(self, relative: str) -> str:
        root = self._context.settings.hot_folder_root
        if root is None:
            raise Unprocessable(
                "Hot folders are off: the operator sets WORKFLOW_HOT_FOLDER_ROOT to allow them.",
                detail={"field": "transport.hot_folder"},
            )
        base = Path(root).resolve()
        target = (base / relative).resolve()
        if relative.startswith("/") or not target.is_relative_to(base) or target == base:
            raise Unprocessable(
                "A hot folder is a folder inside the studio's hot folder root.",
                detail={"field": "transport.hot_folder", "root": str(base)},
            )
        return str(target.relative_to(base))
