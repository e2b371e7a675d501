"""Cancel and reschedule through the signed link: it works for that session and action only."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs, urlparse

import httpx

from .conftest import booking_request, created, monday_at, open_studio


def token_of(url: str) -> str:
    return parse_qs(urlparse(url).query)["token"][0]


async def two_bookings(booking: httpx.AsyncClient) -> tuple[dict[str, str], dict[str, str]]:
    stype = await open_studio(booking)
    mine = await created(
        await booking.post(
            "/public/bookings", json=booking_request(stype["id"], monday_at(10), "me@example.com")
        )
    )
    theirs = await created(
        await booking.post(
            "/public/bookings",
            json=booking_request(stype["id"], monday_at(13), "them@example.com"),
        )
    )
    return mine, theirs


async def test_a_client_cancels_their_session_through_the_cancel_link(
    booking: httpx.AsyncClient,
) -> None:
    mine, _ = await two_bookings(booking)
    token = token_of(mine["links"]["cancel_url"])

    response = await booking.post(
        f"/public/sessions/{mine['session_id']}/cancel", json={"token": token}
    )

    assert response.status_code == 200, response.text
    assert response.json()["state"] == "cancelled"
    staff_view = (await booking.get(f"/sessions/{mine['session_id']}")).json()
    assert staff_view["cancel_reason"] == "Cancelled by the client online."


async def test_a_client_moves_their_session_through_the_reschedule_link(
    booking: httpx.AsyncClient,
) -> None:
    mine, _ = await two_bookings(booking)
    token = token_of(mine["links"]["reschedule_url"])

    response = await booking.post(
        f"/public/sessions/{mine['session_id']}/reschedule",
        json={"token": token, "starts_at": monday_at(15)},
    )

    assert response.status_code == 200, response.text
    moved = (await booking.get(f"/sessions/{mine['session_id']}")).json()
    assert moved["starts_at"] == response.json()["starts_at"]
    assert datetime.fromisoformat(moved["starts_at"]) == datetime.fromisoformat(monday_at(15))
    assert moved["state"] == "booked"


async def test_a_link_for_another_session_or_another_action_or_a_forged_one_is_refused(
    booking: httpx.AsyncClient,
) -> None:
    mine, theirs = await two_bookings(booking)
    my_cancel = token_of(mine["links"]["cancel_url"])
    my_reschedule = token_of(mine["links"]["reschedule_url"])

    other_session = await booking.post(
        f"/public/sessions/{theirs['session_id']}/cancel", json={"token": my_cancel}
    )
    other_action = await booking.post(
        f"/public/sessions/{mine['session_id']}/cancel", json={"token": my_reschedule}
    )
    forged = await booking.post(
        f"/public/sessions/{mine['session_id']}/reschedule",
        json={"token": my_reschedule[:-2] + "xx", "starts_at": monday_at(15)},
    )

    for response in (other_session, other_action, forged):
        assert response.status_code == 403, response.text
        assert response.json()["error"] == "forbidden"
    for booked in (mine, theirs):
        session = (await booking.get(f"/sessions/{booked['session_id']}")).json()
        assert session["state"] == "booked"
        assert session["starts_at"] == booked["starts_at"]
