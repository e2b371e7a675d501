"""Deliveries: created from a render run or on request, packaged, then ready or failed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from delivery.context import DeliveryContext
from delivery.deliveries.abandoned_uploads import (
    attempt_prefix,
    clear_attempt,
    clear_earlier_attempts,
)
from delivery.deliveries.lease import PackagingLease
from delivery.deliveries.rendering import delivery_id_of, start_render_run
from delivery.deliveries.repository import COLLECTION as deliveries_collection
from delivery.deliveries.repository import DeliveryRepository
from delivery.deliveries.schemas import ArchiveOut, DeliveryOut, DeliveryRequest, FileOut
from delivery.deliveries.workflow_images import chosen_keys
from delivery.links.repository import LinkRepository
from delivery.links.schemas import LinkRequest, PromisedLink
from delivery.links.service import (
    lifetime_of,
    link_url,
    links_of,
    new_link,
    new_link_id,
    new_token,
    ready_event,
)
from delivery.notifications.outbox import send_link_mails
from delivery.packaging.multipart import PackagingStopped
from delivery.packaging.package import (
    Package,
    PackagingError,
    PackagingOptions,
    build_package,
    file_names,
)
from kit.errors import NotFound, StudioError, Unprocessable
from kit.events.contracts.delivery import DeliveryFailed
from kit.events.contracts.render import RunCompleted, RunFailed
from kit.mongo import Document

log = logging.getLogger(__name__)


def _new_delivery(
    *,
    delivery_id: str,
    session_id: str | None,
    run_id: str | None,
    title: str,
    keys: list[str],
    recipients: list[LinkRequest],
    link_expiry_days: int | None,
    profile_ids: list[str] | None = None,
    include_invoices: bool = False,
) -> Document:
    now = datetime.now(UTC)
    return {
        "_id": delivery_id,
        "session_id": session_id,
        "include_invoices": include_invoices,
        "run_id": run_id,
        "title": title,
        # Through render profiles first: `rendering` until the run ends, then its outputs.
        "status": "pending" if profile_ids is None else "rendering",
        "failure": None,
        "profile_ids": profile_ids,
        "render_run_id": None,
        # When render last showed progress (asked, run advancing): the stall sweep's clock.
        "render_progress_at": now if profile_ids is not None else None,
        "render_asks": 1 if profile_ids is not None else 0,
        "render_done": 0,
        "render_keys": keys if profile_ids is not None else None,
        "source_keys": keys if profile_ids is None else [],
        # PINs and the links' tokens stay in clear only until the links are issued (then
        # hashed, and removed here). The tokens are chosen now so that the studio sees each
        # link's URL in the answer that asks for the delivery.
        "recipients": [
            {**r.model_dump(), "link_id": new_link_id(), "token": new_token()} for r in recipients
        ],
        "link_expiry_days": link_expiry_days,
        "files": [],
        "archives": [],
        "created_at": now,
        "ready_at": None,
    }


async def request_delivery(ctx: DeliveryContext, request: DeliveryRequest) -> DeliveryOut:
    """Queue a delivery of a session's images; it is packaged in the background."""
    prefix = f"sessions/{request.session_id}/"
    from_workflow = (
        request.group_id is not None
        or request.selection is not None
        or request.min_stars is not None
    )
    named = [
        name
        for name, given in (
            ("keys", request.keys is not None),
            ("folder", request.folder is not None),
            ("group_id or selection", from_workflow),
        )
        if given
    ]
    if len(named) > 1:
        raise Unprocessable(
            f"Name the images one way: {' or '.join(named)}, not both.",
            detail={"given": named},
        )
    if from_workflow:
        keys = await chosen_keys(
            ctx,
            request.session_id,
            group_id=request.group_id,
            selection=request.selection,
            min_stars=request.min_stars,
        )
        foreign = [k for k in keys if not k.startswith(prefix)]
        if foreign:  # workflow's keys are the session's: anything else is a bug to surface
            raise Unprocessable(
                "Workflow named images of another session.", detail={"keys": foreign[:20]}
            )
        if not keys:
            what = "group" if request.group_id is not None else "selection"
            raise Unprocessable(
                f"The session's {what} has no images to deliver.",
                detail={"group_id": request.group_id, "selection": request.selection},
            )
    elif request.keys is not None:
        keys = list(dict.fromkeys(request.keys))
        foreign = [k for k in keys if not k.startswith(prefix) or ".." in k]
        if foreign:
            raise Unprocessable(
                "Every image must belong to the session (keys under sessions/<session_id>/).",
                detail={"keys": foreign[:20]},
            )
    elif request.folder is not None:
        keys = await _list_keys(ctx, f"{prefix}{request.folder}/")
        if not keys:
            raise Unprocessable(
                f"The session has no images in {request.folder}.",
                detail={"folder": request.folder},
            )
    else:
        raise Unprocessable(
            "Name the images: `keys`, a `folder` of the session, a `group_id` or a `selection`."
        )
    document = _new_delivery(
        delivery_id=f"dlv_{uuid.uuid4().hex}",
        session_id=request.session_id,
        run_id=None,
        title=request.title or f"Session {request.session_id}",
        keys=keys,
        recipients=request.recipients,
        link_expiry_days=None,
        profile_ids=request.profile_ids,
        include_invoices=request.include_invoices,
    )
    repository = DeliveryRepository(ctx.db)
    await repository.insert(document)
    promised = promised_links(ctx, document)
    if request.profile_ids is None:
        wake_packager(ctx)
        return delivery_out(document, promised)
    # Stored first, so the run's outcome always finds its delivery, however fast it comes.
    try:
        run_id = await start_render_run(
            ctx,
            delivery_id=document["_id"],
            session_id=request.session_id,
            profile_ids=request.profile_ids,
            keys=keys,
        )
    except StudioError:
        await repository.delete_rendering(document["_id"])
        raise
    await repository.set_render_run(document["_id"], run_id)
    return delivery_out(await get_delivery(ctx, document["_id"]), promised)


