"""Redirects from a service: a `Location` naming the service's own address (FastAPI's
trailing-slash 307 does) is told as the gateway's public path, so no caller ever learns where a
service listens; other addresses (a presigned storage URL) pass unchanged."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from front_door_harness import bearer, gateway_with, owner_token
from pymongo import AsyncMongoClient

from kit.mongo import Document
from kit.settings import InfraSettings
from kit.testing import served


def _service() -> FastAPI:
    """A little FastAPI service: its own trailing-slash redirects, and redirects it makes."""
    app = FastAPI()

    @app.get("/clients")
    async def clients() -> dict[str, str]:
        return {"served": "clients"}

    @app.get("/public/availability")
    async def availability() -> dict[str, str]:
        return {"served": "availability"}

    @app.get("/go")
    async def go(request: Request, to: str) -> RedirectResponse:
        own = f"{request.url.scheme}://{request.url.netloc}"
        return RedirectResponse(to.replace("OWN", own), status_code=303)

    return app


@pytest.fixture
async def service() -> AsyncIterator[str]:
    async with served(_service()) as url:
        yield url


async def test_a_trailing_slash_redirect_names_the_gateway_path_not_the_service_address(
    infra: InfraSettings, unique: str, service: str, mongo: AsyncMongoClient[Document]
) -> None:
    async with gateway_with(unique, service, mongo) as client:
        owner = bearer(await owner_token(client))
        answer = await client.get("/api/booking/clients/?page=2", headers=owner)
        followed = await client.get(answer.headers["location"], headers=owner)

    assert answer.status_code == 307
    assert answer.headers["location"] == "/api/booking/clients?page=2"
    assert service.removeprefix("http://") not in answer.text + str(answer.headers)
    assert followed.json() == {"served": "clients"}


async def test_a_public_routes_redirect_stays_on_the_public_route(
    infra: InfraSettings, unique: str, service: str, mongo: AsyncMongoClient[Document]
) -> None:
    async with gateway_with(unique, service, mongo) as client:
        answer = await client.get("/public/availability/")
        followed = await client.get(answer.headers["location"])

    assert answer.status_code == 307
    assert answer.headers["location"] == "/public/availability"
    assert followed.json() == {"served": "availability"}


@pytest.mark.parametrize(
    ("to", "location"),
    [
        ("OWN/clients?a=1#top", "/api/workflow/clients?a=1#top"),
        ("/sessions/s-1", "/api/workflow/sessions/s-1"),
        ("OWN//evil.example/x", "/api/workflow/evil.example/x"),
        ("sessions/s-1", "sessions/s-1"),
        ("https://s3.example/bucket/key?X-Amz-Signature=abc", None),
    ],
)
async def test_a_services_own_redirects_are_told_in_public_paths(
    infra: InfraSettings,
    unique: str,
    service: str,
    mongo: AsyncMongoClient[Document],
    to: str,
    location: str | None,
) -> None:
    async with gateway_with(unique, service, mongo) as client:
        owner = bearer(await owner_token(client))
        answer = await client.get("/api/workflow/go", params={"to": to}, headers=owner)

    assert answer.status_code == 303
    assert answer.headers["location"] == (location or to)


async def test_a_redirect_to_another_service_names_that_services_gateway_path(
    infra: InfraSettings, unique: str, service: str, mongo: AsyncMongoClient[Document]
) -> None:
    other = "http://127.0.0.1:1"  # render, as the gateway knows it
    async with gateway_with(unique, service, mongo, render_url=other) as client:
        owner = bearer(await owner_token(client))
        answer = await client.get(
            "/api/booking/go", params={"to": f"{other}/runs/r-1"}, headers=owner
        )

    assert answer.status_code == 303
    assert answer.headers["location"] == "/api/render/runs/r-1"
