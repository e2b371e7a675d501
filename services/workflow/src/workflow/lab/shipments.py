"""Sending production orders to their labs.

The studio asks for a shipment of a production order (`POST .../shipments`); what goes is the
order's latest lab render (the outputs of the last completed render run of the order) and the
order summary PDF, through the transport of the vendor the order is for. One shipment of an
order is open at a time (`lab_send_locks`, one document per order). A sender in the API process
takes queued shipments one at a time under a lease it renews while it sends (a sender that dies
is taken over once the lease lapses; the transports' own remote lock and manifest keep a
takeover from sending the order twice), records what arrived (files, bytes, the manifest's
SHA-256) or why it failed, and moves the order to "Sent to Lab" when its pipeline has that
status ahead of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import posixpath
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import BaseModel, SecretStr
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from kit.errors import Conflict
from kit.mongo import Document, IndexSpec
from workflow.context import WorkflowContext
from workflow.documents.service import DocumentService
from workflow.lab.hot_folder import write_order
from workflow.lab.http_api import HttpLabTarget, LabFile, LabOrder, OrderLine, send_order_http
from workflow.lab.sftp import (
    SUMMARY_NAME,
    LabError,
    OrderFile,
    SendReceipt,
    SftpTarget,
    send_order,
)
from workflow.production.repository import ORDERS
from workflow.production.service import ProductionService
from workflow.tracking.schemas import StatusChangeRequest
from workflow.tracking.service import StatusChanger
from workflow.vendors.service import VendorService

log = logging.getLogger(__name__)

SHIPMENTS = "lab_shipments"
LOCKS = "lab_send_locks"
INDEXES = [
    IndexSpec(SHIPMENTS, [("order_id", 1), ("requested_at", -1)], "by_order"),
    IndexSpec(SHIPMENTS, [("status", 1), ("requested_at", 1)], "by_status"),
]
SENT_STATUS = "Sent to Lab"
CHUNK = 1024 * 1024


class ShipmentFile(BaseModel):
    name: str
    key: str
    bytes: int
    image_id: str | None = None


class Shipment(BaseModel):
    shipment_id: str
    order_id: str
    vendor_id: str
    vendor: str
    transport: str
    status: str
    files: list[ShipmentFile]
    run_id: str
    requested_by: str
    requested_at: datetime
    attempts: int
    finished_at: datetime | None = None
    remote_path: str | None = None
    bytes_sent: int | None = None
    manifest_sha256: str | None = None
    already_at_lab: bool | None = None
    failure: str | None = None


def shipment_view(document: Document) -> Shipment:
    return Shipment.model_validate({**document, "shipment_id": document["_id"]})


async def lab_render_completed(
    context: WorkflowContext,
    order_id: str,
    run_id: str,
    outputs: list[Document],
    manifest: str | None,
) -> None:
    """Keep the latest lab render of a production order, the files a shipment sends (a
    repeated event changes nothing)."""
    rendered = {"run_id": run_id, "outputs": outputs, "manifest_key": manifest}
    await context.db[ORDERS].update_one(
        {"_id": order_id, "rendered.run_id": {"$ne": run_id}},
        {"$set": {"rendered": {**rendered, "at": datetime.now(UTC)}}},
    )


def _file_names(outputs: list[Document]) -> list[ShipmentFile]:
    """Each output under its own file name (a second one of the same name gets a number)."""
    files, taken = [], set()
    for output in sorted(outputs, key=lambda o: (o["key"], o["image_id"])):
        name = posixpath.basename(output["key"]) or f"{output['image_id']}.jpg"
        stem, dot, extension = name.rpartition(".")
        candidate, number = name, 2
        while candidate.casefold() in taken or candidate.startswith("."):
            candidate = f"{stem or name}-{number}{dot}{extension}" if dot else f"{name}-{number}"
            number += 1
        taken.add(candidate.casefold())
        files.append(
            ShipmentFile(
                name=candidate,
                key=output["key"],
                bytes=output["bytes"],
                image_id=output["image_id"],
            )
        )
    return files


class ShipmentService:
    def __init__(self, context: WorkflowContext) -> None:
        self._context = context
        self._shipments = context.db[SHIPMENTS]
        self._locks = context.db[LOCKS]

    async def request(self, order_id: str, *, by: str) -> Shipment:
        """Queue the order's shipment to its lab; 409 when it cannot go (and why)."""
        order = await StatusChanger(self._context, "production_order").load(order_id)
        vendor = await VendorService(self._context).by_name(order["vendor"])
        if vendor is None:
            raise Conflict(
                f"There is no vendor record for {order['vendor']!r}: add it under Vendors with "
                "how it takes orders.",
                detail={"vendor": order["vendor"]},
            )
        kind = vendor["transport"]["kind"]
        if kind not in ("sftp", "http_api", "hot_folder"):
            raise Conflict(
                f"{vendor['name']} takes orders {'by email' if kind == 'email' else 'by hand'}; "
                "only labs taking orders by SFTP, their API or a hot folder are sent to from here.",
                detail={"transport": kind},
            )
        rendered = order.get("rendered")
        if not rendered or not rendered.get("outputs"):
            raise Conflict(
                "The order has no lab render yet: render it for the lab first (a render job "
                "on production orders, or a run by hand), then send it.",
                detail={"order_id": order_id},
            )
        shipment_id = f"shp_{uuid.uuid4().hex[:16]}"
        try:
            await self._locks.insert_one({"_id": order_id, "shipment_id": shipment_id})
        except DuplicateKeyError as exc:
            holder = await self._locks.find_one({"_id": order_id})
            raise Conflict(
                "This order is being sent already.",
                detail={"shipment_id": holder["shipment_id"] if holder else None},
            ) from exc
        document: Document = {
            "_id": shipment_id,
            "order_id": order_id,
            "vendor_id": vendor["_id"],
            "vendor": vendor["name"],
            "transport": kind,
            "status": "queued",
            "files": [f.model_dump() for f in _file_names(rendered["outputs"])],
            "run_id": rendered["run_id"],
            "requested_by": by,
            "requested_at": datetime.now(UTC),
            "attempts": 0,
        }
        try:
            await self._shipments.insert_one(document)
        except BaseException:
            await self._locks.delete_one({"_id": order_id, "shipment_id": shipment_id})
            raise
        return shipment_view(document)

    async def of_order(self, order_id: str) -> list[Shipment]:
        cursor = self._shipments.find({"order_id": order_id}).sort("requested_at", -1).limit(100)
        return [shipment_view(d) async for d in cursor]

    async def send_next(self) -> Shipment | None:
        """Take one shipment that is due (queued, or its sender's lease lapsed) and send it."""
        now = datetime.now(UTC)
        lease = timedelta(seconds=self._context.settings.lab_lease_seconds)
        claim = uuid.uuid4().hex
        document = await self._shipments.find_one_and_update(
            {
                "$or": [
                    {"status": "queued"},
                    {"status": "sending", "claimed_until": {"$lt": now}},
                ]
            },
            {
                "$set": {"status": "sending", "claim": claim, "claimed_until": now + lease},
                "$inc": {"attempts": 1},
            },
            sort=[("requested_at", 1)],
            return_document=ReturnDocument.AFTER,
        )
        if document is None:
            return None
        renewer = asyncio.create_task(self._renew(document["_id"], claim, lease))
        try:
            fields = await self._send(document)
        except asyncio.CancelledError:
            raise
        except LabError as exc:
            fields = {"status": "failed", "failure": str(exc)[:1000]}
        except Exception as exc:
            log.exception("shipment %s failed", document["_id"])
            fields = {"status": "failed", "failure": f"{type(exc).__name__}: {exc}"[:1000]}
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
        finished = await self._finish(document, claim, fields)
        if finished is not None and finished["status"] == "sent":
            await self._move_order(finished)
        return shipment_view(finished) if finished is not None else None

    async def _send(self, shipment: Document) -> dict[str, Any]:
        vendors = VendorService(self._context)
        vendor = await vendors.raw(shipment["vendor_id"])
        summary = (await DocumentService(self._context).order_summary(shipment["order_id"])).body
        with tempfile.TemporaryDirectory(prefix="lab-shipment-") as folder:
            files = await self._fetch(shipment, Path(folder))
            transport = vendor["transport"]
            if transport["kind"] == "sftp":
                settings = self._context.settings
                credentials = await vendors.credentials(vendor["_id"])
                sftp = transport["sftp"]
                target = SftpTarget(
                    host=sftp["host"],
                    port=sftp["port"],
                    username=sftp["username"],
                    known_host_key=sftp["known_host_key"],
                    remote_folder=sftp["remote_folder"],
                    password=_secret(credentials.get("password")),
                    private_key=_secret(credentials.get("private_key")),
                    connect_timeout=settings.lab_connect_timeout_seconds,
                )
                receipt = await send_order(
                    target,
                    shipment["order_id"],
                    files,
                    summary_pdf=summary,
                    attempts=settings.lab_attempts,
                    backoff_seconds=settings.lab_backoff_seconds,
                )
            elif transport["kind"] == "http_api":
                settings = self._context.settings
                credentials = await vendors.credentials(vendor["_id"])
                api = HttpLabTarget(
                    transport["http_api"]["base_url"],
                    SecretStr(credentials["api_key"]),
                    timeout=settings.lab_connect_timeout_seconds * 2,
                )
                order = await self._lab_order(shipment, files, summary)
                receipt = await send_order_http(
                    api,
                    order,
                    files,
                    summary_pdf=summary,
                    attempts=settings.lab_attempts,
                    backoff_seconds=settings.lab_backoff_seconds,
                )
            elif transport["kind"] == "hot_folder":
                root = self._context.settings.hot_folder_root
                if root is None:
                    raise LabError("Hot folders are off: WORKFLOW_HOT_FOLDER_ROOT is not set.")
                receipt = await write_order(
                    Path(root) / transport["hot_folder"],
                    shipment["order_id"],
                    files,
                    summary_pdf=summary,
                )
            else:
                raise LabError(f"{vendor['name']} no longer takes orders by SFTP or hot folder.")
        return _sent(receipt)

    async def _lab_order(
        self, shipment: Document, files: list[OrderFile], summary: bytes
    ) -> LabOrder:
        """The order in the one schema lab adapters take. The files are the lab render, which
        applied each line's crop already: the lines carry no crop of their own."""
        order = await ProductionService(self._context).get(shipment["order_id"])
        by_image: dict[str, list[str]] = {}
        for entry in shipment["files"]:
            by_image.setdefault(entry.get("image_id") or "", []).append(entry["name"])
        lines = []
        for line in order.lines:
            names = [name for image_id in line.image_ids for name in by_image.get(image_id, [])]
            if not names:
                raise LabError(
                    f"The line {line.product_name!r} has no file in the order's lab render: "
                    "render the order again."
                )
            lines.append(
                OrderLine(
                    product_name=line.product_name,
                    quantity=line.quantity,
                    file_names=names,
                    retouch_notes=line.retouch_notes or "",
                )
            )
        summary_file = OrderFile.from_bytes(SUMMARY_NAME, summary)
        return LabOrder(
            order_id=shipment["order_id"],
            studio=self._context.settings.studio_name,
            files=[LabFile.describing(f) for f in [*files, summary_file]],
            summary=SUMMARY_NAME,
            notes=order.vendor_notes or "",
            lines=lines,
        )

    async def _fetch(self, shipment: Document, folder: Path) -> list[OrderFile]:
        """Each file of the shipment read once from S3 into `folder`, with its SHA-256."""
        storage = self._context.storage
        bucket = self._context.settings.infra.images_bucket
        files = []
        for entry in shipment["files"]:
            path = folder / entry["name"]
            sha256, size = await asyncio.to_thread(
                _download, storage.client, bucket, entry["key"], path
            )
            files.append(OrderFile(entry["name"], size, sha256, functools.partial(_open, path)))
        return files

    async def _renew(self, shipment_id: str, claim: str, lease: timedelta) -> None:
        while True:
            await asyncio.sleep(lease.total_seconds() / 3)
            await self._shipments.update_one(
                {"_id": shipment_id, "claim": claim, "status": "sending"},
                {"$set": {"claimed_until": datetime.now(UTC) + lease}},
            )

    async def _finish(
        self, shipment: Document, claim: str, fields: dict[str, Any]
    ) -> Document | None:
        """Record the outcome if this sender still holds the shipment; the order's lock goes
        with it, so the studio may send the order again."""
        finished = await self._shipments.find_one_and_update(
            {"_id": shipment["_id"], "claim": claim, "status": "sending"},
            {"$set": {**fields, "finished_at": datetime.now(UTC), "claimed_until": None}},
            return_document=ReturnDocument.AFTER,
        )
        if finished is None:
            log.warning("shipment %s was taken over; its outcome is the other sender's", claim)
            return None
        await self._locks.delete_one({"_id": shipment["order_id"], "shipment_id": shipment["_id"]})
        return finished

    async def _move_order(self, shipment: Document) -> None:
        """To "Sent to Lab", when the order's pipeline has it ahead of where the order is."""
        changer = StatusChanger(self._context, "production_order")
        order = await changer.load(shipment["order_id"])
        pipeline = await changer.pipeline_of(order)
        target, current = pipeline.named(SENT_STATUS), pipeline.find(order["status_id"])
        if target is None or current is None or current.sort_order >= target.sort_order:
            return
        note = (
            f"{shipment['transport']} to {shipment['vendor']}: {len(shipment['files'])} files, "
            f"{shipment.get('bytes_sent') or 0} bytes sent (shipment {shipment['_id']})"
        )
        with contextlib.suppress(Conflict):
            await ProductionService(self._context).change_status(
                shipment["order_id"],
                StatusChangeRequest(to_status_id=target.id, note=note[:2000]),
                by="lab-sender",
            )


def _open(path: Path) -> BinaryIO:
    return path.open("rb")


def _secret(value: str | None) -> SecretStr | None:
    return SecretStr(value) if value else None


def _sent(receipt: SendReceipt) -> dict[str, Any]:
    return {
        "status": "sent",
        "remote_path": receipt.remote_path,
        "bytes_sent": receipt.bytes_sent,
        "manifest_sha256": receipt.manifest_sha256,
        "already_at_lab": receipt.already_complete,
        "failure": None,
    }


def _download(client: Any, bucket: str, key: str, path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    body = client.get_object(Bucket=bucket, Key=key)["Body"]
    with path.open("wb") as out:
        while chunk := body.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
