"""The calendar without a browser: owner and staff open it, free slots come from booking's
availability, booking a client (new or found) shows the session in its slot, a taken slot is
refused with booking's message and stores no client, a move with a stale version is booking's
409 shown in the grid, a cancellation needs its reason."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
from web_harness import (
    OWNER_EMAIL,
    OWNER_PASSWORD,
    WebClient,
    WebPlatform,
    gateway_token,
    html,
    new_user,
    text_of,
)

DAY = dt.date.today() + dt.timedelta(days=9)
TOKENS: dict[str, str] = {}  # one owner login for all the setups (logins are rate limited)


async def studio_setup(studio: WebPlatform, **type_fields: Any) -> dict[str, Any]:
    """A resource open 09:00-17:00 every day and an hour-long session type on it (with
    `type_fields` besides, e.g. booked online)."""
    if studio.gateway not in TOKENS:
        TOKENS[studio.gateway] = await gateway_token(studio.gateway, OWNER_EMAIL, OWNER_PASSWORD)
    token = TOKENS[studio.gateway]
    name = f"Room {uuid.uuid4().hex[:6]}"
    async with httpx.AsyncClient(
        base_url=studio.gateway, headers={"Authorization": f"Bearer {token}"}
    ) as api:
        resource = (
            await api.post("/api/booking/resources", json={"name": name, "kind": "room"})
        ).json()
        hours = await api.post(
            "/api/booking/opening-hours",
            json={
                "resource_ids": [resource["id"]],
                "weekdays": list(range(7)),
                "opens": "09:00",
                "closes": "17:00",
                "valid_from": dt.date.today().isoformat(),
            },
        )
        assert hours.status_code == 201, hours.text
        stype = await api.post(
            "/api/booking/session-types",
            json={
                "name": f"Portrait {name}",
                "duration_minutes": 60,
                "start_every_minutes": 60,
                "resource_ids": [resource["id"]],
                **type_fields,
            },
        )
        assert stype.status_code == 201, stype.text
    return {"resource": resource, "type": stype.json(), "name": name}


def at(hour: int) -> str:
    return dt.datetime.combine(DAY, dt.time(hour), dt.UTC).isoformat()


async def book_new_client(
    client: WebClient, setup: dict[str, Any], hour: int, last: str
) -> httpx.Response:
    await client.get("/calendar")
    return await client.post(
        "/calendar/book",
        {
            "starts_at": at(hour),
            "resource_id": setup["resource"]["id"],
            "session_type_id": setup["type"]["id"],
            "client_id": "new",
            "first_name": "Ann",
            "last_name": last,
            "email": f"{last.lower()}@clients.test",
            "phone": f"+1 312 555 {uuid.uuid4().int % 10000:04d}",
            "action": "book",
        },
    )


def day_path(setup: dict[str, Any]) -> str:
    return f"/calendar?day={DAY.isoformat()}&type={setup['type']['id']}"


async def test_owner_and_staff_open_the_calendar_and_marketing_does_not(
    studio: WebPlatform, owner: WebClient, staff: WebClient
) -> None:
    email, password = await new_user(studio.gateway, "marketing")
    async with WebClient.open(studio.web) as marketing:
        await marketing.get("/login")
        await marketing.post("/login", {"email": email, "password": password, "next": "/"})
        refused = await marketing.get("/calendar")

    assert (await owner.get("/calendar")).status_code == 200
    assert (await staff.get("/calendar?view=week")).status_code == 200
    assert refused.status_code == 403


async def test_a_free_slot_is_booked_for_a_new_client_and_shows_in_its_slot(
    studio: WebPlatform, staff: WebClient
) -> None:
    setup = await studio_setup(studio)
    before = await staff.get(day_path(setup))
    free = html(before).css_first(f'a[aria-label="Book {setup["name"]} 10:00"]')

    last = f"Lee{uuid.uuid4().hex[:5]}"
    booked = await book_new_client(staff, setup, 10, last)
    after = await staff.get(day_path(setup))

    assert free is not None
    assert "starts_at=" in (free.attributes["href"] or "")
    assert booked.status_code == 303, booked.text
    sessions = [a.text(separator=" ", strip=True) for a in html(after).css("a.booking")]
    assert any(
        f"Ann {last}" in s and "10:00\N{EN DASH}11:00" in s and s.strip().startswith("S1")
        for s in sessions
    ), sessions
    assert html(after).css_first(f'a[aria-label="Book {setup["name"]} 10:00"]') is None


async def test_a_taken_slot_is_refused_with_bookings_message_and_stores_no_client(
    studio: WebPlatform, owner: WebClient
) -> None:
    setup = await studio_setup(studio)
    first = await book_new_client(owner, setup, 11, f"First{uuid.uuid4().hex[:5]}")
    late = f"Late{uuid.uuid4().hex[:5]}"
    second = await book_new_client(owner, setup, 11, late)
    search = await owner.get(f"/calendar/clients?q={late}", headers={"HX-Request": "true"})

    assert first.status_code == 303
    assert second.status_code == 409
    assert text_of(second, "p.error") == "That time is not free."
    assert html(second).css_first("#f-last_name").attributes["value"] == late
    assert f"No client matches “{late}”." in search.text


async def test_an_existing_client_is_found_and_picked(
    studio: WebPlatform, owner: WebClient
) -> None:
    setup = await studio_setup(studio)
    last = f"Found{uuid.uuid4().hex[:5]}"
    await book_new_client(owner, setup, 9, last)
    found = await owner.post(
        "/calendar/book",
        {
            "starts_at": at(13),
            "resource_id": setup["resource"]["id"],
            "q": last,
            "action": "search",
        },
    )
    pick = html(found).css_first('#matches input[name="client_id"]')
    booked = await owner.post(
        "/calendar/book",
        {
            "starts_at": at(13),
            "resource_id": setup["resource"]["id"],
            "session_type_id": setup["type"]["id"],
            "client_id": pick.attributes["value"],
            "action": "book",
        },
    )
    after = await owner.get(day_path(setup))
    mine = [a for a in html(after).css("a.booking") if last in a.text()]
    session = await owner.get(mine[-1].attributes.get("href") or "")
    record = html(session).css_first('main a[href^="/sessions/"]')

    assert f"Ann {last}" in text_of(found, "#matches")
    assert booked.status_code == 303
    assert len(mine) == 2
    # The booking leads to its session record (images, status, orders).
    assert record is not None
    assert record.attributes["href"] == f"/sessions/{mine[-1].attributes['data-session-id']}"


async def test_a_move_with_a_stale_version_is_refused_and_a_fresh_one_moves_it(
    studio: WebPlatform, owner: WebClient
) -> None:
    setup = await studio_setup(studio)
    last = f"Move{uuid.uuid4().hex[:5]}"
    await book_new_client(owner, setup, 10, last)
    page = await owner.get(day_path(setup))
    booking = next(a for a in html(page).css("a.booking") if last in a.text())
    move = {
        "session_id": booking.attributes["data-session-id"],
        "starts_at": at(14),
        "resource_id": setup["resource"]["id"],
        "day": DAY.isoformat(),
        "type": setup["type"]["id"],
    }
    stale = await owner.post(
        "/calendar/move",
        {**move, "version": str(int(booking.attributes["data-version"] or 0) + 1)},
        htmx=True,
    )
    moved = await owner.post(
        "/calendar/move", {**move, "version": booking.attributes["data-version"]}, htmx=True
    )

    assert stale.status_code == 409
    assert text_of(stale, "#calendar p.error") == "The session changed since you loaded it."
    assert moved.status_code == 200
    now_at = next(a for a in html(moved).css("a.booking") if last in a.text())
    assert "14:00\N{EN DASH}15:00" in now_at.text()


async def test_a_session_is_rescheduled_by_its_form_and_cancelled_with_a_reason(
    studio: WebPlatform, owner: WebClient
) -> None:
    setup = await studio_setup(studio)
    last = f"Cancel{uuid.uuid4().hex[:5]}"
    await book_new_client(owner, setup, 15, last)
    page = await owner.get(day_path(setup))
    booking = next(a for a in html(page).css("a.booking") if last in a.text())
    path = booking.attributes["href"] or ""
    session = await owner.get(path)
    version = html(session).css_first('input[name="version"]').attributes["value"]
    closed = await owner.post(
        f"{path}/reschedule",
        {
            "date": DAY.isoformat(),
            "time": "18:00",
            "resource_id": setup["resource"]["id"],
            "version": version,
        },
    )
    moved = await owner.post(
        f"{path}/reschedule",
        {
            "date": DAY.isoformat(),
            "time": "12:00",
            "resource_id": setup["resource"]["id"],
            "version": version,
        },
    )
    no_reason = await owner.post(f"{path}/cancel", {"reason": ""})
    cancelled = await owner.post(f"{path}/cancel", {"reason": "Client is ill"})
    after = await owner.get(path)
    day = await owner.get(day_path(setup))

    assert closed.status_code == 409
    assert text_of(closed, 'form[aria-label="Reschedule"] p.error') == "The studio is closed then."
    assert moved.status_code == 303
    assert no_reason.status_code == 422
    assert "Give a reason" in text_of(no_reason, "#e-reason")
    assert cancelled.status_code == 303
    assert "cancelled: Client is ill" in text_of(after, "dl.facts")
    assert last not in day.text


async def test_the_week_of_a_resource_shades_its_closure_and_offers_no_slot_there(
    studio: WebPlatform, owner: WebClient
) -> None:
    setup = await studio_setup(studio)
    closed_day = DAY + dt.timedelta(days=1)
    await owner.get("/settings")
    added = await owner.post(
        "/settings/closures",
        {
            "resource_id": setup["resource"]["id"],
            "first_day": closed_day.isoformat(),
            "reason": "Repainting",
        },
    )
    week = await owner.get(
        f"/calendar?view=week&day={DAY.isoformat()}&type={setup['type']['id']}"
        f"&resource={setup['resource']['id']}"
    )
    heads = [th.text(separator=" ", strip=True) for th in html(week).css("thead th")]
    labels = [a.attributes.get("aria-label") or "" for a in html(week).css("td.slot.free a")]

    assert added.status_code == 303
    assert len(heads) == 8  # the time, then seven days
    closed_head = next(h for h in heads if closed_day.strftime("%a %d") in h)
    assert "Closed: Repainting" in closed_head
    assert not any(closed_day.strftime("%a %d") in label for label in labels)
    assert any(DAY.strftime("%a %d") in label for label in labels)


async def test_the_month_lists_each_session_on_its_day_and_a_studio_closure(
    studio: WebPlatform, owner: WebClient
) -> None:
    setup = await studio_setup(studio)
    last = f"Moy{uuid.uuid4().hex[:5]}"
    booked = await book_new_client(owner, setup, 11, last)
    closed_day = DAY + dt.timedelta(days=2)
    await owner.get("/settings")
    await owner.post(
        "/settings/closures",
        {"resource_id": "", "first_day": closed_day.isoformat(), "reason": "Studio holiday"},
    )
    month = await owner.get(
        f"/calendar?view=month&day={DAY.isoformat()}&type={setup['type']['id']}"
    )
    cells = {
        cell.css_first("a.day-link").attributes.get("data-day"): cell
        for cell in html(month).css("td.month-day")
    }
    booked_cell = cells[DAY.isoformat()]
    closed_cell = cells[closed_day.isoformat()]
    weeks = html(month).css("table.cal-month tbody tr")
    after = (DAY.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    on = await owner.get(f"/calendar?view=month&day={DAY.isoformat()}")
    next_link = html(on).css_first('a[rel="next"]').attributes["href"] or ""

    assert booked.status_code == 303, booked.text
    assert month.status_code == 200
    assert DAY.strftime("%B %Y") in text_of(month, "h1")
    assert all(len(week.css("td")) == 7 for week in weeks)
    mine = [
        a for a in booked_cell.css("a.booking") if setup["type"]["name"] in a.text(separator=" ")
    ]
    assert len(mine) == 1
    assert (mine[0].attributes.get("href") or "").startswith("/calendar/sessions/")
    assert "Closed: Studio holiday" in closed_cell.text(separator=" ")
    # Free starts of the hour-long type, 09:00 to 16:00: eight, one of them booked on DAY.
    free = booked_cell.css_first("a.free-count")
    assert free is not None
    assert free.text(separator=" ").startswith("7 free")
    assert f"type={setup['type']['id']}" in (free.attributes.get("href") or "")
    assert closed_cell.css_first("a.free-count") is None
    next_day = DAY + dt.timedelta(days=1)
    if next_day.month == DAY.month:
        following = cells[next_day.isoformat()].css_first("a.free-count")
        assert following is not None
        assert following.text(separator=" ").startswith("8 free")
    assert f"day={after.isoformat()}" in next_link
    assert "view=month" in next_link


async def test_a_session_cancelled_by_mistake_is_reopened_in_another_slot_when_its_own_is_taken(
    studio: WebPlatform, owner: WebClient
) -> None:
    setup = await studio_setup(studio)
    last = f"Reopen{uuid.uuid4().hex[:5]}"
    await book_new_client(owner, setup, 10, last)
    booking = next(
        a for a in html(await owner.get(day_path(setup))).css("a.booking") if last in a.text()
    )
    path = booking.attributes["href"] or ""
    await owner.post(f"{path}/cancel", {"reason": "Wrong client cancelled"})
    cancelled = await owner.get(path)
    version = html(cancelled).css_first(
        'form[aria-label="Reopen the session"] input[name="version"]'
    )
    taker = f"Taker{uuid.uuid4().hex[:5]}"
    await book_new_client(owner, setup, 10, taker)
    no_reason = await owner.post(
        f"{path}/reopen", {"reason": "", "version": version.attributes["value"] or ""}
    )
    taken = await owner.post(
        f"{path}/reopen",
        {"reason": "Cancelled by mistake", "version": version.attributes["value"] or ""},
    )
    fresh = html(taken).css_first('form[aria-label="Reopen the session"] input[name="version"]')
    moved = await owner.post(
        f"{path}/reopen",
        {
            "reason": "Cancelled by mistake",
            "version": fresh.attributes["value"] or "",
            "another": "1",
            "date": DAY.isoformat(),
            "time": "13:00",
            "resource_id": setup["resource"]["id"],
        },
    )
    after = await owner.get(path)
    day = await owner.get(day_path(setup))

    assert cancelled.status_code == 200
    assert no_reason.status_code == 422
    assert "Give a reason for reopening" in text_of(
        no_reason, 'form[aria-label="Reopen the session"]'
    )
    assert taken.status_code == 409
    assert "no longer free" in text_of(taken, 'form[aria-label="Reopen the session"] p.error')
    assert "open" in html(taken).css_first("details").attributes
    assert moved.status_code == 303
    facts = text_of(after, "dl.facts")
    assert "booked" in facts
    assert "13:00" in facts
    assert "Cancelled by mistake" in facts
    assert html(after).css_first('form[aria-label="Reopen the session"]') is None
    assert last in day.text
    assert taker in day.text


async def test_a_deposit_is_taken_at_the_desk_or_asked_for_by_a_checkout_link(
    studio: WebPlatform, owner: WebClient
) -> None:
    setup = await studio_setup(studio, deposit_minor=5000)
    desk, online = f"Desk{uuid.uuid4().hex[:5]}", f"Link{uuid.uuid4().hex[:5]}"
    await book_new_client(owner, setup, 10, desk)
    await book_new_client(owner, setup, 11, online)
    day = html(await owner.get(day_path(setup)))
    desk_path = next(a for a in day.css("a.booking") if desk in a.text()).attributes["href"] or ""
    link_path = next(a for a in day.css("a.booking") if online in a.text()).attributes["href"]
    unpaid = await owner.get(desk_path)
    taken = await owner.post(f"{desk_path}/deposit", {"method": "cash", "reference": "R-9"})
    after = await owner.get(desk_path)
    twice = await owner.post(f"{desk_path}/deposit", {"method": "cash", "reference": ""})
    asked = await owner.post(f"{link_path}/deposit", {"method": "checkout", "reference": ""})
    link_page = await owner.get(link_path or "")

    assert "Deposit 50.00 USD" in text_of(unpaid, "#deposit")
    assert "Not paid yet." in text_of(unpaid, "#deposit")
    assert taken.status_code == 303
    assert "succeeded · cash (R-9) · recorded by" in text_of(after, "#deposit")
    assert html(after).css_first('form[aria-label="Take the deposit"]') is None
    assert twice.status_code == 409
    assert "already paid" in text_of(twice, "#deposit p.error")
    assert asked.status_code == 303
    assert "pending · checkout" in text_of(link_page, "#deposit")
    checkout = html(link_page).css_first("#deposit input[readonly]").attributes["value"] or ""
    assert checkout.startswith("http")
