"""The first run: with no user at all, one owner can be created (and is logged in) through
`/auth/bootstrap`; afterwards, or when the owner came from configuration, it answers 409."""

from __future__ import annotations

import asyncio

import httpx
from front_door_harness import OWNER_EMAIL, bearer, gateway_with, login
from pymongo import AsyncMongoClient

from kit.mongo import Document

NEW_OWNER = {"email": "First.Owner@Studio.test", "password": "the first owner's password"}


async def test_a_studio_without_users_creates_its_owner_once_and_is_logged_in(
    unique: str, upstream: str, mongo: AsyncMongoClient[Document]
) -> None:
    async with gateway_with(unique, upstream, mongo, owner_email=None, owner_password=None) as gw:
        before = await gw.get("/auth/bootstrap")
        made = await gw.post("/auth/bootstrap", json=NEW_OWNER)
        me = await gw.get("/auth/me", headers=bearer(made.json()["access_token"]))
        after = await gw.get("/auth/bootstrap")
        again = await gw.post(
            "/auth/bootstrap", json={"email": "intruder@x.test", "password": "x" * 12}
        )
        await login(gw, "first.owner@studio.test", NEW_OWNER["password"])
        intruder = await gw.post(
            "/auth/login", json={"email": "intruder@x.test", "password": "x" * 12}
        )

    assert before.json() == {"needed": True}
    assert made.status_code == 201, made.text
    assert me.json() == {"id": "first.owner@studio.test", "role": "owner"}
    assert after.json() == {"needed": False}
    assert again.status_code == 409
    assert again.json()["error"] == "conflict"
    assert intruder.status_code == 401


async def test_two_first_runs_at_once_make_one_owner(
    unique: str, upstream: str, mongo: AsyncMongoClient[Document]
) -> None:
    async with gateway_with(unique, upstream, mongo, owner_email=None, owner_password=None) as gw:
        answers = await asyncio.gather(
            *(
                gw.post("/auth/bootstrap", json={"email": f"o{n}@s.test", "password": "p" * 12})
                for n in range(5)
            )
        )
        users = await mongo[f"t_{unique}"]["users"].count_documents({})

    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409, 409]
    assert users == 1


async def test_the_first_run_is_over_when_the_owner_comes_from_configuration(
    gateway: httpx.AsyncClient,
) -> None:
    state = await gateway.get("/auth/bootstrap")
    refused = await gateway.post("/auth/bootstrap", json=NEW_OWNER)

    assert state.json() == {"needed": False}
    assert refused.status_code == 409
    assert OWNER_EMAIL not in refused.text


async def test_first_run_attempts_are_rate_limited_per_address(
    unique: str, upstream: str, mongo: AsyncMongoClient[Document]
) -> None:
    async with gateway_with(
        unique, upstream, mongo, owner_email=None, owner_password=None, bootstrap_per_address=2
    ) as gw:
        tries = [await gw.post("/auth/bootstrap", json=NEW_OWNER) for _ in range(3)]

    assert [a.status_code for a in tries] == [201, 409, 429]
    assert "retry-after" in tries[2].headers
