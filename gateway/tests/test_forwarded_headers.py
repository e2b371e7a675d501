"""Forwarded headers: the gateway believes `X-Forwarded-For` only from its trusted proxies, so
the login limit per address cannot be dodged by writing a new address into each request; and
the services hear the caller's address from the gateway, never from the caller."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from front_door_harness import echoed, gateway_settings
from pymongo import AsyncMongoClient

from gateway.config import GatewaySettings
from gateway.main import create_app
from kit.app import server_config
from kit.mongo import Document
from kit.settings import InfraSettings
from kit.testing import served


@contextlib.asynccontextmanager
async def gateway_served(
    unique: str, upstream: str, mongo: AsyncMongoClient[Document], **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway as the services run: the kit's uvicorn configuration, a loopback port."""
    settings = GatewaySettings(**gateway_settings(unique, upstream, **overrides))
    app = create_app(settings)
    try:
        async with (
            served(app, config=server_config(app, settings)) as url,
            httpx.AsyncClient(base_url=url) as client,
        ):
            yield client
    finally:
        await mongo.drop_database(f"t_{unique}")


async def test_a_new_x_forwarded_for_on_every_login_does_not_dodge_the_address_limit(
    infra: InfraSettings, unique: str, upstream: str, mongo: AsyncMongoClient[Document]
) -> None:
    async with gateway_served(
        unique, upstream, mongo, login_per_address=3, login_window_seconds=3600
    ) as client:
        answers = [
            await client.post(
                "/auth/login",
                json={"email": f"u{i}@studio.test", "password": "guess"},
                headers={"X-Forwarded-For": f"203.0.113.{i}"},
            )
            for i in range(4)
        ]

    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert answers[3].json()["detail"] == {"limit": "login", "per": "address"}


async def test_behind_a_trusted_proxy_each_client_address_has_its_own_limit(
    infra: InfraSettings, unique: str, upstream: str, mongo: AsyncMongoClient[Document]
) -> None:
    async with gateway_served(
        unique,
        upstream,
        mongo,
        login_per_address=1,
        login_window_seconds=3600,
        trusted_proxies=("127.0.0.1",),
    ) as client:
        answers = [
            await client.post(
                "/auth/login",
                json={"email": f"u{i}@studio.test", "password": "guess"},
                headers={"X-Forwarded-For": address},
            )
            for i, address in enumerate(["203.0.113.1", "203.0.113.2", "203.0.113.1"])
        ]
        public = await client.get(
            "/d/some-token", headers={"X-Forwarded-For": "203.0.113.7", "X-Real-IP": "10.9.9.9"}
        )

    assert [a.status_code for a in answers] == [401, 401, 429]
    seen = echoed(public)["headers"]
    assert seen["x-forwarded-for"] == "203.0.113.7"
    assert "x-real-ip" not in seen


async def test_a_service_hears_the_callers_address_from_the_gateway_not_from_the_caller(
    infra: InfraSettings, unique: str, upstream: str, mongo: AsyncMongoClient[Document]
) -> None:
    async with gateway_served(unique, upstream, mongo) as client:
        answer = await client.get(
            "/d/some-token",
            headers={
                "X-Forwarded-For": "203.0.113.7",
                "X-Forwarded-Proto": "https",
                "Forwarded": "for=203.0.113.7",
            },
        )

    seen = echoed(answer)["headers"]
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["x-forwarded-proto"] == "http"
    assert "forwarded" not in seen
