"""A photographer shoots several sessions on one memory card, holding each session's QR card up
before its frames; the studio prints the cards, dry-runs the card import, then commits it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from image_factory import booked_session, frame
from workflow_harness import Workflow

from kit.events.contracts.booking import SessionBooked, SessionCancelled, SessionRescheduled
from workflow.cards import pdf, qr

START = datetime(2026, 6, 6, 9, 0)


async def card_sessions(workflow: Workflow, unique: str) -> dict[str, str]:
    """Sessions A, B, C bookable and D cancelled; session number -> session id."""
    numbers = {}
    for letter in "ABCD":
        number = f"{letter}{unique}"
        numbers[number] = await booked_session(workflow, f"card-{letter}-{unique}", number)
    cancelled = SessionCancelled(session_id=f"card-D-{unique}", session_number=f"D{unique}")
    await workflow.deliver(workflow.envelope(cancelled, subject=f"card-D-{unique}"))
    return numbers


def shoot(unique: str) -> list[tuple[str, bytes]]:
    """The card's files in capture order; names count down so file order is the reverse."""
    a, b, c, d = (f"{x}{unique}" for x in "ABCD")
    sequence: list[tuple[str, dict[str, Any]]] = [
        ("pre1", {}),
        ("cardA", {"card": a}),
        ("a1", {}),
        ("a2", {}),
        ("cardB-blurred", {"card": b, "blur": 5}),
        ("b1", {}),
        ("cardC", {"card": c}),
        ("cardX-unknown", {"card": f"X{unique}"}),
        ("x1", {}),
        ("cardD", {"card": d}),
        ("d1", {}),
    ]
    files = []
    for i, (label, extra) in enumerate(sequence):
        name = f"IMG_{90 - i:04d}_{label}.jpg"
        files.append((name, frame(START + timedelta(seconds=10 * i), shade=i, **extra)))
    files.insert(3, (files[2][0].replace(".jpg", ".CR3"), b"raw sensor data of a1" * 50))
    return files


def named(files: list[tuple[str, bytes]], label: str) -> str:
    return next(n for n, _ in files if n.endswith(f"_{label}.jpg"))


