"""Versioned edit recipes of images (crops, adjustments, colorization)."""

from __future__ import annotations

from fastapi import APIRouter, status

from workflow.context import ActorDep, ContextDep
from workflow.recipes.schemas import BulkRecipe, Recipe, RecipeDraft
from workflow.recipes.service import RecipeService

router = APIRouter(prefix="/workflow", tags=["recipes"])


@router.put("/images/{image_id}/recipe", summary="Save a new version of an image's recipe")
async def save_recipe(
    image_id: str, draft: RecipeDraft, context: ContextDep, actor: ActorDep
) -> Recipe:
    """Stores the next version (the original image never changes; render applies recipes).
    Out-of-range values answer 422; a stale `expected_version` answers 409."""
    return await RecipeService(context).save(image_id, draft, actor=actor)


@router.get("/images/{image_id}/recipe", summary="An image's current recipe")
async def current_recipe(image_id: str, context: ContextDep) -> Recipe:
    return await RecipeService(context).current(image_id)


@router.get("/images/{image_id}/recipe/versions", summary="Every version, oldest first")
async def recipe_versions(image_id: str, context: ContextDep) -> list[Recipe]:
    return await RecipeService(context).versions(image_id)


@router.get("/images/{image_id}/recipe/versions/{version}", summary="One past version")
async def recipe_version(image_id: str, version: int, context: ContextDep) -> Recipe:
    return await RecipeService(context).version(image_id, version)


@router.post(
    "/sessions/{session_id}/recipes",
    status_code=status.HTTP_201_CREATED,
    summary="Apply one recipe to several images of a session",
)
async def save_recipes(
    session_id: str, bulk: BulkRecipe, context: ContextDep, actor: ActorDep
) -> list[Recipe]:
    """All or nothing: an image that is not the session's answers 422 and nothing is stored."""
    return await RecipeService(context).save_many(session_id, bulk, actor=actor)
