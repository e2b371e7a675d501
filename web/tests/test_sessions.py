"""The session record through the web app: status change with its version, history, import
with a report per file (a broken file named with its reason), ratings, groups, previews."""

from __future__ import annotations

import asyncio

from seeded_session import photo, seeded_session
from web_harness import WebClient, WebPlatform, html, text_of


async def test_a_sessions_files_are_imported_rated_grouped_and_its_status_advanced(
    studio: WebPlatform, staff: WebClient
) -> None:
    seeded = await seeded_session(studio.gateway, images=1)
    path = f"/sessions/{seeded.session_id}"
    page = await staff.get(path)
    version = html(page).css_first('input[name="expected_version"]').attributes["value"]

    imported = await staff.post(
        f"{path}/import",
        files=[
            ("files", ("002.jpg", photo(2), "image/jpeg")),
            ("files", ("broken.jpg", b"\xff\xd8 not really a jpeg", "image/jpeg")),
        ],
    )
    report = text_of(imported, "#import-report")
    after_import = await staff.get(path)
    tiles = html(after_import).css(".tile[data-rate]")
    rate_path = tiles[0].attributes["data-rate"] or ""
    rated = await staff.post(rate_path, {"stars": "5"}, htmx=True)
    image_ids = [t.attributes["id"].removeprefix("img-") for t in tiles if t.attributes["id"]]
    grouped = await staff.post(f"{path}/groups", {"name": "Favourites", "image": image_ids})
    advanced = await staff.post(f"{path}/status", {"expected_version": version, "note": "shot"})
    stale = await staff.post(f"{path}/status", {"expected_version": version})
    final = await staff.get(path)

    assert page.status_code == 200
    assert "Stored 1, skipped 0, rejected 1." in report
    assert "broken.jpg: rejected" in report
    assert len(tiles) == 2
    assert rated.status_code == 200
    assert "★★★★★" in text_of(rated, ".stars")
    assert grouped.status_code == 303
    assert advanced.status_code == 303
    assert stale.status_code == 409
    assert text_of(stale, "#status p.error")
    assert "Favourites: 2 images" in text_of(final, "#groups")
    assert "Capture Images Pending" in text_of(final, "#h-status")
    assert "shot" in text_of(final, "#status ol")


async def test_an_images_preview_is_streamed_through_the_web_app_once_render_made_it(
    studio: WebPlatform, staff: WebClient
) -> None:
    seeded = await seeded_session(studio.gateway, images=1)
    preview = await staff.get(f"/media/images/{seeded.image_ids[0]}/preview")
    for _ in range(120):  # render's consumers make the preview a few seconds after the import
        if preview.status_code == 200:
            break
        await asyncio.sleep(0.5)
        preview = await staff.get(f"/media/images/{seeded.image_ids[0]}/preview")
    page = await staff.get(f"/sessions/{seeded.session_id}")

    assert preview.status_code == 200
    assert preview.headers["content-type"] == "image/jpeg"
    assert preview.content[:2] == b"\xff\xd8"
    src = html(page).css_first(".tile img").attributes["src"]
    assert src == f"/media/images/{seeded.image_ids[0]}/preview"


async def test_an_import_without_files_and_an_unknown_session_are_readable_refusals(
    studio: WebPlatform, staff: WebClient
) -> None:
    seeded = await seeded_session(studio.gateway, images=1)
    await staff.get(f"/sessions/{seeded.session_id}")
    empty = await staff.post(f"/sessions/{seeded.session_id}/import", {})
    unknown = await staff.get("/sessions/no-such-session")

    assert empty.status_code == 422
    assert "Choose one or more files." in text_of(empty, "p.error")
    assert unknown.status_code == 404
    assert text_of(unknown, "p.error")
