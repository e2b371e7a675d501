"""Which images a job renders, with which recipe: workflow's render set (contract A)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from render.imaging.specs import Crop
from render.jobs.schemas import ImageSelection, JobIn
from render.runs.render_sets import RenderSet, recipe_for, request_of
from render.runs.service import plan_tasks

RECIPE = {
    "version": 3,
    "crops": [
        {
            "name": "square",
            "aspect_ratio": "1:1",
            "rect": {"x": 0.2, "y": 0, "width": 0.6, "height": 1},
        },
        {
            "name": "8x10",
            "aspect_ratio": "4:5",
            "rect": {"x": 0.1, "y": 0, "width": 0.8, "height": 1},
        },
    ],
    "adjustments": {
        "exposure": 0.5,
        "brightness": 0,
        "contrast": 10,
        "saturation": -20,
        "levels": {"black": 0, "white": 255, "gamma": 1.0},
        "future_field": 1,
    },
    "colorization": {"mode": "sepia", "tint_color": None, "strength": 0.5},
}


def item(image: str = "img-1", **fields: Any) -> dict[str, Any]:
    return {
        "image_id": image,
        "key": f"sessions/s1/hires/{image}.jpg",
        "original_key": f"sessions/s1/hires/{image}.jpg",
        "folder": "hires",
        "image_number": 1,
        "sha256": None,
        "recipe": None,
        "line": None,
        **fields,
    }


def render_set(*items: dict[str, Any]) -> RenderSet:
    return RenderSet.model_validate(
        {
            "entity_kind": "invoice",
            "entity_id": "inv-1",
            "session_id": "s1",
            "session_number": "2024-001",
            "items": list(items),
        }
    )


def test_each_selection_kind_asks_workflow_the_matching_question() -> None:
    def ask(
        kind: str, entity_kind: str = "session", **selection: Any
    ) -> tuple[str, dict[str, str]]:
        chosen = ImageSelection.model_validate({"kind": kind, **selection})
        return request_of(chosen.model_dump(), entity_kind, "e-1", "s1")

    assert ask("all") == ("/workflow/sessions/s1/render-set", {"folder": "hires"})
    assert ask("all", folder="raw") == ("/workflow/sessions/s1/render-set", {"folder": "raw"})
    assert ask("rating", selection="selected", min_stars=3) == (
        "/workflow/sessions/s1/render-set",
        {"folder": "hires", "selection": "selected", "min_stars": "3"},
    )
    assert ask("rating", min_stars=4)[1] == {"folder": "hires", "min_stars": "4"}
    assert ask("group", group_id="g-7")[1] == {"folder": "hires", "group_id": "g-7"}
    assert ask("ordered", "invoice") == ("/workflow/invoices/e-1/render-set", {})
    assert ask("ordered", "production_order") == (
        "/workflow/production-orders/e-1/render-set",
        {},
    )


def test_selections_that_do_not_fit_their_kind_are_refused() -> None:
    for bad in (
        {"kind": "rating"},
        {"kind": "group"},
        {"kind": "all", "group_id": "g"},
        {"kind": "all", "min_stars": 2},
        {"kind": "rating", "min_stars": 9},
        {"kind": "keys"},
    ):
        with pytest.raises(ValidationError):
            ImageSelection.model_validate(bad)
    with pytest.raises(ValidationError, match="ordered"):
        JobIn.model_validate(
            {
                "name": "j",
                "entity_kind": "session",
                "select_status": "x",
                "profile_ids": ["p"],
                "images": {"kind": "ordered"},
            }
        )


def test_the_line_crop_wins_then_the_named_crop_then_the_first() -> None:
    line = {
        "line_id": "l1",
        "product_id": "p1",
        "product_name": "5x7",
        "quantity": 2,
        "crop": {"x": 0, "y": 0.1, "width": 1, "height": 0.7, "rotation": 0},
    }
    [ordered] = render_set(item(recipe=RECIPE, line=line)).items
    recipe = recipe_for(ordered, "square")
    assert recipe is not None
    assert recipe.crop == Crop(x=0, y=0.1, width=1, height=0.7)
    assert recipe.version == 3
    [plain] = render_set(item(recipe=RECIPE)).items
    named = recipe_for(plain, "8x10")
    first = recipe_for(plain, None)
    assert named is not None
    assert named.crop == Crop(x=0.1, y=0, width=0.8, height=1)
    assert first is not None
    assert first.crop == Crop(x=0.2, y=0, width=0.6, height=1)
    assert first.adjustments is not None
    assert first.adjustments.exposure == 0.5
    assert first.colorization is not None
    assert first.colorization.mode == "sepia"
    [bare] = render_set(item()).items
    assert recipe_for(bare, None) is None


def test_an_image_ordered_twice_alike_renders_once_and_differently_gets_its_own_name() -> None:
    crop = {"x": 0, "y": 0, "width": 0.5, "height": 0.5, "rotation": 0}
    lines = [
        {"line_id": "l1", "product_id": "p", "product_name": "5x7", "quantity": 1, "crop": None},
        {"line_id": "l2", "product_id": "p", "product_name": "5x7", "quantity": 3, "crop": None},
        {"line_id": "l3", "product_id": "p", "product_name": "5x7", "quantity": 1, "crop": crop},
    ]
    profile = {"id": "prf_1", "version": 1, "content": {"name": "Print", "product": "print"}}
    tasks = plan_tasks(
        "run-1",
        "s1",
        render_set(*(item(line=line) for line in lines), item("img-2")),
        [profile],
        None,
        {},
    )
    assert [t["image_label"] for t in tasks] == ["img-1", "img-1-2", "img-2"]
    assert [t["product"] for t in tasks] == ["5x7", "5x7", "print"]
    assert tasks[1]["recipe"]["crop"] == {"x": 0, "y": 0, "width": 0.5, "height": 0.5}
    again = plan_tasks(
        "run-1", "s1", render_set(*(item(line=line) for line in lines)), [profile], None, {}
    )
    assert [t["_id"] for t in again] == [t["_id"] for t in tasks[:2]]
