"""Ratings, groups, slideshow order and comparison sets for the sales presentation."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from workflow.context import ContextDep
from workflow.presentation.schemas import (
    ComparisonDraft,
    ComparisonSet,
    Group,
    GroupChange,
    GroupDraft,
    Rating,
    RatingChange,
    Slideshow,
    SlideshowOrder,
)
from workflow.presentation.service import PresentationService

router = APIRouter(prefix="/workflow", tags=["presentation"])


@router.put("/images/{image_id}/rating", summary="Rate an image (selection and/or 0-5 stars)")
async def rate_image(image_id: str, change: RatingChange, context: ContextDep) -> Rating:
    return await PresentationService(context).rate(image_id, change)


@router.post(
    "/sessions/{session_id}/groups",
    status_code=status.HTTP_201_CREATED,
    summary="Add a named group of the session's images",
)
async def create_group(session_id: str, draft: GroupDraft, context: ContextDep) -> Group:
    return await PresentationService(context).create_group(session_id, draft)


@router.get("/sessions/{session_id}/groups", summary="A session's groups, in order")
async def session_groups(session_id: str, context: ContextDep) -> list[Group]:
    return await PresentationService(context).groups_of(session_id)


@router.patch("/groups/{group_id}", summary="Rename, refill or move a group")
async def change_group(group_id: str, change: GroupChange, context: ContextDep) -> Group:
    return await PresentationService(context).change_group(group_id, change)


@router.delete(
    "/groups/{group_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a group"
)
async def delete_group(group_id: str, context: ContextDep) -> Response:
    await PresentationService(context).delete_group(group_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/sessions/{session_id}/slideshow", summary="Set the slideshow order")
async def set_slideshow(session_id: str, order: SlideshowOrder, context: ContextDep) -> Slideshow:
    """Images named come first in the given order; the others follow by number."""
    return await PresentationService(context).set_slideshow(session_id, order)


@router.get("/sessions/{session_id}/slideshow", summary="The slideshow order")
async def slideshow(session_id: str, context: ContextDep) -> Slideshow:
    return await PresentationService(context).slideshow(session_id)


@router.post(
    "/sessions/{session_id}/comparisons",
    status_code=status.HTTP_201_CREATED,
    summary="Add a side-by-side comparison set (2-8 images)",
)
async def create_comparison(
    session_id: str, draft: ComparisonDraft, context: ContextDep
) -> ComparisonSet:
    return await PresentationService(context).create_comparison(session_id, draft)


@router.get("/sessions/{session_id}/comparisons", summary="A session's comparison sets")
async def session_comparisons(session_id: str, context: ContextDep) -> list[ComparisonSet]:
    return await PresentationService(context).comparisons_of(session_id)


@router.delete(
    "/comparisons/{comparison_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a comparison set",
)
async def delete_comparison(comparison_id: str, context: ContextDep) -> Response:
    await PresentationService(context).delete_comparison(comparison_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
