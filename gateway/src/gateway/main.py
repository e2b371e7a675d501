"""Gateway: the one front door of the studio platform (users, roles, routing, public routes)."""

from __future__ import annotations

import functools

import httpx
from fastapi import FastAPI

from gateway.config import GatewaySettings
from kit.app import Platform, ReadinessCheck, ServiceSpec, create_service_app, serve
from kit.mongo import ping


async def _open_http(platform: Platform) -> None:
    platform.extras["http"] = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0))


async def _close_http(platform: Platform) -> None:
    await platform.extras["http"].aclose()


async def _mongo_ready(platform: Platform) -> None:
    await ping(platform.db)


async def _upstream_ready(url: str, platform: Platform) -> None:
    client: httpx.AsyncClient = platform.extras["http"]
    response = await client.get(f"{url}/readyz")
    if response.status_code != 200:
        raise RuntimeError(f"answered {response.status_code}")


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    readiness: list[tuple[str, ReadinessCheck]] = [("mongodb", _mongo_ready)]
    readiness += [
        (name, functools.partial(_upstream_ready, url)) for name, url in settings.upstreams.items()
    ]
    spec = ServiceSpec(
        title="Studio gateway",
        description=__doc__ or "",
        readiness=readiness,
        on_start=[_open_http],
        on_stop=[_close_http],
    )
    return create_service_app(settings, spec)


def run() -> None:
    settings = GatewaySettings()
    serve(create_app(settings), settings)
