"""Render sets: which stored files render works from, with each image's recipe and, for orders,
the line it was ordered on.

The retouched file wins over the original when an image has one. An image that has neither a
retouched file nor a file in the chosen folder (a RAW-only frame when `hires` is asked for), and
an ordered image id that names no stored image, give no item.
"""

from __future__ import annotations

from collections.abc import Iterable

from kit.errors import NotFound, Unprocessable
from kit.mongo import Document
from workflow.context import WorkflowContext
from workflow.images.repository import ImageRepository
from workflow.images.schemas import ImportFolder
from workflow.invoices.schemas import Crop as LineCrop
from workflow.invoices.service import InvoiceService
from workflow.presentation.repository import PresentationRepository
from workflow.production.service import ProductionService
from workflow.recipes.repository import RecipeRepository
from workflow.render_sets.schemas import (
    EntityKind,
    FolderChoice,
    RenderItem,
    RenderLine,
    RenderRecipe,
    RenderSet,
    SessionFilter,
    stored_folder,
)
from workflow.sessions.repository import SessionRepository


class RenderSetService:
    def __init__(self, context: WorkflowContext) -> None:
        self._context = context
        self._images = ImageRepository(context.db)
        self._sessions = SessionRepository(context.db)
        self._groups = PresentationRepository(context.db)
        self._recipes = RecipeRepository(context.db)

    async def of_session(self, session_id: str, chosen: SessionFilter) -> RenderSet:
        session = await self._sessions.get(session_id)
        if session is None:
            raise NotFound(f"No session {session_id}.", detail={"session_id": session_id})
        images = await self._images.of_session(session_id)
        if chosen.group_id is not None:
            images = await self._in_group(session_id, chosen.group_id, images)
        images = [i for i in images if _rated_as(i, chosen)]
        recipes = await self._recipes.latest_of_sessions([session_id])
        folder = stored_folder(chosen.folder)
        items = [
            item
            for image in images
            if (item := render_item(image, folder, recipes.get(image["_id"]))) is not None
        ]
        return RenderSet(
            entity_kind="session",
            entity_id=session_id,
            session_id=session_id,
            session_number=session.get("session_number"),
            items=items,
        )

    async def of_invoice(self, invoice_id: str, folder: FolderChoice) -> RenderSet:
        invoice = await InvoiceService(self._context).get(invoice_id)
        lines = [(line.model_dump(), line.image_ids) for line in invoice.lines]
        return await self._ordered("invoice", invoice_id, invoice.session_id, lines, folder)

    async def of_production_order(self, order_id: str, folder: FolderChoice) -> RenderSet:
        order = await ProductionService(self._context).get(order_id)
        invoices = await InvoiceService(self._context).documents(order.invoice_ids)
        session_id = next((d["session_id"] for d in invoices if d.get("session_id")), None)
        lines = [(line.model_dump(), line.image_ids) for line in order.lines]
        return await self._ordered("production_order", order_id, session_id, lines, folder)

    async def _in_group(
        self, session_id: str, group_id: str, images: list[Document]
    ) -> list[Document]:
        """The group's images in the group's order."""
        group = await self._groups.get_group(group_id)
        if group is None:
            raise NotFound(f"No group {group_id}.", detail={"group_id": group_id})
        if group["session_id"] != session_id:
            raise Unprocessable(
                f"Group {group_id} belongs to another session.",
                detail={"group_id": group_id, "session_id": group["session_id"]},
            )
        by_id = {image["_id"]: image for image in images}
        return [by_id[i] for i in group["image_ids"] if i in by_id]

    async def _ordered(
        self,
        kind: EntityKind,
        entity_id: str,
        session_id: str | None,
        lines: list[tuple[Document, list[str]]],
        folder: FolderChoice,
    ) -> RenderSet:
        """One item per (line, image), in line order."""
        wanted = list(dict.fromkeys(i for _, image_ids in lines for i in image_ids))
        images = {d["_id"]: d for d in await self._images.many(wanted)}
        sessions = _unique(d["session_id"] for d in images.values())
        recipes = await self._recipes.latest_of_sessions(sessions)
        items = []
        for line, image_ids in lines:
            ordered = _line(line)
            for image_id in image_ids:
                image = images.get(image_id)
                if image is None:
                    continue
                item = render_item(image, stored_folder(folder), recipes.get(image_id), ordered)
                if item is not None:
                    items.append(item)
        session_id = session_id or (sessions[0] if sessions else None)
        session = await self._sessions.get(session_id) if session_id else None
        return RenderSet(
            entity_kind=kind,
            entity_id=entity_id,
            session_id=session_id or "",
            session_number=session.get("session_number") if session else None,
            items=items,
        )


def render_item(
    image: Document,
    folder: ImportFolder,
    recipe: Document | None,
    line: RenderLine | None = None,
) -> RenderItem | None:
    """What render works from for one image, or None when it has nothing in `folder`."""
    keys: dict[str, str] = image["keys"]
    original = keys.get(folder)
    retouched: Document | None = image.get("retouched")
    if retouched is not None:
        key, key_folder, sha256 = retouched["key"], "retouched", retouched.get("sha256")
        original = original or keys.get("hires") or next(iter(keys.values()))
    elif original is not None:
        key, key_folder, sha256 = original, folder, image.get("sha256")
    else:
        return None
    return RenderItem(
        image_id=image["_id"],
        key=key,
        original_key=original,
        folder=key_folder,
        image_number=image.get("number"),
        sha256=sha256,
        recipe=RenderRecipe.model_validate(recipe) if recipe is not None else None,
        line=line,
    )


def _rated_as(image: Document, chosen: SessionFilter) -> bool:
    if chosen.selection is not None and image.get("selection", "undecided") != chosen.selection:
        return False
    return chosen.min_stars is None or int(image.get("stars") or 0) >= chosen.min_stars


def _line(line: Document) -> RenderLine:
    crop = line.get("crop")
    return RenderLine(
        line_id=line["line_id"],
        product_id=line["product_id"],
        product_name=line.get("product_name"),
        quantity=line["quantity"],
        crop=LineCrop.model_validate(crop) if crop is not None else None,
    )


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