def promised_links(ctx: DeliveryContext, delivery: Document) -> list[PromisedLink]:
    """The links a new delivery will issue, with their URLs (shown in this answer only)."""
    promised = []
    for recipient in delivery["recipients"]:
        request = LinkRequest.model_validate(recipient)
        promised.append(
            PromisedLink(
                id=recipient["link_id"],
                url=link_url(ctx, recipient["token"]),
                recipient_email=request.email,
                recipient_name=request.name,
                pin_required=request.pin is not None,
                download_limit=request.download_limit,
                lifetime_hours=lifetime_of(ctx, delivery, request).total_seconds() / 3600,
            )
        )
    return promised


async def deliver_run(ctx: DeliveryContext, run: RunCompleted) -> bool:
    """A render run whose profile says "deliver": one delivery per run, whatever redelivers it.

    The delivery's id is derived from the run id, so the insert itself is idempotent. A run a
    delivery asked for (its reference) goes to that delivery instead.
    """
    if delivery_id_of(run.reference) is not None:
        return await package_rendered(ctx, run)
    if not run.deliver or not run.outputs:
        return False
    document = _new_delivery(
        delivery_id=f"run-{run.run_id}",
        session_id=run.session_id,
        run_id=run.run_id,
        title=f"Session {run.session_id}" if run.session_id else f"Render run {run.run_id}",
        keys=[o.key for o in run.outputs],
        recipients=[LinkRequest()],
        link_expiry_days=run.link_expiry_days,
    )
    try:
        await DeliveryRepository(ctx.db).insert(document)
    except DuplicateKeyError:
        return False
    return True


async def package_rendered(ctx: DeliveryContext, run: RunCompleted) -> bool:
    """The run a delivery asked for has ended well: package its outputs (once)."""
    delivery_id = delivery_id_of(run.reference)
    assert delivery_id is not None
    repository = DeliveryRepository(ctx.db)
    if not run.outputs:
        return await render_failed(ctx, delivery_id, "The render run produced no images.")
    moved = await repository.rendered(delivery_id, run.run_id, [o.key for o in run.outputs])
    if moved:
        wake_packager(ctx)  # the API process's packager (in a consumer process: its next poll)
    else:
        log.info(
            "render run %s for %s: the delivery is not waiting for it", run.run_id, delivery_id
        )
    return moved


async def on_render_failed(ctx: DeliveryContext, run: RunFailed) -> bool:
    """A run a delivery asked for failed: the delivery fails with render's reason."""
    delivery_id = delivery_id_of(run.reference)
    if delivery_id is None:
        return False
    return await render_failed(ctx, delivery_id, f"Rendering failed: {run.error}"[:500])


