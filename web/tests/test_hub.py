"""The workflow hub through the web app: sessions by stage and status with counts, overdue
marked, and "Advance status" in bulk with each failure named per session."""

from __future__ import annotations

from seeded_session import seeded_session
from web_harness import WebClient, WebPlatform, html, text_of


async def test_the_hub_lists_sessions_and_advances_the_selected_naming_what_failed(
    studio: WebPlatform, staff: WebClient
) -> None:
    first = await seeded_session(studio.gateway, images=1)
    second = await seeded_session(studio.gateway, images=1)

    page = await staff.get("/hub")
    boxes = {
        node.attributes["value"]: node
        for node in html(page).css('input[name="session"]')
        if node.attributes.get("value")
    }
    picked = [v for v in boxes if v and v.split("|")[1] in (first.session_id, second.session_id)]
    type_id = picked[0].split("|")[0]
    answer = await staff.post(
        "/hub/advance",
        {"session": [*picked, f"{type_id}|no-such-session"], "note": "shot today"},
    )
    outcome = text_of(answer, ".outcome")
    history = await staff.http.get(f"/hub?session_type_id={type_id}")

    assert page.status_code == 200
    assert len(picked) == 2
    assert "Session Pending" in text_of(page, "#board")
    assert answer.status_code == 200
    assert "2 advanced" in outcome
    assert first.number in outcome
    assert second.number in outcome
    assert "Capture Images Pending" in outcome
    assert "1 could not move" in outcome
    assert "no-such-session" in outcome
    assert "Capture Images Pending" in text_of(history, "#board")


async def test_advancing_nothing_is_a_readable_refusal_and_htmx_gets_only_the_board(
    staff: WebClient,
) -> None:
    await staff.get("/hub")
    plain = await staff.post("/hub/advance", {})
    swapped = await staff.post("/hub/advance", {}, htmx=True)

    assert plain.status_code == 422
    assert "Select at least one session" in text_of(plain, ".outcome")
    assert swapped.status_code == 422
    assert swapped.text.lstrip().startswith('<div id="board">')


async def test_the_hub_is_for_the_studio_not_for_marketing(marketing: WebClient) -> None:
    answer = await marketing.get("/hub")
    assert answer.status_code == 403
