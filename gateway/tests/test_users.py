"""Users of the studio: the first owner from configuration, argon2 hashes, login with a short-lived
JWT and a refresh token, rotation, logout revoking the refresh token, and the owner's user admin."""

from __future__ import annotations

import httpx
import pytest
from front_door_harness import (
    OWNER_EMAIL,
    OWNER_PASSWORD,
    bearer,
    gateway_with,
    login,
    owner_token,
)
from pydantic import ValidationError
from pymongo import AsyncMongoClient

from gateway.config import GatewaySettings
from kit.mongo import Document
from kit.settings import InfraSettings


async def test_the_first_owner_comes_from_configuration_with_an_argon2_hash(
    gateway: httpx.AsyncClient, mongo: AsyncMongoClient[Document], unique: str
) -> None:
    tokens = await login(gateway, OWNER_EMAIL.upper(), OWNER_PASSWORD)

    me = await gateway.get("/auth/me", headers=bearer(tokens["access_token"]))
    stored = await mongo[f"t_{unique}"]["users"].find_one({"_id": OWNER_EMAIL})
    assert me.json() == {"id": OWNER_EMAIL, "role": "owner"}
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 900
    assert stored is not None
    assert stored["password_hash"].startswith("$argon2id$")
    assert OWNER_PASSWORD not in str(stored)


async def test_a_restart_keeps_the_owner_whose_password_was_changed(
    infra: InfraSettings, unique: str, upstream: str, mongo: AsyncMongoClient[Document]
) -> None:
    new_password = "a brand new owner password"
    async with gateway_with(unique, upstream, mongo) as client:
        owner = await owner_token(client)
        changed = await client.patch(
            f"/users/{OWNER_EMAIL}", json={"password": new_password}, headers=bearer(owner)
        )
        assert changed.status_code == 200, changed.text
        async with gateway_with(unique, upstream, mongo) as restarted:
            old = await restarted.post(
                "/auth/login", json={"email": OWNER_EMAIL, "password": OWNER_PASSWORD}
            )
            await login(restarted, OWNER_EMAIL, new_password)
    assert old.status_code == 401


async def test_a_wrong_password_and_an_unknown_email_get_the_same_401(
    gateway: httpx.AsyncClient,
) -> None:
    wrong = await gateway.post(
        "/auth/login", json={"email": OWNER_EMAIL, "password": "not the password"}
    )
    unknown = await gateway.post(
        "/auth/login", json={"email": "nobody@studio.test", "password": OWNER_PASSWORD}
    )

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["message"] == unknown.json()["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "password": "x"},
        {"email": OWNER_EMAIL},
        {"email": OWNER_EMAIL, "password": ""},
        {"email": OWNER_EMAIL, "password": "x", "extra": 1},
    ],
)
async def test_a_malformed_login_is_a_422(gateway: httpx.AsyncClient, body: object) -> None:
    answer = await gateway.post("/auth/login", json=body)

    assert answer.status_code == 422
    assert answer.json()["error"] == "validation_error"


async def test_a_refresh_token_is_used_up_by_a_refresh(gateway: httpx.AsyncClient) -> None:
    first = await login(gateway, OWNER_EMAIL, OWNER_PASSWORD)

    renewed = await gateway.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    replayed = await gateway.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})

    assert renewed.status_code == 200
    pair = renewed.json()
    assert pair["refresh_token"] != first["refresh_token"]
    me = await gateway.get("/auth/me", headers=bearer(pair["access_token"]))
    assert me.json()["id"] == OWNER_EMAIL
    assert replayed.status_code == 401


async def test_logout_revokes_the_refresh_token(gateway: httpx.AsyncClient) -> None:
    tokens = await login(gateway, OWNER_EMAIL, OWNER_PASSWORD)

    out = await gateway.post("/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    again = await gateway.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})

    assert out.status_code == 204
    assert again.status_code == 401
    assert again.json()["error"] == "unauthorized"


async def test_the_owner_adds_changes_disables_and_removes_users(
    gateway: httpx.AsyncClient,
) -> None:
    owner = bearer(await owner_token(gateway))
    made = await gateway.post(
        "/users",
        json={"email": "Ann@Studio.test", "password": "ann's long password", "role": "staff"},
        headers=owner,
    )
    assert made.status_code == 201, made.text
    assert made.json()["email"] == "ann@studio.test"
    twice = await gateway.post(
        "/users",
        json={"email": "ann@studio.test", "password": "another long one", "role": "staff"},
        headers=owner,
    )
    ann = await login(gateway, "ann@studio.test", "ann's long password")
    assert (await gateway.get("/auth/me", headers=bearer(ann["access_token"]))).json()[
        "role"
    ] == "staff"

    promoted = await gateway.patch(
        "/users/ann@studio.test", json={"role": "marketing"}, headers=owner
    )
    disabled = await gateway.patch("/users/ann@studio.test", json={"disabled": True}, headers=owner)
    refused = await gateway.post(
        "/auth/login", json={"email": "ann@studio.test", "password": "ann's long password"}
    )
    refresh_refused = await gateway.post(
        "/auth/refresh", json={"refresh_token": ann["refresh_token"]}
    )
    listed = await gateway.get("/users", headers=owner)
    removed = await gateway.delete("/users/ann@studio.test", headers=owner)
    gone = await gateway.get("/users/ann@studio.test", headers=owner)

    assert twice.status_code == 409
    assert promoted.json()["role"] == "marketing"
    assert disabled.json()["disabled"] is True
    assert refused.status_code == 401
    assert refresh_refused.status_code == 401
    assert [user["email"] for user in listed.json()] == ["ann@studio.test", OWNER_EMAIL]
    assert removed.status_code == 204
    assert gone.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"email": "b@studio.test", "password": "short", "role": "staff"},
        {"email": "b@studio.test", "password": "long enough password", "role": "client"},
        {"email": "no at sign", "password": "long enough password", "role": "staff"},
        {"password": "long enough password", "role": "staff"},
    ],
)
async def test_a_bad_new_user_is_a_422(gateway: httpx.AsyncClient, body: object) -> None:
    owner = bearer(await owner_token(gateway))

    answer = await gateway.post("/users", json=body, headers=owner)

    assert answer.status_code == 422
    assert answer.json()["error"] == "validation_error"


async def test_an_owner_cannot_lock_themselves_out(gateway: httpx.AsyncClient) -> None:
    owner = bearer(await owner_token(gateway))

    demoted = await gateway.patch(f"/users/{OWNER_EMAIL}", json={"role": "staff"}, headers=owner)
    disabled = await gateway.patch(f"/users/{OWNER_EMAIL}", json={"disabled": True}, headers=owner)
    deleted = await gateway.delete(f"/users/{OWNER_EMAIL}", headers=owner)

    assert (demoted.status_code, disabled.status_code, deleted.status_code) == (409, 409, 409)
    await login(gateway, OWNER_EMAIL, OWNER_PASSWORD)


def test_production_refuses_to_start_without_a_jwt_secret_and_a_first_owner() -> None:
    infra = InfraSettings(
        environment="production",
        s3_access_key="k",  # type: ignore[arg-type]
        s3_secret_key="s",  # type: ignore[arg-type]
        internal_secret="i" * 32,  # type: ignore[arg-type]
    )

    with pytest.raises(ValidationError, match="GATEWAY_JWT_SECRET"):
        GatewaySettings(infra=infra, owner_email="o@studio.test")