async def render_failed(ctx: DeliveryContext, delivery_id: str, reason: str) -> bool:
    delivery = await DeliveryRepository(ctx.db).get(delivery_id)
    if delivery is None or delivery["status"] != "rendering":
        return False
    return await _fail(ctx, delivery, reason)


async def get_delivery(ctx: DeliveryContext, delivery_id: str) -> Document:
    delivery = await DeliveryRepository(ctx.db).get(delivery_id)
    if delivery is None:
        raise NotFound("No such delivery.", detail={"delivery_id": delivery_id})
    return delivery


async def describe(ctx: DeliveryContext, delivery: Document) -> DeliveryOut:
    out = delivery_out(delivery)
    out.links = await links_of(ctx, delivery["_id"])
    return out


async def list_deliveries(
    ctx: DeliveryContext, session_id: str | None, limit: int
) -> list[DeliveryOut]:
    return [
        delivery_out(d)
        for d in await DeliveryRepository(ctx.db).recent(session_id=session_id, limit=limit)
    ]


def delivery_out(delivery: Document, issued: list[PromisedLink] | None = None) -> DeliveryOut:
    return DeliveryOut(
        issued_links=issued or [],
        id=delivery["_id"],
        session_id=delivery.get("session_id"),
        run_id=delivery.get("run_id"),
        title=delivery["title"],
        status=delivery["status"],
        failure=delivery.get("failure"),
        profile_ids=delivery.get("profile_ids"),
        render_run_id=delivery.get("render_run_id"),
        include_invoices=bool(delivery.get("include_invoices")),
        file_count=len(delivery.get("source_keys") or delivery.get("render_keys") or []),
        files=[
            FileOut(index=i, name=f["name"], bytes=f["bytes"], sha256=f["sha256"])
            for i, f in enumerate(delivery.get("files", []), start=1)
        ],
        archives=[
            ArchiveOut(index=a["index"], name=a["name"], bytes=a["bytes"], files=a["files"])
            for a in delivery.get("archives", [])
        ],
        created_at=delivery["created_at"],
        ready_at=delivery.get("ready_at"),
    )


async def _list_keys(ctx: DeliveryContext, prefix: str) -> list[str]:
    def list_all() -> list[str]:
        paginator = ctx.storage.client.get_paginator("list_objects_v2")
        return [
            item["Key"]
            for page in paginator.paginate(Bucket=ctx.settings.infra.images_bucket, Prefix=prefix)
            for item in page.get("Contents", [])
        ]

    return await asyncio.to_thread(list_all)


# --- packaging ---


def wake_packager(ctx: DeliveryContext) -> None:
    wake: asyncio.Event | None = ctx.platform.extras.get("packager_wake")
    if wake is not None:
        wake.set()


def _archive_stem(delivery: Document) -> str:
    stem = re.sub(r"[^A-Za-z0-9]+", "-", delivery["title"]).strip("-").lower()
    return stem[:60] or "delivery"


async def package_next(ctx: DeliveryContext) -> Document | None:
    """Claim one waiting delivery (or one whose packer's lease lapsed) and package it, renewing
    the claim as the work goes on; the delivery as it ended, or None if there was none."""
    repository = DeliveryRepository(ctx.db)
    now = datetime.now(UTC)
    delivery = await repository.claim_next(
        now, timedelta(seconds=ctx.settings.packaging_lease_seconds)
    )
    if delivery is None:
        return None
    async with PackagingLease(ctx, delivery["_id"], delivery["claim"]) as lease:
        await _package(ctx, delivery, lease)
    return await repository.get(delivery["_id"])


async def _package(ctx: DeliveryContext, delivery: Document, lease: PackagingLease) -> None:
    settings = ctx.settings
    delivery_id, claim = delivery["_id"], delivery["claim"]
    try:
        await clear_earlier_attempts(ctx, delivery_id)
        package = await asyncio.to_thread(
            build_package,
            ctx.storage.client,
            images_bucket=settings.infra.images_bucket,
            deliveries_bucket=settings.infra.deliveries_bucket,
            prefix=attempt_prefix(delivery_id, claim),
            archive_stem=_archive_stem(delivery),
            sources=file_names(delivery["source_keys"]),
            options=PackagingOptions(
                part_bytes=settings.upload_part_bytes,
                concurrency=settings.upload_concurrency,
                archive_cap_bytes=settings.archive_cap_bytes,
            ),
            stop=lease.stop,
        )
    except PackagingStopped:
        log.warning("packaging delivery %s stopped: it is not this attempt's any more", delivery_id)
        return
    except PackagingError as exc:
        await _fail(ctx, delivery, str(exc), claim=claim)
        return
    except Exception as exc:
        log.exception("packaging delivery %s failed", delivery_id)
        reason = f"Packaging failed: {type(exc).__name__}: {exc}"[:500]
        await _fail(ctx, delivery, reason, claim=claim)
        return
    if not await _publish(ctx, delivery, package, lease):
        # Another attempt holds the delivery now (or it ended meanwhile): nothing of this one
        # may stay, in S3 or as links.
        await LinkRepository(ctx.db).delete_attempt(delivery_id, claim)
        await clear_attempt(ctx, delivery_id, claim)


