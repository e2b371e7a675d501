"""Presentation tools: ratings, named ordered groups, the slideshow order, comparison sets.

Every list of images is checked against the session's images (an unknown or foreign image, or
one named twice, is refused with nothing stored); an image deleted later simply drops out of
what is read back.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from kit.errors import NotFound, Unprocessable
from kit.mongo import Document
from workflow.context import WorkflowContext
from workflow.images.repository import ImageRepository
from workflow.presentation.repository import PresentationRepository
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
from workflow.sessions.repository import SessionRepository


class PresentationService:
    def __init__(self, context: WorkflowContext) -> None:
        self._repository = PresentationRepository(context.db)
        self._images = ImageRepository(context.db)
        self._sessions = SessionRepository(context.db)

    async def _session_images(self, session_id: str) -> list[str]:
        """The session's image ids in number order (404 for an unknown session)."""
        if await self._sessions.get(session_id) is None:
            raise NotFound(f"No session {session_id}.", detail={"session_id": session_id})
        return [d["_id"] for d in await self._images.of_session(session_id)]

    async def _checked(self, session_id: str, image_ids: list[str]) -> list[str]:
        known = set(await self._session_images(session_id))
        repeated = sorted({i for i in image_ids if image_ids.count(i) > 1})
        if repeated:
            raise Unprocessable(
                "An image may appear only once in the list.", detail={"repeated": repeated}
            )
        unknown = [i for i in image_ids if i not in known]
        if unknown:
            raise Unprocessable(
                f"{len(unknown)} image(s) are not images of session {session_id}.",
                detail={"unknown_image_ids": unknown},
            )
        return image_ids

    # Ratings ------------------------------------------------------------------------------

    async def rate(self, image_id: str, change: RatingChange) -> Rating:
        image = await self._images.get(image_id)
        if image is None:
            raise NotFound(f"No image {image_id}.", detail={"image_id": image_id})
        fields = change.model_dump(exclude_none=True)
        if not fields:
            raise Unprocessable("A rating change needs a selection, stars or both.")
        await self._images.set_fields(image_id, fields)
        merged = {"selection": "undecided", "stars": 0, **image, **fields}
        return Rating(image_id=image_id, selection=merged["selection"], stars=merged["stars"])

    # Groups -------------------------------------------------------------------------------

    async def create_group(self, session_id: str, draft: GroupDraft) -> Group:
        image_ids = await self._checked(session_id, draft.image_ids)
        existing = await self._repository.groups_of(session_id)
        document = {
            "_id": f"gr-{uuid.uuid4().hex[:12]}",
            "session_id": session_id,
            "name": draft.name,
            "position": draft.position if draft.position is not None else len(existing),
            "image_ids": image_ids,
            "created_at": _now(),
        }
        await self._repository.insert_group(document)
        return _group(document, set(image_ids))

    async def groups_of(self, session_id: str) -> list[Group]:
        present = set(await self._session_images(session_id))
        return [_group(d, present) for d in await self._repository.groups_of(session_id)]

    async def change_group(self, group_id: str, change: GroupChange) -> Group:
        document = await self._group(group_id)
        fields = change.model_dump(exclude_none=True)
        if not fields:
            raise Unprocessable("A group change needs a name, images or a position.")
        if change.image_ids is not None:
            await self._checked(document["session_id"], change.image_ids)
        await self._repository.set_group(group_id, fields)
        present = set(await self._session_images(document["session_id"]))
        return _group({**document, **fields}, present)

    async def delete_group(self, group_id: str) -> None:
        if not await self._repository.delete_group(group_id):
            raise NotFound(f"No group {group_id}.", detail={"group_id": group_id})

    async def _group(self, group_id: str) -> Document:
        document = await self._repository.get_group(group_id)
        if document is None:
            raise NotFound(f"No group {group_id}.", detail={"group_id": group_id})
        return document

    # Slideshow ----------------------------------------------------------------------------

    async def set_slideshow(self, session_id: str, order: SlideshowOrder) -> Slideshow:
        await self._checked(session_id, order.image_ids)
        await self._repository.set_slideshow(session_id, order.image_ids)
        return await self.slideshow(session_id)

    async def slideshow(self, session_id: str) -> Slideshow:
        """The chosen order first; images not placed follow in number order."""
        present = await self._session_images(session_id)
        stored = await self._repository.get_slideshow(session_id)
        chosen = [i for i in (stored or {}).get("image_ids", []) if i in set(present)]
        rest = [i for i in present if i not in set(chosen)]
        return Slideshow(session_id=session_id, image_ids=chosen + rest, custom=stored is not None)

    # Comparison sets ----------------------------------------------------------------------

    async def create_comparison(self, session_id: str, draft: ComparisonDraft) -> ComparisonSet:
        image_ids = await self._checked(session_id, draft.image_ids)
        document = {
            "_id": f"cmp-{uuid.uuid4().hex[:12]}",
            "session_id": session_id,
            "name": draft.name,
            "image_ids": image_ids,
            "created_at": _now(),
        }
        await self._repository.insert_comparison(document)
        return _comparison(document, set(image_ids))

    async def comparisons_of(self, session_id: str) -> list[ComparisonSet]:
        present = set(await self._session_images(session_id))
        return [_comparison(d, present) for d in await self._repository.comparisons_of(session_id)]

    async def delete_comparison(self, comparison_id: str) -> None:
        if not await self._repository.delete_comparison(comparison_id):
            raise NotFound(
                f"No comparison set {comparison_id}.", detail={"comparison_id": comparison_id}
            )


def _now() -> datetime:
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _group(document: Document, present: set[str]) -> Group:
    return Group(
        group_id=document["_id"],
        session_id=document["session_id"],
        name=document["name"],
        position=document["position"],
        image_ids=[i for i in document["image_ids"] if i in present],
        created_at=document["created_at"],
    )


def _comparison(document: Document, present: set[str]) -> ComparisonSet:
    return ComparisonSet(
        comparison_id=document["_id"],
        session_id=document["session_id"],
        name=document["name"],
        image_ids=[i for i in document["image_ids"] if i in present],
        created_at=document["created_at"],
    )
