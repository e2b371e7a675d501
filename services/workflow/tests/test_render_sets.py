"""Render asks workflow what to render: a session's images filtered by rating, group and folder,
or the images ordered on an invoice or production order, each from its retouched file when it
has one, with its recipe (contract A between workflow and render)."""

from __future__ import annotations

import asyncio
import hashlib
import io
from typing import Any

from image_factory import booked_session, picture
from PIL import Image
from workflow_harness import Workflow

from workflow.archive import objects

RENDER = {"X-User-Id": "render", "X-User-Role": "staff"}
CROP = {"name": "8x10", "aspect_ratio": "free", "rect": {"x": 0, "y": 0, "width": 0.5, "height": 1}}


async def imported(workflow: Workflow, session_id: str, files: list[tuple[str, bytes]]) -> Any:
    await booked_session(workflow, session_id, number=f"N-{session_id[-6:]}")
    answer = await workflow.client.post(
        f"/workflow/sessions/{session_id}/imports",
        files=[("files", (name, body, "application/octet-stream")) for name, body in files],
        data={"options": '{"image_folders": ["hires"], "raw_folder": "raw"}'},
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["rejected"] == 0, answer.text
    return [f["image_id"] for f in answer.json()["files"]]


async def render_set(workflow: Workflow, path: str, **params: Any) -> Any:
    answer = await workflow.client.get(f"/workflow{path}/render-set", params=params, headers=RENDER)
    assert answer.status_code == 200, answer.text
    return answer.json()


def ids(body: Any) -> list[str]:
    return [item["image_id"] for item in body["items"]]


async def test_a_session_render_set_filters_by_rating_group_and_folder_and_prefers_retouched(
    workflow: Workflow, unique: str
) -> None:
    session = f"rs-{unique}"
    first, second, third, raw = await imported(
        workflow,
        session,
        [
            ("IMG_0001.jpg", picture("JPEG", shade=1)),
            ("IMG_0002.jpg", picture("JPEG", shade=2)),
            ("IMG_0003.png", picture("PNG", shade=3)),
            ("IMG_0004.cr2", b"camera raw bytes " * 50),
        ],
    )
    rate = workflow.client.put
    await rate(f"/workflow/images/{first}/rating", json={"selection": "selected", "stars": 4})
    await rate(f"/workflow/images/{second}/rating", json={"selection": "selected", "stars": 2})
    await rate(f"/workflow/images/{third}/rating", json={"selection": "not_selected", "stars": 5})
    group = await workflow.client.post(
        f"/workflow/sessions/{session}/groups", json={"name": "Wall", "image_ids": [third, first]}
    )
    recipe = await workflow.client.put(
        f"/workflow/images/{first}/recipe",
        json={"crops": [CROP], "colorization": {"mode": "sepia", "strength": 0.5}},
    )
    assert recipe.status_code == 200, recipe.text
    retouched_bytes = picture("JPEG", shade=200, size=(64, 48))
    stored = await workflow.client.put(
        f"/workflow/images/{second}/retouched",
        files={"file": ("IMG_0002-edit.jpg", retouched_bytes, "image/jpeg")},
        headers={"X-User-Id": "retoucher"},
    )
    assert stored.status_code == 200, stored.text

    everything = await render_set(workflow, f"/sessions/{session}")
    assert everything["entity_kind"] == "session"
    assert everything["entity_id"] == everything["session_id"] == session
    assert everything["session_number"] == f"N-{session[-6:]}"
    # The RAW-only frame has no hi-res file.
    assert ids(everything) == [first, second, third]
    by_id = {item["image_id"]: item for item in everything["items"]}
    plain = by_id[first]
    assert plain["key"] == plain["original_key"] == f"sessions/{session}/hires/IMG_0001.jpg"
    assert plain["folder"] == "hires"
    assert plain["image_number"] == 1
    assert plain["line"] is None
    assert plain["recipe"]["version"] == 1
    assert plain["recipe"]["crops"] == [CROP]
    assert plain["recipe"]["colorization"]["mode"] == "sepia"
    assert plain["recipe"]["adjustments"]["levels"] == {"black": 0, "white": 255, "gamma": 1.0}
    bucket = workflow.context.settings.infra.images_bucket
    original = await workflow.context.storage.get_bytes(bucket, plain["key"])
    assert hashlib.sha256(original).hexdigest() == plain["sha256"]
    edited = by_id[second]
    assert edited["key"] == f"sessions/{session}/retouched/IMG_0002.jpg"
    assert edited["folder"] == "retouched"
    assert edited["original_key"] == f"sessions/{session}/hires/IMG_0002.jpg"
    assert edited["recipe"] is None
    assert await workflow.context.storage.get_bytes(bucket, edited["key"]) == retouched_bytes
    assert edited["sha256"] == hashlib.sha256(retouched_bytes).hexdigest()

    assert ids(await render_set(workflow, f"/sessions/{session}", selection="selected")) == [
        first,
        second,
    ]
    assert ids(await render_set(workflow, f"/sessions/{session}", min_stars=3)) == [first, third]
    both = await render_set(workflow, f"/sessions/{session}", selection="selected", min_stars=3)
    assert ids(both) == [first]
    grouped = await render_set(workflow, f"/sessions/{session}", group_id=group.json()["group_id"])
    assert ids(grouped) == [third, first]
    # From the raw folder: the RAW frame, and the retouched file wherever the image has one.
    from_raw = await render_set(workflow, f"/sessions/{session}", folder="raw")
    assert ids(from_raw) == [second, raw]
    assert from_raw["items"][1]["key"] == f"sessions/{session}/raw/IMG_0004.cr2"
    assert (await render_set(workflow, f"/sessions/{session}", folder="hires")) == everything
    undecided = await render_set(workflow, f"/sessions/{session}", selection="undecided")
    assert ids(undecided) == []


async def test_session_render_set_refuses_unknown_sessions_groups_and_bad_filters(
    workflow: Workflow, unique: str
) -> None:
    session = f"rsb-{unique}"
    other = f"rso-{unique}"
    await imported(workflow, session, [("A.jpg", picture("JPEG", shade=1))])
    [foreign] = await imported(workflow, other, [("B.jpg", picture("JPEG", shade=2))])
    foreign_group = await workflow.client.post(
        f"/workflow/sessions/{other}/groups", json={"name": "Theirs", "image_ids": [foreign]}
    )
    url = f"/workflow/sessions/{session}/render-set"
    cases = {
        "/workflow/sessions/nope/render-set": (404, "not_found"),
        f"{url}?group_id=gr-missing": (404, "not_found"),
        f"{url}?group_id={foreign_group.json()['group_id']}": (422, None),
        f"{url}?folder=previews": (422, None),
        f"{url}?min_stars=9": (422, None),
        f"{url}?selection=maybe": (422, None),
        "/workflow/invoices/nope/render-set": (404, "not_found"),
        "/workflow/production-orders/nope/render-set": (404, "not_found"),
    }
    for path, (status, code) in cases.items():
        answer = await workflow.client.get(path, headers=RENDER)
        assert answer.status_code == status, (path, answer.text)
        body = answer.json()
        assert {"error", "message", "request_id"} <= set(body), body
        if code is not None:
            assert body["error"] == code
    empty = await workflow.client.post(
        f"/workflow/sessions/{session}/groups", json={"name": "Empty", "image_ids": []}
    )
    nothing = await render_set(workflow, f"/sessions/{session}", group_id=empty.json()["group_id"])
    assert nothing["items"] == []


async def test_an_invoice_and_its_production_order_give_one_item_per_line_and_image(
    workflow: Workflow, unique: str
) -> None:
    session = f"rsi-{unique}"
    first, second = await imported(
        workflow,
        session,
        [("P_0007.jpg", picture("JPEG", shade=7)), ("P_0008.jpg", picture("JPEG", shade=8))],
    )
    await workflow.client.put(f"/workflow/images/{second}/recipe", json={"crops": [CROP]})
    prices = await workflow.client.post(
        "/workflow/price-lists",
        json={
            "name": "Prints",
            "currency": "USD",
            "products": [
                {"name": "8x10 print", "price_minor": 2500, "kind": "physical", "vendor": "Lab"},
                {"name": "Canvas", "price_minor": 19900, "kind": "physical", "vendor": "Lab"},
            ],
        },
    )
    products = {p["name"]: p["id"] for p in prices.json()["products"]}
    crop = {"x": 0.1, "y": 0.0, "width": 0.8, "height": 1.0, "rotation": 90.0}
    invoice = await workflow.client.post(
        "/workflow/invoices",
        json={
            "client_id": "client-1",
            "session_id": session,
            "price_list_id": prices.json()["id"],
            "lines": [
                {
                    "product_id": products["8x10 print"],
                    "quantity": 2,
                    "image_ids": [first, second],
                    "crop": crop,
                },
                # An image id that names no stored image gives no item.
                {"product_id": products["Canvas"], "quantity": 1, "image_ids": [second, "gone"]},
            ],
        },
    )
    assert invoice.status_code == 201, invoice.text
    invoice_id = invoice.json()["invoice_id"]
    lines = invoice.json()["lines"]

    ordered = await render_set(workflow, f"/invoices/{invoice_id}")
    assert ordered["entity_kind"] == "invoice"
    assert ordered["entity_id"] == invoice_id
    assert ordered["session_id"] == session
    assert ordered["session_number"] == f"N-{session[-6:]}"
    pairs = [(item["line"]["line_id"], item["image_id"]) for item in ordered["items"]]
    assert pairs == [
        (lines[0]["line_id"], first),
        (lines[0]["line_id"], second),
        (lines[1]["line_id"], second),
    ]
    print_line = ordered["items"][0]["line"]
    assert print_line == {
        "line_id": lines[0]["line_id"],
        "product_id": products["8x10 print"],
        "product_name": "8x10 print",
        "quantity": 2,
        "crop": crop,
    }
    assert ordered["items"][2]["line"]["crop"] is None
    assert ordered["items"][1]["recipe"]["crops"] == [CROP]
    assert ordered["items"][0]["key"] == f"sessions/{session}/hires/P_0007.jpg"

    split = await workflow.client.post(
        "/workflow/production-orders", json={"invoice_ids": [invoice_id]}
    )
    assert split.status_code == 201, split.text
    [order] = split.json()["production_orders"]
    produced = await render_set(workflow, f"/production-orders/{order['production_order_id']}")
    assert produced["entity_kind"] == "production_order"
    assert produced["entity_id"] == order["production_order_id"]
    assert produced["session_id"] == session
    assert produced["items"] == ordered["items"]


async def test_a_retouched_version_is_checked_replaces_the_earlier_one_and_goes_with_the_image(
    workflow: Workflow, unique: str
) -> None:
    session = f"rsr-{unique}"
    [image_id, raw_id] = await imported(
        workflow,
        session,
        [("K_1.jpg", picture("JPEG", shade=1)), ("K_2.nef", b"nikon raw " * 40)],
    )
    url = f"/workflow/images/{image_id}/retouched"
    refused = [
        await workflow.client.put(url, files={"file": ("x.jpg", b"\xff\xd8 not a jpeg")}),
        await workflow.client.put(url, files={"file": ("x.nef", b"raw " * 10)}),
        await workflow.client.put(url, files={"file": ("x.psd", b"8BPS")}),
    ]
    assert [r.status_code for r in refused] == [422, 422, 422]
    assert all(r.json()["error"] == "unprocessable" for r in refused), refused[0].text
    missing = await workflow.client.put(
        "/workflow/images/nope/retouched", files={"file": ("x.jpg", picture("JPEG"))}
    )
    assert missing.status_code == 404

    bucket = workflow.context.settings.infra.images_bucket
    storage = workflow.context.storage
    first = await workflow.client.put(url, files={"file": ("edit.jpg", picture("JPEG", shade=9))})
    assert first.status_code == 200, first.text
    assert first.json()["keys"]["retouched"] == f"sessions/{session}/retouched/K_1.jpg"
    tiff = picture("TIFF", shade=10)
    second = await workflow.client.put(url, files={"file": ("edit.tif", tiff)})
    assert second.status_code == 200, second.text
    assert second.json()["retouched"]["sha256"] == hashlib.sha256(tiff).hexdigest()
    assert second.json()["retouched"]["content_type"] == "image/tiff"
    new_key = f"sessions/{session}/retouched/K_1.tif"
    assert second.json()["keys"]["retouched"] == new_key
    assert await storage.get_bytes(bucket, new_key) == tiff
    assert not await storage.exists(bucket, f"sessions/{session}/retouched/K_1.jpg")
    [item] = (await render_set(workflow, f"/sessions/{session}"))["items"]
    assert (item["key"], item["folder"]) == (new_key, "retouched")
    assert raw_id not in [item["image_id"]]

    deleted = await workflow.client.delete(f"/workflow/images/{image_id}")
    assert deleted.status_code == 204
    assert not await storage.exists(bucket, new_key)


async def test_a_retouched_tiff_is_shown_as_a_small_jpeg_made_once_and_gone_with_the_image(
    workflow: Workflow, unique: str
) -> None:
    session = f"rsp-{unique}"
    [image_id] = await imported(workflow, session, [("P_1.jpg", picture("JPEG", shade=3))])
    preview_url = f"/workflow/images/{image_id}/retouched/preview"
    none_yet = await workflow.client.get(preview_url)
    tiff = picture("TIFF", size=(2400, 1600), shade=40)
    stored = await workflow.client.put(
        f"/workflow/images/{image_id}/retouched", files={"file": ("edit.tif", tiff)}
    )
    assert stored.status_code == 200, stored.text
    shown = await workflow.client.get(preview_url)
    again = await workflow.client.get(preview_url)
    bucket = workflow.context.settings.infra.images_bucket
    storage = workflow.context.storage
    listed = await asyncio.to_thread(
        objects.list_objects,
        storage.client,
        bucket,
        f"sessions/{session}/previews/retouched/",
    )
    # A new version: the old preview goes, the new one is made from the new file.
    replaced = await workflow.client.put(
        f"/workflow/images/{image_id}/retouched",
        files={"file": ("edit2.jpg", picture("JPEG", size=(300, 200), shade=200))},
    )
    assert replaced.status_code == 200, replaced.text
    newer = await workflow.client.get(preview_url)
    newer_listed = await asyncio.to_thread(
        objects.list_objects,
        storage.client,
        bucket,
        f"sessions/{session}/previews/retouched/",
    )
    deleted = await workflow.client.delete(f"/workflow/images/{image_id}")
    after = await asyncio.to_thread(
        objects.list_objects,
        storage.client,
        bucket,
        f"sessions/{session}/previews/retouched/",
    )

    assert none_yet.status_code == 404
    assert none_yet.json()["error"] == "not_found"
    assert shown.status_code == 200
    assert shown.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(shown.content)) as small:
        assert small.format == "JPEG"
        assert small.size == (1024, 683)
        centre = small.getpixel((512, 341))
    assert isinstance(centre, tuple)
    assert abs(centre[0] - 40) <= 6  # the TIFF's own colour, not the original's
    assert again.content == shown.content
    assert len(listed) == 1
    assert newer.status_code == 200
    with Image.open(io.BytesIO(newer.content)) as small:
        assert small.size == (300, 200)  # never enlarged
    assert len(newer_listed) == 1
    assert newer_listed[0].key != listed[0].key
    assert deleted.status_code == 204
    assert after == []
