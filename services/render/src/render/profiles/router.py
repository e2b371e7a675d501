"""Routes for render profiles: versioned; runs record the version they used."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from render.context import ContextDep
from render.profiles import service
from render.profiles.schemas import ProfileIn, ProfileOut

router = APIRouter(prefix="/profiles", tags=["profiles"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ProfileOut)
async def create_profile(ctx: ContextDep, request: ProfileIn) -> ProfileOut:
    """A new render profile (version 1)."""
    return await service.create_profile(ctx, request)


@router.get("", response_model=list[ProfileOut])
async def list_profiles(
    ctx: ContextDep, limit: Annotated[int, Query(ge=1, le=500)] = 200
) -> list[ProfileOut]:
    """Every profile at its current version, oldest first."""
    return await service.list_profiles(ctx, limit)


@router.get("/{profile_id}", response_model=ProfileOut)
async def read_profile(ctx: ContextDep, profile_id: str) -> ProfileOut:
    """A profile at its current version."""
    return await service.get_profile(ctx, profile_id)


@router.put(
    "/{profile_id}",
    response_model=ProfileOut,
    responses={409: {"description": "The profile moved on since base_version"}},
)
async def edit_profile(
    ctx: ContextDep,
    profile_id: str,
    request: ProfileIn,
    base_version: Annotated[int | None, Query(ge=1)] = None,
) -> ProfileOut:
    """Replace a profile's content: a new version (unless nothing changed). With
    `base_version`, answers 409 when the profile moved on since it was read."""
    return await service.edit_profile(ctx, profile_id, request, base_version)


@router.get("/{profile_id}/versions/{version}", response_model=ProfileOut)
async def read_profile_version(ctx: ContextDep, profile_id: str, version: int) -> ProfileOut:
    """A past (or the current) version of a profile, as runs that used it saw it."""
    return await service.get_version(ctx, profile_id, version)
