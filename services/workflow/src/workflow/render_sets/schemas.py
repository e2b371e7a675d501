"""The render set: what the render service renders for a session, an invoice or a production
order (contract A between workflow and render; change it only together with render)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from workflow.images.schemas import ImportFolder
from workflow.invoices.schemas import Crop as LineCrop
from workflow.presentation.schemas import Selection
from workflow.recipes.schemas import Adjustments, Colorization, Crop

EntityKind = Literal["session", "invoice", "production_order"]
# `hi-res` is the name the studio uses; the storage folder is `hires`.
FolderChoice = Literal["hires", "hi-res", "raw"]


def stored_folder(choice: FolderChoice) -> ImportFolder:
    return "hires" if choice == "hi-res" else choice


class RenderRecipe(BaseModel):
    """The image's current edit recipe, as workflow stores it."""

    version: int
    crops: list[Crop]
    adjustments: Adjustments
    colorization: Colorization


class RenderLine(BaseModel):
    """The invoice line an item was ordered on (one item per line and image)."""

    line_id: str
    product_id: str
    product_name: str | None
    quantity: int
    crop: LineCrop | None


class RenderItem(BaseModel):
    image_id: str
    key: str = Field(description="render from this: the retouched file, else the original")
    original_key: str
    folder: str = Field(description="the folder of `key`")
    image_number: int | None
    sha256: str | None = Field(description="of the object at `key`, when known")
    recipe: RenderRecipe | None
    line: RenderLine | None


class RenderSet(BaseModel):
    entity_kind: EntityKind
    entity_id: str
    session_id: str
    session_number: str | None
    items: list[RenderItem]


class SessionFilter(BaseModel):
    """Which of a session's images to render (every filter optional)."""

    folder: FolderChoice = "hi-res"
    selection: Selection | None = None
    min_stars: int | None = Field(default=None, ge=0, le=5)
    group_id: str | None = Field(default=None, min_length=1, max_length=100)
