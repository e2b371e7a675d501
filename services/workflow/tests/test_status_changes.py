"""Changing a session's status: the rules, concurrency, render results, bulk advance."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from workflow_harness import Workflow

from kit.events.contracts.booking import SessionBooked
from kit.events.contracts.render import RunCompleted, RunFailed
from kit.events.contracts.workflow import SessionStatusChanged


def booked(session_id: str, session_type_id: str = "portrait", **extra: Any) -> SessionBooked:
    starts_at = extra.pop("starts_at", datetime(2026, 12, 1, 10, tzinfo=UTC))
    return SessionBooked(
        session_id=session_id,
        session_number=f"S-{session_id}",
        client_id="client-1",
        session_type_id=session_type_id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        resource_ids=extra.pop("resource_ids", ["photographer-ann"]),
    )


async def book(workflow: Workflow, session_id: str, **kwargs: Any) -> dict[str, Any]:
    await workflow.deliver(workflow.envelope(booked(session_id, **kwargs), subject=session_id))
    answer = await workflow.client.get(f"/workflow/sessions/{session_id}")
    assert answer.status_code == 200, answer.text
    session: dict[str, Any] = answer.json()
    return session


async def status_id(workflow: Workflow, kind: str, name: str, **params: str) -> str:
    statuses = (
        await workflow.client.get("/workflow/statuses", params={"kind": kind, **params})
    ).json()
    return next(s["id"] for s in statuses if s["name"] == name)


async def assert_unchanged(workflow: Workflow, session_id: str, before: dict[str, Any]) -> None:
    after = (await workflow.client.get(f"/workflow/sessions/{session_id}")).json()
    assert after["version"] == before["version"]
    assert after["status"]["id"] == before["status"]["id"]
    history = (await workflow.client.get(f"/workflow/sessions/{session_id}/history")).json()
    assert len(history["history"]) == before["version"]


async def test_any_active_status_may_be_chosen_and_the_history_says_who_and_why(
    workflow: Workflow,
) -> None:
    await book(workflow, "j1")
    target = await status_id(workflow, "session", "Retouch Pending")
    answer = await workflow.client.post(
        "/workflow/sessions/j1/status",
        json={"to_status_id": target, "note": "skip edits", "result": "client approved"},
        headers={"X-User-Id": "bob"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"]["name"] == "Retouch Pending"
    entry = (await workflow.client.get("/workflow/sessions/j1/history")).json()["history"][-1]
    assert entry["from_status_name"] == "Session Pending"
    assert entry["to_status_name"] == "Retouch Pending"
    assert (entry["changed_by"], entry["note"], entry["result"]) == (
        "bob",
        "skip edits",
        "client approved",
    )
    assert entry["due_at"] is not None


async def test_the_studio_chooses_a_due_date_and_the_session_is_overdue_after_it(
    workflow: Workflow,
) -> None:
    before = await book(workflow, "j-due")
    today = datetime.now(UTC).date()
    past = await workflow.client.post(
        "/workflow/sessions/j-due/status",
        json={"due_date": (today - timedelta(days=1)).isoformat()},
    )
    assert past.status_code == 422, past.text
    assert "in the past" in past.json()["message"]
    await assert_unchanged(workflow, "j-due", before)
    chosen = today + timedelta(days=9)
    answer = await workflow.client.post(
        "/workflow/sessions/j-due/status",
        json={"due_date": chosen.isoformat(), "note": "client away"},
    )
    assert answer.status_code == 200, answer.text
    status = answer.json()["status"]
    assert status["due_at"].startswith(chosen.isoformat())
    assert status["overdue"] is False
    entry = (await workflow.client.get("/workflow/sessions/j-due/history")).json()["history"][-1]
    assert entry["due_at"].startswith(chosen.isoformat())
    final = await status_id(workflow, "session", "Session Closed")
    refused = await workflow.client.post(
        "/workflow/sessions/j-due/status",
        json={"to_status_id": final, "due_date": chosen.isoformat()},
    )
    assert refused.status_code == 422, refused.text
    assert "final status" in refused.json()["message"]


async def test_an_unknown_status_is_refused_with_422_and_nothing_changes(
    workflow: Workflow,
) -> None:
    before = await book(workflow, "j2")
    answer = await workflow.client.post(
        "/workflow/sessions/j2/status", json={"to_status_id": "no-such-status"}
    )
    assert answer.status_code == 422
    body = answer.json()
    assert body["error"] == "unprocessable"
    assert "no-such-status" in body["message"]
    assert set(body) == {"error", "message", "detail", "request_id"}
    await assert_unchanged(workflow, "j2", before)


async def test_an_invoice_status_is_refused_for_a_session(workflow: Workflow) -> None:
    before = await book(workflow, "j3")
    invoice_status = await status_id(workflow, "invoice", "Paid")
    answer = await workflow.client.post(
        "/workflow/sessions/j3/status", json={"to_status_id": invoice_status}
    )
    assert answer.status_code == 422
    assert "invoice status, not a session status" in answer.json()["message"]
    await assert_unchanged(workflow, "j3", before)


async def test_a_status_of_another_session_type_is_refused(workflow: Workflow) -> None:
    created = await workflow.client.post(
        "/workflow/statuses",
        json={
            "kind": "session",
            "session_type_id": "wedding",
            "name": "Engagement Shoot Pending",
            "sort_order": 10,
            "stage": "capture",
            "initial": True,
        },
    )
    assert created.status_code == 201, created.text
    before = await book(workflow, "j4", session_type_id="portrait")
    answer = await workflow.client.post(
        "/workflow/sessions/j4/status", json={"to_status_id": created.json()["id"]}
    )
    assert answer.status_code == 422
    assert "wedding" in answer.json()["message"]
    await assert_unchanged(workflow, "j4", before)

    wedding = await book(workflow, "j4w", session_type_id="wedding")
    assert wedding["status"]["name"] == "Engagement Shoot Pending"


async def test_a_retired_status_cannot_be_chosen_but_sessions_holding_it_move_on(
    workflow: Workflow,
) -> None:
    await book(workflow, "j5")
    await workflow.client.post("/workflow/sessions/j5/status", json={})  # Capture Images Pending
    capture = await status_id(workflow, "session", "Capture Images Pending")
    edits = await status_id(workflow, "session", "Edits Pending")
    retired = await workflow.client.patch(f"/workflow/statuses/{edits}", json={"active": False})
    assert retired.status_code == 200
    renamed = await workflow.client.patch(
        f"/workflow/statuses/{capture}", json={"name": "Shoot Pending"}
    )
    assert renamed.json()["name"] == "Shoot Pending"
    try:
        before = await book(workflow, "j5b")
        refused = await workflow.client.post(
            "/workflow/sessions/j5b/status", json={"to_status_id": edits}
        )
        assert refused.status_code == 422
        assert "retired" in refused.json()["message"]
        await assert_unchanged(workflow, "j5b", before)

        # j5 holds the renamed status; the next one skips the retired Edits Pending.
        moved = await workflow.client.post("/workflow/sessions/j5/status", json={})
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"]["name"] == "Presentation Pending"
    finally:
        await workflow.client.patch(f"/workflow/statuses/{edits}", json={"active": True})
        await workflow.client.patch(
            f"/workflow/statuses/{capture}", json={"name": "Capture Images Pending"}
        )


async def test_a_change_on_an_unknown_session_is_404_and_a_malformed_body_is_422(
    workflow: Workflow,
) -> None:
    missing = await workflow.client.post("/workflow/sessions/nobody/status", json={})
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    await book(workflow, "j6")
    malformed = await workflow.client.post(
        "/workflow/sessions/j6/status", json={"to_status_id": 5, "surprise": True}
    )
    assert malformed.status_code == 422
    assert malformed.json()["error"] == "validation_error"
    stale = await workflow.client.post("/workflow/sessions/j6/status", json={"expected_version": 7})
    assert stale.status_code == 409
    assert "version" in stale.json()["message"]


async def test_of_concurrent_changes_to_one_session_exactly_one_wins(workflow: Workflow) -> None:
    session = await book(workflow, "j7")
    targets = [
        await status_id(workflow, "session", name)
        for name in ("Edits Pending", "Retouch Pending", "Upload Pending", "Delivery Pending")
    ]
    answers = await asyncio.gather(
        *(
            workflow.client.post(
                "/workflow/sessions/j7/status",
                json={"to_status_id": t, "expected_version": session["version"]},
            )
            for t in targets
        )
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 409, 409, 409], [a.text for a in answers]
    winner = next(a.json() for a in answers if a.status_code == 200)
    history = (await workflow.client.get("/workflow/sessions/j7/history")).json()["history"]
    assert len(history) == 2
    assert history[-1]["to_status_id"] == winner["status"]["id"]
    events = await workflow.workflow_events("j7", 2)
    await asyncio.sleep(0.5)
    assert len([e for e in workflow.published if e.subject == "j7"]) == len(events) == 2


async def test_concurrent_changes_without_a_version_never_both_apply_to_one_version(
    workflow: Workflow,
) -> None:
    await book(workflow, "j8")
    answers = await asyncio.gather(
        *(workflow.client.post("/workflow/sessions/j8/status", json={}) for _ in range(6))
    )
    succeeded = [a for a in answers if a.status_code == 200]
    assert all(a.status_code in (200, 409) for a in answers)
    history = (await workflow.client.get("/workflow/sessions/j8/history")).json()["history"]
    assert len(history) == 1 + len(succeeded)
    assert [h["version"] for h in history] == list(range(1, len(history) + 1))
    # Each change starts where the one before it ended.
    assert all(
        later["from_status_id"] == earlier["to_status_id"]
        for earlier, later in itertools.pairwise(history)
    )


async def test_a_render_result_moves_the_session_once_however_often_it_arrives(
    workflow: Workflow,
) -> None:
    await book(workflow, "r1")
    completed = RunCompleted(
        run_id="run-1",
        job_id="job-1",
        entity_kind="session",
        entity_id="r1",
        session_id="r1",
        finish_status="Presentation Pending",
        outputs=[],
    )
    envelope = workflow.envelope(completed, subject="run-1")
    await workflow.publish(envelope, envelope)
    await workflow.handled(envelope)
    # The same run announced again under a new event id (a render replica re-sent it).
    again = workflow.envelope(completed, subject="run-1")
    await workflow.deliver(again, envelope)
    session = (await workflow.client.get("/workflow/sessions/r1")).json()
    assert session["status"]["name"] == "Presentation Pending"
    assert session["version"] == 2
    events = await workflow.workflow_events("r1", 2)
    change = events[1].payload(SessionStatusChanged)
    assert (change.changed_by, change.to_status_name) == ("render", "Presentation Pending")
    assert change.result == "render run run-1 completed"


async def test_a_failed_render_moves_the_session_to_the_jobs_error_status(
    workflow: Workflow,
) -> None:
    await book(workflow, "r2")
    error_status = await status_id(workflow, "session", "Edits Pending")
    failed = RunFailed(
        run_id="run-2",
        job_id="job-1",
        entity_kind="session",
        entity_id="r2",
        error_status=error_status,
        error="profile missing",
    )
    await workflow.deliver(workflow.envelope(failed, subject="run-2"))
    session = (await workflow.client.get("/workflow/sessions/r2")).json()
    assert session["status"]["name"] == "Edits Pending"
    history = (await workflow.client.get("/workflow/sessions/r2/history")).json()["history"]
    assert "profile missing" in history[-1]["result"]


async def test_bulk_advance_moves_every_session_it_can_and_names_each_failure(
    workflow: Workflow,
) -> None:
    for session_id in ("b1", "b2", "b3"):
        await book(workflow, session_id, session_type_id="school")
    await book(workflow, "b4", session_type_id="portrait")
    closed = await status_id(workflow, "session", "Session Closed")
    await workflow.client.post("/workflow/sessions/b3/status", json={"to_status_id": closed})

    answer = await workflow.client.post(
        "/workflow/sessions/bulk-advance",
        json={"session_type_id": "school", "session_ids": ["b1", "b2", "b3", "b4", "nobody"]},
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert [s["session_id"] for s in result["advanced"]] == ["b1", "b2"]
    assert {s["status"]["name"] for s in result["advanced"]} == {"Capture Images Pending"}
    assert {f["session_id"]: f["error"] for f in result["failed"]} == {
        "b3": "invalid_transition",
        "b4": "unprocessable",
        "nobody": "not_found",
    }
    assert (await workflow.client.get("/workflow/sessions/b4")).json()["version"] == 1

    empty = await workflow.client.post(
        "/workflow/sessions/bulk-advance", json={"session_type_id": "school", "session_ids": []}
    )
    assert empty.status_code == 422
