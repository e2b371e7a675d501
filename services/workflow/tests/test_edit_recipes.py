"""The studio edits images non-destructively: every recipe change is a new version and the
original never changes."""

from __future__ import annotations

from typing import Any

from image_factory import booked_session, picture
from workflow_harness import Workflow


async def session_with_images(workflow: Workflow, session_id: str, count: int) -> list[str]:
    await booked_session(workflow, session_id)
    answer = await workflow.client.post(
        f"/workflow/sessions/{session_id}/imports",
        files=[
            ("files", (f"R_{n}.jpg", picture("JPEG", size=(64, 48), shade=n), "image/jpeg"))
            for n in range(1, count + 1)
        ],
    )
    return [f["image_id"] for f in answer.json()["files"]]


SQUARE = {
    "name": "square",
    "aspect_ratio": "1:1",
    "rect": {"x": 0.25, "y": 0, "width": 0.75, "height": 1},
}
WIDE = {"name": "full", "aspect_ratio": "4:3", "rect": {"x": 0, "y": 0, "width": 1, "height": 1}}


async def test_recipe_edits_are_versioned_and_the_original_stays_untouched(
    workflow: Workflow, unique: str
) -> None:
    [image_id] = await session_with_images(workflow, f"rcp-{unique}", 1)
    image = (await workflow.client.get(f"/workflow/images/{image_id}")).json()
    bucket = workflow.context.settings.infra.images_bucket
    [key] = image["keys"].values()
    original = await workflow.context.storage.get_bytes(bucket, key)
    url = f"/workflow/images/{image_id}/recipe"
    assert (await workflow.client.get(url)).status_code == 404

    first = await workflow.client.put(
        url,
        json={
            "crops": [SQUARE, WIDE],
            "adjustments": {"exposure": 0.5, "contrast": 10, "levels": {"black": 5, "white": 250}},
            "colorization": {"mode": "sepia", "strength": 0.6},
        },
        headers={"X-User-Id": "ann"},
    )
    assert first.status_code == 200, first.text
    assert first.json()["version"] == 1
    second = await workflow.client.put(
        url,
        json={
            "expected_version": 1,
            "crops": [SQUARE],
            "colorization": {"mode": "tint", "tint_color": "#336699"},
            "note": "client asked for blue",
        },
    )
    assert second.json()["version"] == 2
    stale = await workflow.client.put(url, json={"expected_version": 1})
    assert stale.status_code == 409

    current = (await workflow.client.get(url)).json()
    assert current["version"] == 2
    assert [c["name"] for c in current["crops"]] == ["square"]
    assert current["colorization"]["tint_color"] == "#336699"
    old = (await workflow.client.get(f"{url}/versions/1")).json()
    assert old["colorization"]["mode"] == "sepia"
    assert old["adjustments"]["levels"] == {"black": 5, "white": 250, "gamma": 1.0}
    versions = (await workflow.client.get(f"{url}/versions")).json()
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["created_by"] == "ann"
    assert await workflow.context.storage.get_bytes(bucket, key) == original


async def test_out_of_range_recipes_are_refused_with_nothing_stored(
    workflow: Workflow, unique: str
) -> None:
    [image_id] = await session_with_images(workflow, f"rcpbad-{unique}", 1)
    url = f"/workflow/images/{image_id}/recipe"
    outside = {**SQUARE, "rect": {"x": 0.5, "y": 0, "width": 0.75, "height": 1}}
    wrong_ratio = {**SQUARE, "aspect_ratio": "16:9"}
    bad: list[dict[str, Any]] = [
        {"adjustments": {"exposure": 6}},
        {"adjustments": {"saturation": -101}},
        {"adjustments": {"levels": {"black": 200, "white": 100}}},
        {"colorization": {"mode": "tint"}},
        {"colorization": {"mode": "tint", "tint_color": "blue"}},
        {"colorization": {"mode": "sepia", "strength": 2}},
        {"crops": [outside]},
        {"crops": [{**SQUARE, "aspect_ratio": "square-ish"}]},
        {"crops": [SQUARE, SQUARE]},
        {"crops": [wrong_ratio]},
    ]
    for body in bad:
        answer = await workflow.client.put(url, json=body)
        assert answer.status_code == 422, body
        assert answer.json()["error"]
    assert (await workflow.client.get(f"{url}/versions")).json() == []
    missing = await workflow.client.put("/workflow/images/nope/recipe", json={})
    assert missing.status_code == 404


async def test_one_recipe_applied_to_several_images_is_all_or_nothing(
    workflow: Workflow, unique: str
) -> None:
    session_id = f"rcpmany-{unique}"
    first, second = await session_with_images(workflow, session_id, 2)
    url = f"/workflow/sessions/{session_id}/recipes"
    recipe = {"colorization": {"mode": "black_and_white"}}
    refused = await workflow.client.post(
        url, json={"image_ids": [first, "missing-image"], "recipe": recipe}
    )
    assert refused.status_code == 422
    assert refused.json()["detail"] == {"unknown_image_ids": ["missing-image"]}
    assert (await workflow.client.get(f"/workflow/images/{first}/recipe")).status_code == 404
    saved = await workflow.client.post(url, json={"image_ids": [first, second], "recipe": recipe})
    assert saved.status_code == 201
    assert [(r["image_id"], r["version"]) for r in saved.json()] == [(first, 1), (second, 1)]
    again = await workflow.client.post(url, json={"image_ids": [second], "recipe": recipe})
    assert again.json()[0]["version"] == 2
