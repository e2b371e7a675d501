"""Previews: each imported original gets an sRGB JPEG preview in the session's previews folder."""

from __future__ import annotations

import asyncio
import logging
import posixpath
from datetime import UTC, datetime

from kit.events.contracts.render import ImageFailure, PreviewRef, PreviewsCreated
from kit.events.contracts.workflow import ImageRef, ImagesImported
from render.context import RenderContext
from render.imaging.pipeline import SourceImageError, render
from render.imaging.specs import FileFormat, OutputSize, RenderSpec
from render.previews.repository import COLLECTION, PreviewRepository

log = logging.getLogger(__name__)

# Originals worth a preview; previews and rendered outputs are ours already.
SOURCE_FOLDERS = frozenset({"raw", "hires", "retouched"})


def preview_spec(ctx: RenderContext) -> RenderSpec:
    return RenderSpec(
        size=OutputSize(long_edge_px=ctx.settings.preview_long_edge),
        dpi=72,
        format=FileFormat(quality=ctx.settings.preview_quality, subsampling="4:2:0"),
    )


def preview_key(session_id: str, image: ImageRef) -> str:
    stem = posixpath.splitext(posixpath.basename(image.key))[0]
    return f"sessions/{session_id}/previews/{stem}.jpg"


async def create_previews(ctx: RenderContext, event: ImagesImported, event_id: str) -> bool:
    """Previews for an import, then one `render.previews.created.v1`; False if done before."""
    repository = PreviewRepository(ctx.db)
    if await repository.seen(event_id):
        return False
    spec = preview_spec(ctx)
    limit = asyncio.Semaphore(ctx.settings.worker_concurrency)

    async def one(image: ImageRef) -> PreviewRef | ImageFailure:
        async with limit:
            try:
                source = await ctx.storage.get_bytes(ctx.bucket, image.key)
            except Exception as exc:  # a missing original fails that image only
                return ImageFailure(image_id=image.image_id, key=image.key, reason=str(exc))
            try:
                rendered = await asyncio.to_thread(render, source, spec)
            except SourceImageError as exc:
                return ImageFailure(image_id=image.image_id, key=image.key, reason=str(exc))
            key = preview_key(event.session_id, image)
            await ctx.storage.put(ctx.bucket, key, rendered.body, content_type="image/jpeg")
            return PreviewRef(
                image_id=image.image_id, key=key, width=rendered.width, height=rendered.height
            )

    wanted = [i for i in event.images if i.folder in SOURCE_FOLDERS]
    results = await asyncio.gather(*(one(i) for i in wanted))
    previews = [r for r in results if isinstance(r, PreviewRef)]
    failures = [r for r in results if isinstance(r, ImageFailure)]
    for failure in failures:
        log.warning("no preview for %s: %s", failure.key, failure.reason)
    payload = PreviewsCreated(session_id=event.session_id, previews=previews, failures=failures)
    recorded = await repository.record(
        {
            "_id": event_id,
            "session_id": event.session_id,
            "previews": [p.model_dump() for p in previews],
            "failures": [f.model_dump() for f in failures],
            "created_at": datetime.now(UTC),
        },
        ctx.event(payload, subject=event.session_id),
    )
    if recorded:
        ctx.events_written(COLLECTION, event_id)
    return recorded
