"""Deliveries stuck `rendering`: re-driven once, then failed with the reason.

A delivery rendered through profiles waits for render's run. If nothing moves for
`DELIVERY_RENDERING_STALL_SECONDS` (the run neither advances nor ends, or there is no run: the
process died before render answered, or render lost it), the sweep first reads the run from
render's API: an ended run is taken as its event would have been (packaged, or failed with
render's error), an advancing one restarts the clock. Otherwise render is asked for the run
again, once; a second stall fails the delivery saying so. Each re-drive is claimed by a
conditional write on the clock, so two processes never both re-ask.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from delivery.context import DeliveryContext
from delivery.deliveries.rendering import read_render_run, start_render_run
from delivery.deliveries.repository import DeliveryRepository
from delivery.deliveries.service import render_failed, wake_packager
from kit.errors import ServiceUnavailable, StudioError
from kit.mongo import Document

log = logging.getLogger(__name__)

MAX_ASKS = 2  # the first ask and one re-ask


async def sweep_stalled_renders(ctx: DeliveryContext, *, batch: int = 200) -> int:
    """One pass over the deliveries waiting for render; how many were re-driven or failed."""
    repository = DeliveryRepository(ctx.db)
    now = datetime.now(UTC)
    stall = timedelta(seconds=ctx.settings.rendering_stall_seconds)
    moved = 0
    for delivery in await repository.rendering(batch):
        since = delivery.get("render_progress_at") or delivery["created_at"]
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        if now - since < stall:
            continue
        try:
            if await _redrive(ctx, delivery, now, stall):
                moved += 1
        except ServiceUnavailable as exc:
            log.warning("render out of reach for stalled delivery %s: %s", delivery["_id"], exc)
    return moved


async def _redrive(
    ctx: DeliveryContext, delivery: Document, now: datetime, stall: timedelta
) -> bool:
    repository = DeliveryRepository(ctx.db)
    delivery_id = delivery["_id"]
    seen_at = delivery.get("render_progress_at")
    run_id: str | None = delivery.get("render_run_id")
    run = await read_render_run(ctx, run_id) if run_id else None
    if run is not None and run_id is not None:
        if run["status"] == "completed":
            keys = [o["key"] for o in run.get("outputs", []) if o.get("key")]
            if not keys:
                return await render_failed(ctx, delivery_id, "The render run produced no images.")
            if await repository.rendered(delivery_id, run_id, keys):
                wake_packager(ctx)
                return True
            return False
        if run["status"] == "failed":
            reason = f"Rendering failed: {run.get('error') or 'render gave no reason'}"
            return await render_failed(ctx, delivery_id, reason[:500])
        if int(run.get("done", 0)) > int(delivery.get("render_done", 0)):
            # Slow, not stuck: the clock starts again from this progress.
            await repository.claim_stalled(
                delivery_id, seen_at, {"render_progress_at": now, "render_done": run["done"]}
            )
            return False
    waited = _duration(stall.total_seconds())
    if int(delivery.get("render_asks", 1)) >= MAX_ASKS:
        return await render_failed(
            ctx,
            delivery_id,
            f"Rendering made no progress for {waited}, even after asking render again"
            f" (run {run_id or 'never started'}); ask for the delivery again.",
        )
    fields: dict[str, Any] = {
        "render_progress_at": now,
        "render_asks": int(delivery.get("render_asks", 1)) + 1,
        "render_done": 0,
        "render_run_id": None,
        "render_stalled_run_id": run_id,
    }
    if not await repository.claim_stalled(delivery_id, seen_at, fields):
        return False  # another process re-drives it, or render answered meanwhile
    log.warning(
        "delivery %s: no progress from render run %s for %s; asking render again",
        delivery_id,
        run_id,
        waited,
    )
    try:
        new_run = await start_render_run(
            ctx,
            delivery_id=delivery_id,
            session_id=delivery["session_id"],
            profile_ids=delivery["profile_ids"],
            keys=delivery["render_keys"],
        )
    except ServiceUnavailable:
        raise  # the next stall fails it, if render stays away
    except StudioError as error:
        return await render_failed(
            ctx, delivery_id, f"Rendering stalled, and render refused it again: {error.message}"
        )
    await repository.set_render_run(delivery_id, new_run)
    return True


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h"


async def stall_sweeper(ctx: DeliveryContext) -> None:
    """Until cancelled: sweep the stalled renders every `DELIVERY_RENDERING_SWEEP_SECONDS`."""
    while True:
        try:
            await sweep_stalled_renders(ctx)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("rendering stall sweep failed (%s); retrying", exc)
        await asyncio.sleep(ctx.settings.rendering_sweep_seconds)
