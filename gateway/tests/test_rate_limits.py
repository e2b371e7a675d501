"""Rate limits: login per address and per account, PIN attempts per address and per link, and
public booking per address, each answered with 429 and Retry-After once over the limit."""

from __future__ import annotations

import httpx
from front_door_harness import OWNER_EMAIL, OWNER_PASSWORD, gateway_with
from pymongo import AsyncMongoClient

from kit.mongo import Document
from kit.settings import InfraSettings


def _assert_limited(answer: httpx.Response, limit: str, per: str) -> None:
    assert answer.status_code == 429, answer.text
    assert answer.json()["error"] == "too_many_requests"
    assert answer.json()["detail"] == {"limit": limit, "per": per}
    assert 1 <= int(answer.headers["retry-after"]) <= 3600


async def test_guessing_one_accounts_password_is_stopped_even_with_the_right_one_next(
    infra: InfraSettings, unique: str, upstream: str, mongo: AsyncMongoClient[Document]
) -> None:
    async with gateway_with(
        unique, upstream, mongo, login_per_account=3, login_window_seconds=3600
    ) as client:
        guesses = [
            await client.post("/auth/login", json={"email": OWNER_EMAIL, "password": f"guess {i}"})
            for i in range(3)
        ]
        right = await client.post(
            "/auth/login", json={"email": OWNER_EMAIL, "password": OWNER_PASSWORD}
        )
        other = await client.post(
            "/auth/login", json={"email": "other@studio.test", "password": "guess"}
        )

    assert [g.status_code for g in guesses] == [401, 401, 401]
    _assert_limited(right, "login", "account")
    assert other.status_code == 401


async def test_one_address_trying_many_accounts_is_stopped(
    infra: InfraSettings, unique: str, upstream: str, mongo: AsyncMongoClient[Document]
) -> None:
    async with gateway_with(
        unique, upstream, mongo, login_per_address=2, login_window_seconds=3600
    ) as client:
        answers = [
            await client.post(
                "/auth/login", json={"email": f"u{i}@studio.test", "password": "guess"}
            )
            for i in range(3)
        ]

    assert [a.status_code for a in answers[:2]] == [401, 401]
    _assert_limited(answers[2], "login", "address")


async def test_pin_attempts_are_limited_per_link_and_per_address(
    infra: InfraSettings, unique: str, upstream: str, mongo: AsyncMongoClient[Document]
) -> None:
    async with gateway_with(
        unique,
        upstream,
        mongo,
        pin_per_link=2,
        pin_per_address=4,
        pin_window_seconds=3600,
    ) as client:
        first_link = [await client.post("/d/link_a/pin", data={"pin": "0000"}) for _ in range(3)]
        second_link = await client.post("/d/link_b/pin", data={"pin": "0000"})
        third_link = await client.post("/d/link_c/pin", data={"pin": "0000"})
        page = await client.get("/d/link_a")

    assert [a.status_code for a in first_link[:2]] == [200, 200]
    _assert_limited(first_link[2], "pin", "link")
    assert second_link.status_code == 200
    _assert_limited(third_link, "pin", "address")
    assert page.status_code == 200


async def test_public_booking_is_limited_per_address_but_browsing_is_not(
    infra: InfraSettings, unique: str, upstream: str, mongo: AsyncMongoClient[Document]
) -> None:
    async with gateway_with(
        unique, upstream, mongo, booking_per_address=2, booking_window_seconds=3600
    ) as client:
        bookings = [await client.post("/public/sessions", json={}) for _ in range(3)]
        browsing = [await client.get("/public/availability") for _ in range(4)]

    assert [b.status_code for b in bookings[:2]] == [200, 200]
    _assert_limited(bookings[2], "booking", "address")
    assert {b.status_code for b in browsing} == {200}


async def test_one_client_email_booking_from_many_addresses_is_stopped(
    infra: InfraSettings, unique: str, upstream: str, mongo: AsyncMongoClient[Document]
) -> None:
    def booking(email: str) -> dict[str, object]:
        return {
            "session_type_id": "t",
            "starts_at": "2030-01-02T10:00:00Z",
            "client": {"email": email},
        }

    async with gateway_with(
        unique,
        upstream,
        mongo,
        booking_per_account=2,
        booking_per_address=100,
        booking_window_seconds=3600,
    ) as client:
        same = [
            await client.post("/public/bookings", json=booking(email))
            for email in ("ann@example.test", "ANN@example.test ", "ann@example.test")
        ]
        other = await client.post("/public/bookings", json=booking("bob@example.test"))

    assert [a.status_code for a in same[:2]] == [200, 200]
    _assert_limited(same[2], "booking", "account")
    assert other.status_code == 200


async def test_stripe_webhooks_are_never_rate_limited(
    infra: InfraSettings, unique: str, upstream: str, mongo: AsyncMongoClient[Document]
) -> None:
    async with gateway_with(
        unique, upstream, mongo, booking_per_address=1, booking_window_seconds=3600
    ) as client:
        answers = [
            await client.post("/public/payments/stripe-webhook", content=b"{}") for _ in range(4)
        ]

    assert {a.status_code for a in answers} == {200}
