"""What a run renders: workflow's render set (contract A), read when the run is planned.

A job's image selection becomes one internal read on workflow (`RENDER_WORKFLOW_URL`, headers as
the gateway sends them): a session's images of a folder, by rating or by group, or the images
ordered on an invoice or production order with their line crops. Each item names the S3 key to
render from (the retouched file when there is one), its SHA-256 when known, and the image's
current edit recipe; `recipe_for` turns that into the one crop, adjustments and colorization
the renderer applies.
"""

from __future__ import annotations

import posixpath
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, Field

from kit.internal_auth import peer_client
from kit.mongo import Document
from render.context import RenderContext
from render.imaging.specs import Adjustments, Colorization, Crop, Recipe

M = TypeVar("M", Adjustments, Colorization)

HTTP_KEY = "workflow_http"
# Workflow's internal reads want a caller, as the gateway would state one.
CALLER = {"X-User-Id": "render", "X-User-Role": "staff"}


class Rect(BaseModel):
    x: float
    y: float
    width: float
    height: float


class NamedCrop(BaseModel):
    name: str
    aspect_ratio: str = "free"
    rect: Rect


class LineCrop(Rect):
    rotation: float = 0


class OrderLine(BaseModel):
    line_id: str
    product_id: str
    product_name: str | None = None
    quantity: int = 1
    crop: LineCrop | None = None


class WorkflowRecipe(BaseModel):
    """An image's edit recipe as workflow stores it (fields render does not use are ignored)."""

    version: int
    crops: list[NamedCrop] = Field(default_factory=list)
    adjustments: dict[str, Any] | None = None
    colorization: dict[str, Any] | None = None


class RenderSetItem(BaseModel):
    image_id: str
    key: str
    original_key: str | None = None
    folder: str | None = None
    image_number: int | None = None
    sha256: str | None = None
    recipe: WorkflowRecipe | None = None
    line: OrderLine | None = None


class RenderSet(BaseModel):
    entity_kind: str
    entity_id: str
    session_id: str
    session_number: str | None = None
    items: list[RenderSetItem]


class RenderSetMissing(Exception):
    """Workflow does not know the entity (or the group): the run fails with this reason."""


def request_of(
    selection: Document, entity_kind: str, entity_id: str, session_id: str
) -> tuple[str, dict[str, str]]:
    """The workflow path and query that answer a job's image selection."""
    if selection["kind"] == "ordered":
        collection = "invoices" if entity_kind == "invoice" else "production-orders"
        return f"/workflow/{collection}/{entity_id}/render-set", {}
    # The retouched file wins anyway: a job on `retouched` asks for the hi-res originals.
    folder = "raw" if selection.get("folder") == "raw" else "hires"
    query = {"folder": folder}
    if selection["kind"] == "rating":
        if selection.get("selection") is not None:
            query["selection"] = selection["selection"]
        if selection.get("min_stars") is not None:
            query["min_stars"] = str(selection["min_stars"])
    if selection["kind"] == "group":
        query["group_id"] = selection["group_id"]
    return f"/workflow/sessions/{session_id}/render-set", query


def of_keys(keys: list[str], entity_kind: str, entity_id: str, session_id: str) -> RenderSet:
    """A render set of explicit keys (no recipes); the image id is the file's stem."""
    items = [
        RenderSetItem(image_id=posixpath.splitext(posixpath.basename(k))[0], key=k) for k in keys
    ]
    return RenderSet(
        entity_kind=entity_kind, entity_id=entity_id, session_id=session_id, items=items
    )


def workflow_http(ctx: RenderContext) -> httpx.AsyncClient:
    """The process's client for workflow's internal reads (made on first use)."""
    client = ctx.platform.extras.get(HTTP_KEY)
    if client is None:
        client = peer_client(ctx.settings.workflow_url, CALLER, ctx.settings.infra)
        ctx.platform.extras[HTTP_KEY] = client
    assert isinstance(client, httpx.AsyncClient)
    return client


async def fetch_render_set(
    ctx: RenderContext, selection: Document, entity_kind: str, entity_id: str, session_id: str
) -> RenderSet:
    """The images a job's selection names; RenderSetMissing when workflow answers 404/422.

    Any other failure (workflow away, 5xx) raises, so the status event is retried.
    """
    if selection["kind"] == "keys":
        return of_keys(list(selection["keys"]), entity_kind, entity_id, session_id)
    path, query = request_of(selection, entity_kind, entity_id, session_id)
    answer = await workflow_http(ctx).get(path, params=query)
    if answer.status_code in (404, 422):
        message = _message(answer)
        raise RenderSetMissing(
            f"workflow has no render set for {entity_kind} {entity_id}: {message}"
        )
    answer.raise_for_status()
    return RenderSet.model_validate(answer.json())


def _message(answer: httpx.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        return answer.text[:200]
    return str(body.get("message", body))[:300] if isinstance(body, dict) else str(body)[:300]


def recipe_for(item: RenderSetItem, crop_name: str | None) -> Recipe | None:
    """The crop, adjustments and colorization to apply to one item.

    The crop: the invoice line's when the item has one, else the recipe crop named
    `crop_name`, else the recipe's first crop, else none.
    """
    source = item.recipe
    crop: Crop | None = None
    if item.line is not None and item.line.crop is not None:
        crop = _crop(item.line.crop)
    elif source is not None and source.crops:
        named = [c for c in source.crops if c.name == crop_name]
        crop = _crop((named or source.crops)[0].rect)
    if source is None:
        return None if crop is None else Recipe(crop=crop)
    return Recipe(
        version=source.version,
        crop=crop,
        adjustments=_known(Adjustments, source.adjustments),
        colorization=_known(Colorization, source.colorization),
    )


def _crop(rect: Rect) -> Crop | None:
    whole = rect.x <= 0 and rect.y <= 0 and rect.width >= 1 and rect.height >= 1
    if whole:
        return None
    return Crop(x=rect.x, y=rect.y, width=rect.width, height=rect.height)


def _known(model: type[M], fields: dict[str, Any] | None) -> M | None:
    if fields is None:
        return None
    return model.model_validate({k: v for k, v in fields.items() if k in model.model_fields})
