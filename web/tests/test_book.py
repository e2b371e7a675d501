"""The clients' pages without a browser: a client books a free time online with no login,
gets a confirmation with their own links (the links booking writes open these pages), moves
the booking to another free time and cancels it; a time taken meanwhile is refused with the
slot-gone message and the details kept; a session type with a deposit leads to the payment
page (stripe-mock's Checkout) with the hold shown; a forged link shows booking's refusal."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
from test_calendar import studio_setup
from web_harness import WebClient, WebPlatform, html, text_of

# Clear of the days the calendar's tests close (9 to 11 days ahead).
DAY = dt.date.today() + dt.timedelta(days=20)


async def online_type(studio: WebPlatform, *, deposit_minor: int = 0) -> dict[str, Any]:
    """A room open 09:00-17:00 every day and an hour-long session type clients book online."""
    setup = await studio_setup(
        studio,
        bookable_online=True,
        online_description="An hour in the studio for the whole family.",
        deposit_minor=deposit_minor,
    )
    stype: dict[str, Any] = setup["type"]
    return stype


def _starts(page: httpx.Response) -> list[str]:
    return [i.attributes["value"] or "" for i in html(page).css('input[name="starts_at"]')]


def _details(last: str) -> dict[str, str]:
    return {
        "first_name": "Mia",
        "last_name": last,
        "email": f"{last.lower()}@clients.test",
        "phone": "+1 312 555 0199",
        "notes": "Two children and a dog.",
    }


async def test_a_client_books_online_moves_the_booking_and_cancels_it(studio: WebPlatform) -> None:
    stype = await online_type(studio)
    last = f"Online{uuid.uuid4().hex[:5]}"
    async with WebClient.open(studio.web) as client:
        listing = await client.get("/book")
        form = await client.get(f"/book/{stype['id']}?from={DAY.isoformat()}")
        starts = _starts(form)
        booked = await client.post(
            f"/book/{stype['id']}",
            {**_details(last), "starts_at": starts[0], "from": DAY.isoformat()},
        )
        confirmation = await client.get(booked.headers["location"])
        move_link = html(confirmation).css_first('a[href*="/reschedule?"]').attributes["href"] or ""
        cancel_link = html(confirmation).css_first('a[href*="/cancel?"]').attributes["href"] or ""
        move_page = await client.get(move_link)
        later = _starts(move_page)[2]
        token = html(move_page).css_first('input[name="token"]').attributes["value"] or ""
        moved = await client.post(
            move_link.split("?")[0], {"token": token, "starts_at": later, "from": ""}
        )
        after_move = await client.get(moved.headers["location"])
        cancel_page = await client.get(cancel_link)
        cancelled = await client.post(
            cancel_link.split("?")[0],
            {
                "token": html(cancel_page).css_first('input[name="token"]').attributes["value"],
                "reason": "We are away that week.",
            },
        )
        after_cancel = await client.get(cancelled.headers["location"])
        moved_again = await client.get(move_link)

    assert listing.status_code == 200
    assert stype["name"] in text_of(listing, "main")
    assert "An hour in the studio" in text_of(listing, "main")
    assert form.status_code == 200
    assert starts[0].startswith(f"{DAY.isoformat()}T09:00")  # the studio's wall clock
    assert sum(s.startswith(DAY.isoformat()) for s in starts) == 8  # 09:00 to 16:00
    assert booked.status_code == 303
    assert confirmation.status_code == 200
    assert "You are booked" in text_of(confirmation, "h1")
    assert stype["name"] in text_of(confirmation, "main")
    assert move_page.status_code == 200
    # The days around the session's own (three before it) are offered first.
    assert _starts(move_page)[0].startswith((DAY - dt.timedelta(days=3)).isoformat())
    assert moved.status_code == 303
    assert "Moved." in text_of(after_move, "main")
    shown = dt.datetime.fromisoformat(later)
    assert shown.strftime("%H:%M") in text_of(after_move, "section p:not(.notice)")
    assert cancelled.status_code == 303
    assert "This booking is cancelled." in text_of(after_cancel, "main")
    assert "cannot be moved here" in text_of(moved_again, "main")


async def test_the_links_in_bookings_answer_open_these_pages_and_a_forged_one_is_refused(
    studio: WebPlatform,
) -> None:
    stype = await online_type(studio)
    last = f"Linked{uuid.uuid4().hex[:5]}"
    async with httpx.AsyncClient(base_url=studio.gateway) as public:
        free = (
            await public.get(
                f"/public/session-types/{stype['id']}/availability",
                params={
                    "start": dt.datetime.combine(DAY, dt.time(), dt.UTC).isoformat(),
                    "end": dt.datetime.combine(
                        DAY + dt.timedelta(days=1), dt.time(), dt.UTC
                    ).isoformat(),
                },
            )
        ).json()["starts"]
        answer = await public.post(
            "/public/bookings",
            json={
                "session_type_id": stype["id"],
                "starts_at": free[0],
                "client": {"email": f"{last.lower()}@clients.test", "last_name": last},
            },
        )
    links = answer.json()["links"]
    async with WebClient.open(studio.web) as client:
        emailed = await client.get(links["cancel_url"].removeprefix(studio.web))
        forged = await client.get(
            links["cancel_url"].removeprefix(studio.web).split("?")[0] + "?token=forged"
        )

    assert answer.status_code == 201, answer.text
    assert links["cancel_url"].startswith(studio.web + "/public/sessions/")
    assert links["reschedule_url"].startswith(studio.web + "/public/sessions/")
    assert emailed.status_code == 200
    assert html(emailed).css_first('form[aria-label="Cancel the booking"]') is not None
    assert forged.status_code == 403
    assert "does not allow" in text_of(forged, "p.error")


async def test_a_time_taken_meanwhile_is_refused_with_the_details_kept(studio: WebPlatform) -> None:
    stype = await online_type(studio)
    first, second = f"Quick{uuid.uuid4().hex[:5]}", f"Slow{uuid.uuid4().hex[:5]}"
    async with WebClient.open(studio.web) as quick, WebClient.open(studio.web) as slow:
        form = await slow.get(f"/book/{stype['id']}?from={DAY.isoformat()}")
        await quick.get(f"/book/{stype['id']}?from={DAY.isoformat()}")
        wanted = _starts(form)[1]
        won = await quick.post(
            f"/book/{stype['id']}",
            {**_details(first), "starts_at": wanted, "from": DAY.isoformat()},
        )
        lost = await slow.post(
            f"/book/{stype['id']}",
            {**_details(second), "starts_at": wanted, "from": DAY.isoformat()},
        )
        no_time = await slow.post(
            f"/book/{stype['id']}", {**_details(second), "starts_at": "", "from": DAY.isoformat()}
        )
        no_email = await slow.post(
            f"/book/{stype['id']}",
            {
                **_details(second),
                "email": "",
                "starts_at": _starts(form)[3],
                "from": DAY.isoformat(),
            },
        )

    assert won.status_code == 303
    assert lost.status_code == 409
    assert "choose another time" in text_of(lost, "form p.error")
    assert html(lost).css_first("#f-last_name").attributes["value"] == second
    assert wanted not in _starts(lost)
    assert no_time.status_code == 422
    assert "Choose a time." in text_of(no_time, "#e-starts_at")
    assert no_email.status_code == 422
    assert text_of(no_email, "#e-email")


async def test_a_session_with_a_deposit_is_held_and_leads_to_the_payment_page(
    studio: WebPlatform,
) -> None:
    stype = await online_type(studio, deposit_minor=5000)
    last = f"Deposit{uuid.uuid4().hex[:5]}"
    async with WebClient.open(studio.web) as client:
        listing = await client.get("/book")
        form = await client.get(f"/book/{stype['id']}?from={DAY.isoformat()}")
        held = await client.post(
            f"/book/{stype['id']}",
            {**_details(last), "starts_at": _starts(form)[0], "from": DAY.isoformat()},
        )
        pay_link = html(held).css_first("a.button").attributes["href"] or ""
        own = html(held).css_first('a[href^="/book/booked/"]').attributes["href"] or ""
        booking = await client.get(own)
        back = await client.get("/booking/paid?payment=p1")
        left = await client.get("/booking/unpaid?payment=p1")

    assert "deposit 50.00" in text_of(listing, "main")
    assert held.status_code == 201
    assert "Your time is held" in text_of(held, "h1")
    assert "Pay 50.00" in text_of(held, "a.button")
    assert pay_link.startswith("http")
    assert "We keep this time for you until" in text_of(held, "main")
    assert "held until the deposit is paid" in text_of(booking, "main")
    assert "Thank you" in text_of(back, "h1")
    assert "nothing was charged" in text_of(left, "main")
