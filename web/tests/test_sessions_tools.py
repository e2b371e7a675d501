"""The session record's tools through the web app, without a browser: the slideshow order (move
buttons and a dragged order), side-by-side comparisons, a recipe saved as a version (and refused
beside its field), a retouched upload shown in the retouched folder, the QR card PDF, and a
memory card's dry run with a frame after an unreadable card corrected, then committed."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import segno
from PIL import Image, ImageFilter
from seeded_session import WORKFLOW, photo, seeded_session
from web_harness import WebClient, WebPlatform, html, text_of


async def workflow_get(studio: WebPlatform, token: str, path: str) -> Any:
    async with httpx.AsyncClient(base_url=studio.gateway, timeout=30) as gw:
        answer = await gw.get(f"{WORKFLOW}{path}", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        return answer.json()


def slide_names(answer: httpx.Response) -> list[str]:
    return [n.attributes["data-id"] or "" for n in html(answer).css("#slides .slide")]


async def test_the_slideshow_is_reordered_by_its_move_buttons_and_by_a_dragged_order(
    studio: WebPlatform, staff: WebClient
) -> None:
    seeded = await seeded_session(studio.gateway, images=3)
    first, second, third = seeded.image_ids
    path = f"/sessions/{seeded.session_id}"
    page = await staff.get(path)
    moved = await staff.post(
        f"{path}/slideshow", {"order": [first, second, third], "move": f"{first}:down"}, htmx=True
    )
    after_move = await staff.get(path)
    foreign = await staff.post(
        f"{path}/slideshow", {"order": [third, "not-an-image-of-it", first]}, htmx=True
    )
    dragged = await staff.post(f"{path}/slideshow", {"order": [third, first, second]})
    after_drag = await staff.get(path)
    stored = await workflow_get(studio, seeded.token, f"/sessions/{seeded.session_id}/slideshow")

    assert slide_names(page) == [first, second, third]
    assert "by number" in text_of(page, "#h-slideshow")
    assert moved.status_code == 200
    assert html(moved).css_first("#slideshow") is not None  # the block alone, for the swap
    assert html(moved).css_first("header") is None
    assert "is now number 2 of 3" in text_of(moved, "#slideshow-status")
    assert slide_names(after_move) == [second, first, third]
    up = html(after_move).css_first(f'[id="up-{second}"]')
    assert up is not None
    assert "disabled" in up.attributes  # the first cannot move up
    assert foreign.status_code == 422
    assert text_of(foreign, "#slideshow p.error")  # workflow's refusal, in the swapped block
    assert html(foreign).css_first("header") is None
    assert dragged.status_code == 303
    assert slide_names(after_drag) == [third, first, second]
    assert "as arranged" in text_of(after_drag, "#h-slideshow")
    assert stored["image_ids"] == [third, first, second]


async def test_two_to_six_selected_images_are_compared_side_by_side(
    studio: WebPlatform, staff: WebClient
) -> None:
    seeded = await seeded_session(studio.gateway, images=3)
    path = f"/sessions/{seeded.session_id}"
    await staff.get(path)
    one = await staff.post(f"{path}/comparisons", {"image": seeded.image_ids[:1]})
    made = await staff.post(f"{path}/comparisons", {"image": seeded.image_ids, "name": "Poses"})
    view = await staff.get(made.headers["location"])
    record = await staff.get(path)
    removed = await staff.post(f"{made.headers['location']}/delete", {})
    after = await staff.get(path)

    assert one.status_code == 422
    assert "Select 2 to 6 images to compare (1 selected)." in text_of(one, "#grid p.error")
    assert made.status_code == 303
    assert view.status_code == 200
    assert text_of(view, "h1").startswith("Poses")
    figures = html(view).css("#compare figure")
    assert len(figures) == 3
    assert "compare-3" in (html(view).css_first("#compare").attributes["class"] or "")
    link = html(record).css_first("#comparisons a")
    assert link.text(strip=True) == "Poses"
    assert link.attributes["href"] == made.headers["location"]
    assert "3 images side by side" in text_of(record, "#comparisons")
    assert removed.status_code == 303
    assert "None yet" in text_of(after, "#comparisons")


def recipe_form(**values: Any) -> dict[str, Any]:
    form = {
        "expected_version": "0",
        "exposure": "0",
        "brightness": "20",
        "contrast": "10",
        "saturation": "-30",
        "black": "0",
        "white": "255",
        "gamma": "1",
        "mode": "none",
        "strength": "1",
        "crop_rows": "1",
        "crop-0-name": "Portrait 4x5",
        "crop-0-ratio": "4:5",
        "crop-0-x": "10",
        "crop-0-y": "5",
        "crop-0-width": "40",
        "crop-0-height": "75",  # 40% of 900 by 75% of 600 px: 360 x 450, 4:5
        "note": "first pass",
    }
    return form | values


async def test_a_recipe_is_saved_as_a_version_and_a_bad_one_is_refused_beside_its_field(
    studio: WebPlatform, staff: WebClient
) -> None:
    seeded = await seeded_session(studio.gateway, images=1)
    image_id = seeded.image_ids[0]
    path = f"/sessions/{seeded.session_id}/images/{image_id}"
    empty = await staff.get(path)
    saved = await staff.post(f"{path}/recipe", recipe_form())
    shown = await staff.get(saved.headers["location"])
    wrong_ratio = await staff.post(
        f"{path}/recipe", recipe_form(**{"expected_version": "1", "crop-0-height": "40"})
    )
    too_bright = await staff.post(
        f"{path}/recipe", recipe_form(expected_version="1", brightness="500")
    )
    stale = await staff.post(f"{path}/recipe", recipe_form(expected_version="0"))
    not_a_number = await staff.post(f"{path}/recipe", recipe_form(contrast="lots"))
    stored = await workflow_get(studio, seeded.token, f"/images/{image_id}/recipe")

    assert empty.status_code == 200
    assert "no recipe yet" in text_of(empty, "#h-recipe")
    assert saved.status_code == 303
    assert "Version 1 saved." in text_of(shown, "#recipe")
    assert html(shown).css_first("#r-brightness").attributes["value"] == "20"
    assert html(shown).css_first("#c0-name").attributes["value"] == "Portrait 4x5"
    assert "first pass" in text_of(shown, "#versions")
    assert wrong_ratio.status_code == 422
    assert "not 4:5" in text_of(wrong_ratio, "#recipe p.error")
    assert "not 4:5" in text_of(wrong_ratio, ".crop-row.invalid .field-error")
    assert too_bright.status_code == 422
    assert text_of(too_bright, "#e-brightness")
    assert html(too_bright).css_first("#r-brightness").attributes["value"] == "500"
    assert stale.status_code == 409
    assert "version 1, not 0" in text_of(stale, "#recipe p.error")
    assert not_a_number.status_code == 422
    assert "'lots' is not a number." in text_of(not_a_number, "#e-contrast")
    assert stored["version"] == 1
    assert stored["adjustments"]["brightness"] == 20
    assert stored["crops"][0]["rect"] == {"x": 0.1, "y": 0.05, "width": 0.4, "height": 0.75}


async def test_a_retouched_file_is_uploaded_and_listed_in_the_retouched_folder(
    studio: WebPlatform, staff: WebClient
) -> None:
    seeded = await seeded_session(studio.gateway, images=1)
    image_id = seeded.image_ids[0]
    path = f"/sessions/{seeded.session_id}/images/{image_id}"
    await staff.get(path)
    broken = await staff.post(
        f"{path}/retouched", {}, files=[("file", ("bad.jpg", b"not a picture", "image/jpeg"))]
    )
    none = await staff.post(f"{path}/retouched", {})
    uploaded = await staff.post(
        f"{path}/retouched", {}, files=[("file", ("001-retouched.jpg", photo(9), "image/jpeg"))]
    )
    shown = await staff.get(path)
    record = await staff.get(f"/sessions/{seeded.session_id}")
    picture = html(shown).css_first("#retouched img.retouched-preview")
    assert picture is not None
    retouched = await staff.get(picture.attributes.get("src") or "")

    assert broken.status_code == 422
    assert text_of(broken, "#retouched p.error")
    assert none.status_code == 422
    assert "Choose the retouched file" in text_of(none, "#retouched p.error")
    assert uploaded.status_code == 303
    assert "001-retouched.jpg" in text_of(shown, "#retouched")
    assert "retouched: 1" in text_of(record, "#h-folders + ul")
    assert "001-retouched.jpg" in text_of(record, "#retouched-folder")
    # The retouched version itself is shown: a small JPEG workflow made from the file.
    assert retouched.status_code == 200
    assert retouched.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(retouched.content)) as small:
        assert small.format == "JPEG"
        assert max(small.size) <= 1024


async def test_the_sessions_qr_card_is_a_pdf_to_download(
    studio: WebPlatform, staff: WebClient
) -> None:
    seeded = await seeded_session(studio.gateway, images=1)
    record = await staff.get(f"/sessions/{seeded.session_id}")
    link = html(record).css_first(f'a[href="/sessions/{seeded.session_id}/card.pdf"]')
    card = await staff.get(f"/sessions/{seeded.session_id}/card.pdf")
    day_cards = await staff.get(f"/sessions/{seeded.session_id}/cards-of-the-day.pdf")
    day = (await workflow_get(studio, seeded.token, f"/sessions/{seeded.session_id}"))["starts_at"][
        :10
    ]
    that_day = await workflow_get(
        studio, seeded.token, f"/sessions?date_from={day}&date_to={day}&limit=500"
    )

    assert link is not None
    assert card.status_code == 200
    assert card.headers["content-type"] == "application/pdf"
    assert card.content.startswith(b"%PDF")
    assert card.headers["content-disposition"].startswith("attachment;")
    assert pages(card.content) == 1
    assert day_cards.status_code == 200
    assert pages(day_cards.content) == len([s for s in that_day if not s["cancelled"]])
    assert pages(day_cards.content) >= 1


def pages(pdf: bytes) -> int:
    return pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")


def card_frame(taken: datetime, card: str | None = None, blur: float = 0, shade: int = 0) -> bytes:
    """A camera frame (EXIF capture time), optionally with a session's QR card in it."""
    image = Image.new("RGB", (900, 600), (80 + shade * 20, 110, 140))
    if card is not None:
        code = io.BytesIO()
        segno.make(f"studio-session:{card}", error="h").save(code, kind="png", scale=8, border=4)
        code.seek(0)
        qr = Image.open(code).convert("RGB")
        image.paste(qr, ((900 - qr.width) // 2, (600 - qr.height) // 2))
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=90)
    return out.getvalue()


def memory_card(number: str) -> list[tuple[str, tuple[str, bytes, str]]]:
    """Card of session `number`, a frame, a blurred (unreadable) card, two frames after it."""
    start = datetime(2026, 12, 2, 9, tzinfo=UTC)
    shots = [
        ("IMG_0001.jpg", card_frame(start, card=number)),
        ("IMG_0002.jpg", card_frame(start + timedelta(seconds=10), shade=1)),
        ("IMG_0003.jpg", card_frame(start + timedelta(seconds=20), card="S-next", blur=5)),
        ("IMG_0004.jpg", card_frame(start + timedelta(seconds=30), shade=2)),
        ("IMG_0005.jpg", card_frame(start + timedelta(seconds=40), shade=3)),
    ]
    return [("files", (name, body, "image/jpeg")) for name, body in shots]


async def test_a_memory_cards_dry_run_names_the_frame_after_an_unreadable_card_and_commits(
    studio: WebPlatform, staff: WebClient
) -> None:
    seeded = await seeded_session(studio.gateway, images=1)
    await staff.get(f"/memory-cards/new?session={seeded.session_id}")
    empty = await staff.post("/memory-cards", {"session": seeded.session_id})
    staged = await staff.post(
        "/memory-cards", {"session": seeded.session_id}, files=memory_card(seeded.number)
    )
    tree = html(staged)
    plan_hash = tree.css_first('input[name="plan_hash"]').attributes["value"]
    card_id = (tree.css_first("#corrections form").attributes["action"] or "").split("/")[2]
    # The frames after the blurred card, all at once by their warning; one left out by hand.
    by_warning = next(w for w in tree.css("#corrections .warning") if "unreadable card" in w.text())
    group = by_warning.css_first("select").attributes["name"] or ""
    files = by_warning.css_first('input[type="hidden"]')
    committed = await staff.post(
        f"/memory-cards/{card_id}/commit",
        {
            "plan_hash": plan_hash,
            "session": seeded.session_id,
            group: seeded.session_id,
            files.attributes["name"] or "": files.attributes["value"] or "",
            "to:IMG_0005.jpg": "-",
        },
    )
    images = await workflow_get(studio, seeded.token, f"/sessions/{seeded.session_id}/images")

    assert empty.status_code == 422
    assert "Choose the card's frames" in text_of(empty, "#e-card-files")
    assert staged.status_code == 200
    assert f"QR card of session {seeded.number}" in text_of(staged, "#staged")
    warnings = text_of(staged, "#warnings")
    assert "2 frames follow an unreadable card" in warnings
    assert "A QR code in IMG_0003.jpg could not be read" in warnings
    rows = {
        r.css_first("td").text(strip=True): r.text(separator=" ", strip=True)
        for r in tree.css("#corrections tbody tr")
    }
    assert f"session {seeded.number}" in rows["IMG_0002.jpg"]
    assert "no session : follows an unreadable card (IMG_0003.jpg)" in rows["IMG_0004.jpg"]
    assert "no session" in rows["IMG_0003.jpg"]
    assert "IMG_0001.jpg" not in rows  # a card is never imported
    options = tree.css('select[name="to:IMG_0004.jpg"] option')
    assert seeded.session_id in [o.attributes.get("value") for o in options]
    assert committed.status_code == 200
    assert f"Session {seeded.number} : stored 2" in text_of(committed, "#committed")
    assert "Left out: IMG_0003.jpg, IMG_0005.jpg" in text_of(committed, "#committed")
    names = {i["original_name"] for i in images}
    assert names >= {"IMG_0002.jpg", "IMG_0004.jpg"}
    assert "IMG_0005.jpg" not in names


async def test_the_record_tools_refuse_writes_without_the_csrf_token(
    studio: WebPlatform, staff: WebClient
) -> None:
    seeded = await seeded_session(studio.gateway, images=1)
    path = f"/sessions/{seeded.session_id}"
    image = f"{path}/images/{seeded.image_ids[0]}"
    refusals = await asyncio.gather(
        staff.http.post(f"{path}/slideshow", data={"order": seeded.image_ids}),
        staff.http.post(f"{path}/comparisons", data={"image": seeded.image_ids}),
        staff.http.post(f"{image}/recipe", data=recipe_form()),
        staff.http.post(f"{image}/retouched", files={"file": ("r.jpg", photo(1), "image/jpeg")}),
        staff.http.post("/memory-cards", data={"label": "x"}),
    )
    stored = await workflow_get(studio, seeded.token, f"/images/{seeded.image_ids[0]}")

    assert [r.status_code for r in refusals] == [403] * 5
    assert all("out of date" in text_of(r, "main") for r in refusals)
    assert stored["retouched"] is None
