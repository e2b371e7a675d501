"""A session's status dialog through the web app: the next status suggested, any status of
the pipeline chosen instead with a due date and a note, refusals shown next to their field,
a session moved meanwhile answered with workflow's 409, and the return path kept local."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from seeded_session import SeededSession, seeded_session
from web_harness import WebClient, WebPlatform, html, text_of

WORKFLOW = "/api/workflow/workflow"


async def _workflow(
    studio: WebPlatform, seeded: SeededSession, method: str, path: str, **kwargs: object
) -> dict:  # type: ignore[type-arg]
    """Workflow's own answer, read through the gateway as the owner."""
    async with httpx.AsyncClient(
        base_url=studio.gateway, headers={"Authorization": f"Bearer {seeded.token}"}, timeout=30
    ) as client:
        answer = await client.request(method, f"{WORKFLOW}{path}", **kwargs)  # type: ignore[arg-type]
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]


def _selected(answer: object) -> str:
    node = html(answer).css_first("#f-to-status option[selected]")  # type: ignore[arg-type]
    return node.text() if node else ""


async def test_the_dialog_suggests_the_next_status_and_records_the_chosen_due_date_and_note(
    studio: WebPlatform, staff: WebClient
) -> None:
    seeded = await seeded_session(studio.gateway, images=1)
    path = f"/status/sessions/{seeded.session_id}"
    before = await _workflow(studio, seeded, "GET", f"/sessions/{seeded.session_id}")
    dialog = await staff.get(path, params={"back": "/hub"})
    options = {n.text(): n.attributes["value"] for n in html(dialog).css("#f-to-status option")}
    retouch = next(v for k, v in options.items() if k.startswith("Retouch Pending"))
    due = (datetime.now(UTC) + timedelta(days=12)).date().isoformat()
    answer = await staff.post(
        path,
        {
            "to_status_id": retouch,
            "due_date": due,
            "note": "client is away",
            "expected_version": html(dialog)
            .css_first('[name="expected_version"]')
            .attributes["value"],
            "back": "/hub",
        },
        follow_redirects=False,
    )
    record = await _workflow(studio, seeded, "GET", f"/sessions/{seeded.session_id}")
    steps = await _workflow(studio, seeded, "GET", f"/sessions/{seeded.session_id}/history")
    history = steps["history"]

    assert dialog.status_code == 200
    assert before["status"]["name"] in text_of(dialog, ".status-form")  # (another test renames)
    assert _selected(dialog).startswith("Capture Images Pending")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/hub"
    assert record["status"]["name"] == "Retouch Pending"
    assert record["status"]["due_at"].startswith(due)
    assert history[-1]["note"] == "client is away"


async def test_a_past_due_date_is_refused_beside_its_field_and_nothing_moves(
    studio: WebPlatform, staff: WebClient
) -> None:
    seeded = await seeded_session(studio.gateway, images=1)
    path = f"/status/sessions/{seeded.session_id}"
    before = await _workflow(studio, seeded, "GET", f"/sessions/{seeded.session_id}")
    await staff.get(path)
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    refused = await staff.post(path, {"due_date": yesterday, "note": "late"}, htmx=True)
    record = await _workflow(studio, seeded, "GET", f"/sessions/{seeded.session_id}")

    assert refused.status_code == 422
    assert refused.text.lstrip().startswith("<form")  # htmx gets the dialog's form only
    assert "in the past" in text_of(refused, "#e-due-date")
    assert html(refused).css_first("#f-status-note").text() == "late"  # what was typed stays
    assert record["status"]["name"] == before["status"]["name"]
    assert record["version"] == before["version"]


async def test_a_session_moved_meanwhile_is_a_409_shown_in_the_dialog(
    studio: WebPlatform, staff: WebClient
) -> None:
    seeded = await seeded_session(studio.gateway, images=1)
    path = f"/status/sessions/{seeded.session_id}"
    dialog = await staff.get(path)
    version = html(dialog).css_first('[name="expected_version"]').attributes["value"]
    moved = await _workflow(
        studio, seeded, "POST", f"/sessions/{seeded.session_id}/status", json={}
    )
    stale = await staff.post(path, {"expected_version": version})

    assert moved["status"]["name"] == "Capture Images Pending"
    assert stale.status_code == 409
    assert "changed meanwhile" in text_of(stale, ".status-form .error")
    assert "Capture Images Pending" in text_of(stale, ".status-form p")


async def test_the_dialog_returns_only_to_a_path_of_the_app_and_htmx_is_redirected(
    studio: WebPlatform, staff: WebClient
) -> None:
    seeded = await seeded_session(studio.gateway, images=1)
    path = f"/status/sessions/{seeded.session_id}"
    await staff.get(path, params={"back": "//evil.example/x"})
    outside = await staff.post(path, {"back": "https://evil.example/"}, follow_redirects=False)
    swapped = await staff.post(path, {"back": "/hub"}, htmx=True)

    assert outside.status_code == 303
    assert outside.headers["location"] == f"/sessions/{seeded.session_id}"
    assert swapped.status_code == 200
    assert swapped.headers["hx-redirect"] == "/hub"


async def test_the_hub_links_each_session_to_its_dialog_and_marketing_may_not_open_it(
    studio: WebPlatform, staff: WebClient, marketing: WebClient
) -> None:
    seeded = await seeded_session(studio.gateway, images=1)
    hub = await staff.get("/hub")
    links = [a.attributes.get("href", "") for a in html(hub).css("#board a")]
    refused = await marketing.get(f"/status/sessions/{seeded.session_id}")

    assert f"/status/sessions/{seeded.session_id}?back=/hub" in links
    assert refused.status_code == 403
