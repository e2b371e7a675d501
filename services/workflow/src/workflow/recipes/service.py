"""Edit recipes: versioned, validated, never touching the originals.

A named aspect ratio W:H must match the crop rectangle on the image's real pixels (within 1%),
so a render never has to guess which of the two was meant.
"""

from __future__ import annotations

from datetime import UTC, datetime

from kit.errors import Conflict, NotFound, Unprocessable
from kit.mongo import Document
from workflow.context import Actor, WorkflowContext
from workflow.images.repository import ImageRepository
from workflow.recipes.repository import RecipeRepository, recipe_id
from workflow.recipes.schemas import BulkRecipe, Recipe, RecipeBody, RecipeDraft
from workflow.sessions.repository import SessionRepository

RATIO_TOLERANCE = 0.01


class RecipeService:
    def __init__(self, context: WorkflowContext) -> None:
        self._repository = RecipeRepository(context.db)
        self._images = ImageRepository(context.db)
        self._sessions = SessionRepository(context.db)

    async def _image(self, image_id: str) -> Document:
        image = await self._images.get(image_id)
        if image is None:
            raise NotFound(f"No image {image_id}.", detail={"image_id": image_id})
        return image

    async def _latest(self, image: Document) -> Document | None:
        """The newest version: from the image's hint, then forward by `_id` (repairs a lag)."""
        version = int(image.get("recipe_version") or 0)
        latest = await self._repository.get(image["_id"], version) if version else None
        while True:
            following = await self._repository.get(image["_id"], version + 1)
            if following is None:
                return latest
            latest, version = following, version + 1

    async def save(self, image_id: str, draft: RecipeDraft, *, actor: Actor) -> Recipe:
        image = await self._image(image_id)
        latest = await self._latest(image)
        current = latest["version"] if latest else 0
        if draft.expected_version is not None and draft.expected_version != current:
            raise Conflict(
                f"The recipe is at version {current}, not {draft.expected_version}.",
                detail={"version": current},
            )
        body = RecipeBody.model_validate(draft.model_dump(exclude={"expected_version", "note"}))
        _check_ratios(image, body)
        return await self._insert(image, body, current + 1, note=draft.note, actor=actor)

    async def save_many(self, session_id: str, bulk: BulkRecipe, *, actor: Actor) -> list[Recipe]:
        """Every image must be the session's; nothing is stored unless all are."""
        if await self._sessions.get(session_id) is None:
            raise NotFound(f"No session {session_id}.", detail={"session_id": session_id})
        images = {d["_id"]: d for d in await self._images.of_session(session_id)}
        missing = [i for i in bulk.image_ids if i not in images]
        if missing:
            raise Unprocessable(
                f"{len(missing)} image(s) are not images of session {session_id}.",
                detail={"unknown_image_ids": missing},
            )
        if len(set(bulk.image_ids)) != len(bulk.image_ids):
            raise Unprocessable("An image may appear only once in the list.")
        for image_id in bulk.image_ids:
            _check_ratios(images[image_id], bulk.recipe)
        saved = []
        for image_id in bulk.image_ids:
            latest = await self._latest(images[image_id])
            version = (latest["version"] if latest else 0) + 1
            saved.append(
                await self._insert(
                    images[image_id], bulk.recipe, version, note=bulk.note, actor=actor
                )
            )
        return saved

    async def _insert(
        self, image: Document, body: RecipeBody, version: int, *, note: str | None, actor: Actor
    ) -> Recipe:
        now = datetime.now(UTC)
        document = {
            "_id": recipe_id(image["_id"], version),
            "image_id": image["_id"],
            "session_id": image["session_id"],
            "version": version,
            **body.model_dump(),
            "note": note,
            "created_at": now.replace(microsecond=now.microsecond // 1000 * 1000),
            "created_by": actor.user_id,
        }
        if not await self._repository.insert(document):
            raise Conflict(
                f"Image {image['_id']}'s recipe changed meanwhile; read it and edit again.",
                detail={"image_id": image["_id"]},
            )
        await self._images.set_fields(image["_id"], {"recipe_version": version})
        return Recipe.model_validate(document)

    async def current(self, image_id: str) -> Recipe:
        latest = await self._latest(await self._image(image_id))
        if latest is None:
            raise NotFound(f"Image {image_id} has no recipe yet.", detail={"image_id": image_id})
        return Recipe.model_validate(latest)

    async def version(self, image_id: str, version: int) -> Recipe:
        await self._image(image_id)
        found = await self._repository.get(image_id, version)
        if found is None:
            raise NotFound(
                f"Image {image_id} has no recipe version {version}.",
                detail={"image_id": image_id, "version": version},
            )
        return Recipe.model_validate(found)

    async def versions(self, image_id: str) -> list[Recipe]:
        await self._image(image_id)
        return [Recipe.model_validate(d) for d in await self._repository.versions(image_id)]


def _check_ratios(image: Document, body: RecipeBody) -> None:
    width, height = image.get("width"), image.get("height")
    for crop in body.crops:
        if ":" not in crop.aspect_ratio or not width or not height:
            continue
        w, h = (int(p) for p in crop.aspect_ratio.split(":"))
        actual = (crop.rect.width * width) / (crop.rect.height * height)
        if abs(actual / (w / h) - 1) > RATIO_TOLERANCE:
            raise Unprocessable(
                f"Crop {crop.name!r} is {actual:.3f}:1 on this {width}x{height} image, "
                f"not {crop.aspect_ratio}.",
                detail={"image_id": image["_id"], "crop": crop.name},
            )