async def stage(workflow: Workflow, card_id: str, files: list[tuple[str, bytes]]) -> Any:
    answer = await workflow.client.post(
        f"/workflow/memory-cards/{card_id}/frames",
        files=[("files", (name, body, "application/octet-stream")) for name, body in files],
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_the_dry_run_files_frames_by_card_and_names_every_problem(
    workflow: Workflow, unique: str
) -> None:
    sessions = await card_sessions(workflow, unique)
    a, b, c, d = (f"{x}{unique}" for x in "ABCD")
    files = shoot(unique)
    card = (await workflow.client.post("/workflow/memory-cards", json={"label": "card 1"})).json()
    # An interrupted upload: the first half, then everything again.
    first = await stage(workflow, card["card_id"], files[:5])
    assert first["staged"] == 5
    staged = await stage(workflow, card["card_id"], files)
    assert staged["skipped"] == 5
    assert staged["staged"] == len(files) - 5
    assert staged["frames_per_second"] > 0
    by_name = {f["name"]: f for f in first["files"] + staged["files"]}
    assert by_name[named(files, "cardA")]["card_session_number"] == a

    answer = await workflow.client.get(
        f"/workflow/memory-cards/{card['card_id']}/plan", params={"expect": [a, b, c]}
    )
    plan = answer.json()
    assert plan["ordering"] == "capture_time"
    planned = {s["session_number"]: s for s in plan["sessions"]}
    assert set(planned) == {a, c}
    a1, a1_raw = named(files, "a1"), named(files, "a1").replace(".jpg", ".CR3")
    assert planned[a]["files"] == [a1_raw, a1, named(files, "a2")]
    assert planned[a]["frames"] == 2  # the RAW+JPEG pair is one frame
    assert planned[c]["frames"] == 0
    blurred, b1 = named(files, "cardB-blurred"), named(files, "b1")
    assert plan["unassigned"] == [
        named(files, "pre1"),
        blurred,
        b1,
        named(files, "x1"),
        named(files, "d1"),
    ]
    assert plan["assignments"][b1] is None
    reasons = {u["name"]: (u["reason"], u["message"]) for u in plan["unplanned"]}
    assert reasons[named(files, "pre1")] == ("before_first_card", "comes before the first card")
    assert reasons[b1] == ("follows_unreadable_card", f"follows an unreadable card ({blurred})")
    assert reasons[blurred][0] == "unreadable_card"
    assert reasons[named(files, "x1")][0] == "follows_unknown_card"
    assert reasons[named(files, "d1")][0] == "follows_cancelled_card"
    warnings = {(w["kind"], w["session_number"]): w for w in plan["warnings"]}
    assert warnings[("zero_frames", c)]["files"] == [named(files, "cardC")]
    assert warnings[("zero_frames", b)]["files"] == []
    follows = warnings[("card_follows_card", c)]
    assert follows["files"] == [named(files, "cardC"), named(files, "cardX-unknown")]
    assert follows["frames"] == [named(files, "x1")]
    assert "get no session" in follows["message"]
    assert warnings[("unknown_card", f"X{unique}")]["files"] == [named(files, "cardX-unknown")]
    assert warnings[("unknown_card", f"X{unique}")]["frames"] == [named(files, "x1")]
    assert warnings[("cancelled_card", d)]["frames"] == [named(files, "d1")]
    assert warnings[("unreadable_qr", None)]["files"] == [blurred]
    assert warnings[("follows_unreadable_card", None)]["files"] == [b1]
    assert warnings[("before_first_card", None)]["files"] == [named(files, "pre1")]
    # Nothing was imported by the dry run.
    images = (await workflow.client.get(f"/workflow/sessions/{sessions[a]}/images")).json()
    assert images == []


async def test_committing_the_card_with_corrections_files_each_frame_in_its_session(
    workflow: Workflow, unique: str
) -> None:
    sessions = await card_sessions(workflow, unique)
    a, b = f"A{unique}", f"B{unique}"
    files = shoot(unique)
    card_id = (await workflow.client.post("/workflow/memory-cards", json={})).json()["card_id"]
    await stage(workflow, card_id, files)
    url = f"/workflow/memory-cards/{card_id}/commit"
    wrong = await workflow.client.post(url, json={"corrections": {"nope.jpg": sessions[b]}})
    assert wrong.status_code == 422
    cancelled = await workflow.client.post(
        url, json={"corrections": {named(files, "b1"): sessions[f"D{unique}"]}}
    )
    assert cancelled.status_code == 422

    plan = (await workflow.client.get(f"/workflow/memory-cards/{card_id}/plan")).json()
    await stage(workflow, card_id, [("IMG_9999_late.jpg", frame(START + timedelta(hours=1)))])
    stale = await workflow.client.post(url, json={"plan_hash": plan["plan_hash"]})
    assert stale.status_code == 409
    replanned = (await workflow.client.get(f"/workflow/memory-cards/{card_id}/plan")).json()
    committed = await workflow.client.post(
        url,
        json={
            "plan_hash": replanned["plan_hash"],
            "corrections": {
                named(files, "cardB-blurred"): None,
                named(files, "b1"): sessions[b],
                "IMG_9999_late.jpg": None,
            },
            "options": {"rename": "renumber", "renumber_from": 1},
        },
        headers={"X-User-Id": "ann"},
    )
    assert committed.status_code == 200, committed.text
    result = committed.json()
    assert {i["session_id"]: i["stored"] for i in result["imports"]} == {
        sessions[a]: 3,
        sessions[b]: 1,
    }
    assert named(files, "cardB-blurred") in result["left_out"]
    in_a = (await workflow.client.get(f"/workflow/sessions/{sessions[a]}/images")).json()
    assert sorted(i["name"] for i in in_a) == [
        f"{a}-0001.CR3",
        f"{a}-0001.jpg",
        f"{a}-0002.jpg",
    ]
    in_b = (await workflow.client.get(f"/workflow/sessions/{sessions[b]}/images")).json()
    assert [i["original_name"] for i in in_b] == [named(files, "b1")]
    body = dict(files)[named(files, "b1")]
    stored = await workflow.context.storage.get_bytes(
        workflow.context.settings.infra.images_bucket, in_b[0]["keys"]["hires"]
    )
    assert stored == body
    # Committing again imports nothing twice.
    corrections = {
        named(files, "cardB-blurred"): None,
        named(files, "b1"): sessions[b],
        "IMG_9999_late.jpg": None,
    }
    again = (await workflow.client.post(url, json={"corrections": corrections})).json()
    assert [i["stored"] for i in again["imports"]] == [0, 0]
    assert sum(i["skipped"] for i in again["imports"]) == 4


async def test_printed_session_cards_have_one_page_per_session(
    workflow: Workflow, unique: str
) -> None:
    sessions = await card_sessions(workflow, unique)
    ids = [sessions[f"A{unique}"], sessions[f"B{unique}"]]
    answer = await workflow.client.post(
        "/workflow/session-cards.pdf",
        json={"session_ids": ids, "client_names": {"client-1": "Ann Example"}},
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF")
    pages = answer.content.count(b"/Type /Page") - answer.content.count(b"/Type /Pages")
    assert pages == 2
    unknown = await workflow.client.post(
        "/workflow/session-cards.pdf", json={"session_ids": ["nope"]}
    )
    assert unknown.status_code == 422


def drawn_strings(document: bytes) -> list[bytes]:
    """The strings the PDF's content streams draw (`(...) Tj`), unescaped."""
    found = re.findall(rb"\(((?:[^()\\]|\\.)*)\) Tj", document)
    return [re.sub(rb"\\(.)", rb"\1", text) for text in found]


async def test_cards_print_the_client_name_booking_sent_with_the_session(
    workflow: Workflow, unique: str
) -> None:
    starts = datetime(2026, 12, 1, 10, tzinfo=UTC)
    named_id, anonymous_id = f"cn-{unique}", f"cx-{unique}"
    sessions = [
        SessionBooked(
            session_id=named_id,
            session_number=f"N{unique}",
            client_id="client-zoe",
            client_name="Zoë Müller (Smith)",
            session_type_id="portrait",
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
        ),
        SessionBooked(
            session_id=anonymous_id,
            session_number=f"X{unique}",
            client_id="client-unnamed",
            session_type_id="portrait",
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
        ),
    ]
    for booked in sessions:
        await workflow.deliver(workflow.envelope(booked, subject=booked.session_id))
    record = (await workflow.client.get(f"/workflow/sessions/{named_id}")).json()
    assert record["client_name"] == "Zoë Müller (Smith)"

    answer = await workflow.client.post(
        "/workflow/session-cards.pdf", json={"session_ids": [named_id, anonymous_id]}
    )
    assert answer.status_code == 200, answer.text
    drawn = drawn_strings(answer.content)
    assert "Zoë Müller (Smith)".encode("cp1252") in drawn
    assert b"client-unnamed" in drawn  # no name known: the client id
    assert b"client-zoe" not in drawn
    assert f"N{unique}".encode() in drawn
    assert b"2026-12-01 10:00" in drawn

    # A later event without the name (an older producer) keeps it; client_names overrides it.
    moved = SessionRescheduled(
        **{**sessions[0].model_dump(exclude={"client_name"}), "starts_at": starts + timedelta(1)}
    )
    await workflow.deliver(workflow.envelope(moved, subject=named_id))
    record = (await workflow.client.get(f"/workflow/sessions/{named_id}")).json()
    assert record["starts_at"].startswith("2026-12-02")
    assert record["client_name"] == "Zoë Müller (Smith)"
    renamed = await workflow.client.post(
        "/workflow/session-cards.pdf",
        json={"session_ids": [named_id], "client_names": {"client-zoe": "Zoe Smith"}},
    )
    assert b"Zoe Smith" in drawn_strings(renamed.content)
    assert "Zoë Müller (Smith)".encode("cp1252") not in drawn_strings(renamed.content)


def test_card_text_outside_winansi_loses_only_its_accents() -> None:
    assert pdf.encodable("Nguyễn Thị Ánh") == "Nguyen Thi Ánh".encode("cp1252")
    assert pdf.encodable("李") == b"?"
    page = qr.cards_pdf([qr.CardPage("S1", "A (b) \\ c", "")])
    assert b"A (b) \\ c" in drawn_strings(page)


def card_of(unique: str, sequence: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, bytes]]:
    """Frames shot 10 s apart in this order; file names count down, so file order is the
    reverse of the shooting order (the plan must go by capture time)."""
    return [
        (
            f"IMG_{500 - i:04d}_{label}.jpg",
            frame(
                None if extra.get("untimed") else START + timedelta(seconds=10 * i),
                shade=i,
                **{k: v for k, v in extra.items() if k != "untimed"},
            ),
        )
        for i, (label, extra) in enumerate(sequence)
    ]


async def dry_run(workflow: Workflow, files: list[tuple[str, bytes]]) -> tuple[str, Any]:
    card_id = (await workflow.client.post("/workflow/memory-cards", json={})).json()["card_id"]
    await stage(workflow, card_id, files)
    answer = await workflow.client.get(f"/workflow/memory-cards/{card_id}/plan")
    assert answer.status_code == 200, answer.text
    return card_id, answer.json()


def kinds(plan: Any) -> dict[str, Any]:
    return {w["kind"]: w for w in plan["warnings"]}


async def test_frames_after_a_card_that_could_not_be_read_are_not_filed_in_the_previous_session(
    workflow: Workflow, unique: str
) -> None:
    sessions = await card_sessions(workflow, unique)
    a, b, c = (f"{x}{unique}" for x in "ABC")
    files = card_of(
        unique,
        [
            ("cardA", {"card": a}),
            ("a1", {}),
            ("cardB-blurred", {"card": b, "blur": 5}),
            ("b1", {}),
            ("b2", {}),
            ("cardC", {"card": c}),
            ("c1", {}),
        ],
    )
    card_id, plan = await dry_run(workflow, files)
    blurred, b1, b2 = (named(files, x) for x in ("cardB-blurred", "b1", "b2"))

    assert plan["assignments"][named(files, "a1")] == sessions[a]
    assert plan["assignments"][named(files, "c1")] == sessions[c]
    assert plan["assignments"][b1] is None
    assert plan["assignments"][b2] is None
    assert plan["assignments"][blurred] is None
    planned = {s["session_number"]: s["files"] for s in plan["sessions"]}
    assert planned == {a: [named(files, "a1")], c: [named(files, "c1")]}
    reasons = {u["name"]: u for u in plan["unplanned"]}
    assert reasons[b1]["message"] == f"follows an unreadable card ({blurred})"
    assert reasons[b2]["message"] == f"follows an unreadable card ({blurred})"
    assert reasons[b1]["after"] == [blurred]
    assert kinds(plan)["follows_unreadable_card"]["files"] == [b1, b2]
    assert "2 frames follow an unreadable card" in kinds(plan)["follows_unreadable_card"]["message"]
    assert kinds(plan)["unreadable_qr"]["files"] == [blurred]

    # The studio names the session; the blurred card itself stays out.
    committed = await workflow.client.post(
        f"/workflow/memory-cards/{card_id}/commit",
        json={"plan_hash": plan["plan_hash"], "corrections": {b1: sessions[b], b2: sessions[b]}},
    )
    assert committed.status_code == 200, committed.text
    stored = {i["session_id"]: i["stored"] for i in committed.json()["imports"]}
    assert stored == {sessions[a]: 1, sessions[b]: 2, sessions[c]: 1}
    assert committed.json()["left_out"] == [blurred]


async def test_a_card_read_again_after_another_card_names_the_frames_filed_after_it(
    workflow: Workflow, unique: str
) -> None:
    sessions = await card_sessions(workflow, unique)
    a, b = f"A{unique}", f"B{unique}"
    files = card_of(
        unique,
        [
            ("cardA", {"card": a}),
            ("cardA-again", {"card": a}),  # the same card shot twice: nothing at risk
            ("a1", {}),
            ("cardB", {"card": b}),
            ("b1", {}),
            ("cardA-later", {"card": a}),
            ("a2", {}),
            ("a3", {}),
        ],
    )
    _, plan = await dry_run(workflow, files)

    planned = {s["session_number"]: s for s in plan["sessions"]}
    assert planned[a]["files"] == [named(files, "a1"), named(files, "a2"), named(files, "a3")]
    assert planned[b]["files"] == [named(files, "b1")]
    assert set(planned[a]["card_files"]) == {
        named(files, "cardA"),
        named(files, "cardA-again"),
        named(files, "cardA-later"),
    }
    again = [w for w in plan["warnings"] if w["kind"] == "card_read_again"]
    assert len(again) == 1
    assert again[0]["session_number"] == a
    assert again[0]["files"] == [named(files, "cardA-later")]
    assert again[0]["frames"] == [named(files, "a2"), named(files, "a3")]
    assert f"read again after card {b}" in again[0]["message"]
    assert "card_follows_card" not in kinds(plan)  # A then A is not two cards in a row
    assert plan["unplanned"] == []
    assert sessions[a] == planned[a]["session_id"]


async def test_two_cards_in_a_row_name_the_frames_filed_after_the_second(
    workflow: Workflow, unique: str
) -> None:
    await card_sessions(workflow, unique)
    a, b = f"A{unique}", f"B{unique}"
    files = card_of(
        unique, [("cardA", {"card": a}), ("cardB", {"card": b}), ("b1", {}), ("b2", {})]
    )
    _, plan = await dry_run(workflow, files)

    follows = kinds(plan)["card_follows_card"]
    assert follows["files"] == [named(files, "cardA"), named(files, "cardB")]
    assert follows["frames"] == [named(files, "b1"), named(files, "b2")]
    assert f"The 2 frames after card {b} are planned into session {b}" in follows["message"]
    assert f"check they are not {a}'s" in follows["message"]
    assert kinds(plan)["zero_frames"]["session_number"] == a


async def test_frames_before_the_first_card_are_named_and_filed_nowhere(
    workflow: Workflow, unique: str
) -> None:
    await card_sessions(workflow, unique)
    a = f"A{unique}"
    files = card_of(unique, [("p1", {}), ("p2", {}), ("cardA", {"card": a}), ("a1", {})])
    _, plan = await dry_run(workflow, files)

    before = kinds(plan)["before_first_card"]
    assert before["files"] == [named(files, "p1"), named(files, "p2")]
    assert before["message"].startswith("2 frames come before the first card")
    assert [(u["name"], u["reason"]) for u in plan["unplanned"]] == [
        (named(files, "p1"), "before_first_card"),
        (named(files, "p2"), "before_first_card"),
    ]
    assert plan["assignments"][named(files, "p1")] is None


async def test_a_card_partly_without_capture_times_says_it_is_taken_in_file_name_order(
    workflow: Workflow, unique: str
) -> None:
    await card_sessions(workflow, unique)
    a = f"A{unique}"
    files = card_of(unique, [("cardA", {"card": a}), ("a1", {"untimed": True}), ("a2", {})])
    _, plan = await dry_run(workflow, files)

    assert plan["ordering"] == "file_name"
    order = kinds(plan)["file_name_order"]
    assert order["files"] == [named(files, "a1")]
    # File names count down: in file order a2 and a1 come before the card.
    assert kinds(plan)["before_first_card"]["files"] == [named(files, "a2"), named(files, "a1")]
