"""Render profiles: create, read, edit (each edit a new version), read any past version."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from kit.errors import Conflict, NotFound
from kit.mongo import Document
from render.context import RenderContext
from render.profiles.repository import ProfileRepository
from render.profiles.schemas import ProfileIn, ProfileOut


def _now() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _out(document: Document, version: Document | None = None) -> ProfileOut:
    chosen = version or {"version": document["version"], "content": document["current"]}
    return ProfileOut(
        id=document["_id"],
        version=chosen["version"],
        created_at=document["created_at"],
        updated_at=document["updated_at"],
        **chosen["content"],
    )


def _content(request: ProfileIn) -> dict[str, Any]:
    return request.model_dump(mode="json")


async def create_profile(ctx: RenderContext, request: ProfileIn) -> ProfileOut:
    profile_id = f"prf_{uuid.uuid4().hex[:16]}"
    await ProfileRepository(ctx.db).insert(profile_id, _content(request), _now())
    return await get_profile(ctx, profile_id)


async def load(ctx: RenderContext, profile_id: str) -> Document:
    document = await ProfileRepository(ctx.db).get(profile_id)
    if document is None:
        raise NotFound(f"There is no render profile {profile_id}.", detail={"id": profile_id})
    return document


async def get_profile(ctx: RenderContext, profile_id: str) -> ProfileOut:
    return _out(await load(ctx, profile_id))


async def get_version(ctx: RenderContext, profile_id: str, version: int) -> ProfileOut:
    document = await load(ctx, profile_id)
    for entry in document["versions"]:
        if entry["version"] == version:
            return _out(document, entry)
    raise NotFound(
        f"Render profile {profile_id} has no version {version}.",
        detail={"id": profile_id, "version": version, "latest": document["version"]},
    )


async def list_profiles(ctx: RenderContext, limit: int) -> list[ProfileOut]:
    return [_out(d) for d in await ProfileRepository(ctx.db).oldest_first(limit)]


async def edit_profile(
    ctx: RenderContext, profile_id: str, request: ProfileIn, base_version: int | None
) -> ProfileOut:
    """A new version with `request`'s content; `base_version` guards against lost updates."""
    document = await load(ctx, profile_id)
    current = document["version"]
    if base_version is not None and base_version != current:
        raise Conflict(
            f"Render profile {profile_id} is at version {current}, not {base_version}.",
            detail={"id": profile_id, "version": current},
        )
    if _content(request) == document["current"]:
        return _out(document)  # nothing changed: no new version
    if not await ProfileRepository(ctx.db).add_version(
        profile_id, current, _content(request), _now()
    ):
        raise Conflict(
            f"Render profile {profile_id} was edited meanwhile; read it again.",
            detail={"id": profile_id},
        )
    return await get_profile(ctx, profile_id)