async def _publish(
    ctx: DeliveryContext, delivery: Document, package: Package, lease: PackagingLease
) -> bool:
    """Issue the recipients' links, then make the delivery ready with their events at once;
    False if this attempt no longer holds the delivery."""
    # Renewed first: while it holds, no other attempt can claim the delivery, so the links
    # of earlier attempts removed below are truly abandoned.
    if not await lease.renew():
        return False
    now = datetime.now(UTC)
    fields: dict[str, Any] = {
        "files": [
            {
                "name": f.name,
                "key": f.key,
                "source_key": f.source_key,
                "bytes": f.bytes,
                "sha256": f.sha256,
            }
            for f in package.files
        ],
        "archives": [
            {
                "index": a.index,
                "name": a.name,
                "key": a.key,
                "bytes": a.bytes,
                "etag": a.etag,
                "files": a.files,
            }
            for a in package.archives
        ],
        "ready_at": now,
        "recipients": [],
        "claimed_until": None,
    }
    ready = {**delivery, **fields}
    issued_links = [
        new_link(
            ctx,
            ready,
            LinkRequest.model_validate(r),
            now,
            token=r.get("token"),
            link_id=r.get("link_id"),
        )
        for r in delivery["recipients"]
    ]
    # Links are invisible until their delivery is ready, so inserting them first is safe; those
    # of an earlier attempt that died before publishing go first (never shown, never mailed).
    links = LinkRepository(ctx.db)
    for link, _ in issued_links:
        link["claim"] = delivery["claim"]
    await links.delete_unpublished(delivery["_id"], delivery["claim"])
    try:
        await links.insert_many([link for link, _ in issued_links])
    except DuplicateKeyError:
        # The links' ids are fixed when the delivery is asked for: an earlier attempt that lost
        # its claim wrote them meanwhile. Its copies go, and this attempt's are written.
        await links.delete_unpublished(delivery["_id"], delivery["claim"])
        await links.insert_many([link for link, _ in issued_links])
    events = [ready_event(ctx, ready, link, token) for link, token in issued_links]
    if not await DeliveryRepository(ctx.db).mark_ready(
        delivery["_id"], delivery["claim"], fields, events
    ):
        return False
    ctx.events_written(deliveries_collection, delivery["_id"])
    # The mails are stored with the links: if this process dies now, the sweep sends them.
    await send_link_mails(ctx, [link["_id"] for link, _ in issued_links if link["mail_pending"]])
    return True


async def _fail(
    ctx: DeliveryContext, delivery: Document, reason: str, *, claim: str | None = None
) -> bool:
    """Fail the delivery with its event; with `claim`, only if that packaging attempt still
    holds it."""
    now = datetime.now(UTC)
    event = ctx.event(
        DeliveryFailed(
            delivery_id=delivery["_id"],
            session_id=delivery.get("session_id"),
            run_id=delivery.get("run_id"),
            reason=reason,
            failed_at=now,
        ),
        delivery_id=delivery["_id"],
    )
    if await DeliveryRepository(ctx.db).mark_failed(
        delivery["_id"],
        {"failure": reason, "recipients": [], "claimed_until": None},
        [event],
        claim=claim,
    ):
        ctx.events_written(deliveries_collection, delivery["_id"])
        return True
    return False


async def packager_loop(ctx: DeliveryContext, wake: asyncio.Event) -> None:
    """Until cancelled: package whatever waits, then sleep until woken or the poll interval."""
    while True:
        wake.clear()
        try:
            while await package_next(ctx) is not None:
                pass
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("packaging queue pass failed (%s); retrying", exc)
        # asyncio.timeout, not wait_for: wait_for can swallow a cancellation on 3.11.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(ctx.settings.packaging_poll_seconds):
                await wake.wait()
