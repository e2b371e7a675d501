"""Login guessing is limited without handing an attacker a lock on the owner: per address, per
account and address, and per account for clients that have not logged in to it lately. The
owner, from a client that logged in before, still gets in with the right password while the
account is under attack from elsewhere."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from fastapi import FastAPI
from front_door_harness import OWNER_EMAIL, OWNER_PASSWORD, gateway_app
from pymongo import AsyncMongoClient

from kit.mongo import Document
from kit.settings import InfraSettings
from kit.testing import running

OWNERS_LAPTOP = "198.51.100.10"
ClientAt = Callable[[str], httpx.AsyncClient]


@contextlib.asynccontextmanager
async def gateway_for_addresses(
    unique: str, upstream: str, mongo: AsyncMongoClient[Document], **overrides: Any
) -> AsyncIterator[ClientAt]:
    """The gateway in-process; `client_at(address)` talks to it as a caller at `address`."""
    app: FastAPI = gateway_app(unique, upstream, login_window_seconds=3600, **overrides)
    clients: list[httpx.AsyncClient] = []

    def client_at(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        client = httpx.AsyncClient(transport=transport, base_url="http://studio.test")
        clients.append(client)
        return client

    try:
        async with running(app):
            yield client_at
    finally:
        for client in clients:
            await client.aclose()
        await mongo.drop_database(f"t_{unique}")


async def _login(client: httpx.AsyncClient, password: str) -> httpx.Response:
    return await client.post("/auth/login", json={"email": OWNER_EMAIL, "password": password})


async def test_ten_wrong_passwords_from_elsewhere_do_not_lock_the_owner_out(
    infra: InfraSettings, unique: str, upstream: str, mongo: AsyncMongoClient[Document]
) -> None:
    # 5 per account and address, 10 per account for the clients the account does not know.
    async with gateway_for_addresses(
        unique, upstream, mongo, login_per_account_address=5, login_per_account=10
    ) as client_at:
        laptop = client_at(OWNERS_LAPTOP)
        before = await _login(laptop, OWNER_PASSWORD)
        # The probe's attack: 10 wrong passwords for the owner's email, then the right one.
        attacker = client_at("203.0.113.66")
        guesses = [await _login(attacker, f"guess {i}") for i in range(10)]
        right_from_attacker = await _login(attacker, OWNER_PASSWORD)
        # The same spread over many addresses.
        spread = [await _login(client_at(f"203.0.113.{i}"), f"guess {i}") for i in range(10)]
        right_from_elsewhere = await _login(client_at("203.0.113.200"), OWNER_PASSWORD)
        owner = await _login(laptop, OWNER_PASSWORD)

    assert before.status_code == 200, before.text
    assert [g.status_code for g in guesses] == [401] * 5 + [429] * 5
    assert guesses[5].json()["detail"] == {"limit": "login", "per": "account_address"}
    assert right_from_attacker.status_code == 429
    # Unknown clients share the account's limit (the laptop's first login, the attacker's 5
    # counted guesses, then 4 more), the right password included ...
    assert [g.status_code for g in spread] == [401] * 4 + [429] * 6
    assert spread[4].json()["detail"] == {"limit": "login", "per": "account"}
    assert right_from_elsewhere.status_code == 429
    # ... while the owner's own client is let through with the right password.
    assert owner.status_code == 200, owner.text
    assert owner.json()["role"] == "owner"


async def test_one_attacker_is_stopped_on_the_account_from_their_address(
    infra: InfraSettings, unique: str, upstream: str, mongo: AsyncMongoClient[Document]
) -> None:
    async with gateway_for_addresses(
        unique, upstream, mongo, login_per_account_address=3, login_per_account=100
    ) as client_at:
        attacker = client_at("203.0.113.66")
        guesses = [await _login(attacker, f"guess {i}") for i in range(4)]
        right_from_attacker = await _login(attacker, OWNER_PASSWORD)
        other_account = await attacker.post(
            "/auth/login", json={"email": "staff@studio.test", "password": "guess"}
        )
        owner = await _login(client_at(OWNERS_LAPTOP), OWNER_PASSWORD)

    assert [g.status_code for g in guesses[:3]] == [401, 401, 401]
    assert guesses[3].status_code == 429
    assert guesses[3].json()["detail"] == {"limit": "login", "per": "account_address"}
    assert right_from_attacker.status_code == 429
    assert other_account.status_code == 401
    assert owner.status_code == 200, owner.text


async def test_a_known_client_guessing_is_still_held_per_account_and_address(
    infra: InfraSettings, unique: str, upstream: str, mongo: AsyncMongoClient[Document]
) -> None:
    async with gateway_for_addresses(
        unique, upstream, mongo, login_per_account_address=3, login_per_account=1
    ) as client_at:
        laptop = client_at(OWNERS_LAPTOP)
        first = await _login(laptop, OWNER_PASSWORD)
        guesses = [await _login(laptop, f"guess {i}") for i in range(3)]

    assert first.status_code == 200
    # Not held by the per-account limit of 1, but by its own address's limit of 3.
    assert [g.status_code for g in guesses] == [401, 401, 429]
    assert guesses[2].json()["detail"] == {"limit": "login", "per": "account_address"}


async def test_a_client_is_known_only_after_a_successful_login_to_that_account(
    infra: InfraSettings, unique: str, upstream: str, mongo: AsyncMongoClient[Document]
) -> None:
    async with gateway_for_addresses(unique, upstream, mongo, login_per_account=2) as client_at:
        laptop = client_at(OWNERS_LAPTOP)
        wrong = [await _login(laptop, "guess") for _ in range(2)]
        right = await _login(laptop, OWNER_PASSWORD)

    assert [w.status_code for w in wrong] == [401, 401]
    assert right.status_code == 429
    assert right.json()["detail"] == {"limit": "login", "per": "account"}
