"""Gateway: the one front door of the studio platform (users, roles, routing, public routes)."""

from __future__ import annotations

import functools

import httpx
from fastapi import FastAPI

from gateway.access.tokens import TokenIssuer
from gateway.config import GatewaySettings
from gateway.context import GatewayContext, context_of
from gateway.limits.service import RateLimiter
from gateway.observability.docs import router as docs_router
from gateway.observability.metrics import GatewayMetrics, MetricsMiddleware
from gateway.observability.metrics import router as metrics_router
from gateway.proxy.forwarding import Forwarder
from gateway.proxy.router import router as proxy_router
from gateway.users.router import router as users_router
from gateway.users.service import UserService
from kit.app import Platform, ReadinessCheck, ServiceSpec, create_service_app, serve
from kit.internal_auth import internal_auth
from kit.mongo import ping


def _settings(platform: Platform) -> GatewaySettings:
    settings = platform.settings
    if not isinstance(settings, GatewaySettings):
        raise TypeError("the gateway runs with GatewaySettings")
    return settings


async def _open_gateway(platform: Platform) -> None:
    settings = _settings(platform)
    client = httpx.AsyncClient(
        timeout=httpx.Timeout(
            settings.upstream_read_timeout_seconds,
            connect=settings.upstream_connect_timeout_seconds,
        ),
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        follow_redirects=False,
        # Every call to a service is signed: the services believe the user it states.
        auth=internal_auth(settings.infra),
    )
    platform.extras["http"] = client
    issuer = TokenIssuer(settings.jwt_secret_value, settings.access_token_seconds)
    users = UserService(
        platform.db, issuer, settings.refresh_token_days, settings.login_known_client_days
    )
    platform.extras["gateway"] = GatewayContext(
        settings=settings,
        forwarder=Forwarder(client, settings.upstreams, settings.read_retries),
        issuer=issuer,
        users=users,
        limiter=RateLimiter(platform.db),
    )
    if settings.owner_email and settings.owner_password:
        await users.ensure_owner(settings.owner_email, settings.owner_password.get_secret_value())


async def _close_http(platform: Platform) -> None:
    await platform.extras["http"].aclose()


async def _mongo_ready(platform: Platform) -> None:
    await ping(platform.db)


async def _upstream_ready(url: str, platform: Platform) -> None:
    client: httpx.AsyncClient = context_of(platform).forwarder.client
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
        routers=[users_router, metrics_router, docs_router, proxy_router],
        readiness=readiness,
        on_start=[_open_gateway],
        on_stop=[_close_http],
        behind_gateway=False,
    )
    app = create_service_app(settings, spec)
    metrics = GatewayMetrics()
    app.state.metrics = metrics
    app.add_middleware(MetricsMiddleware, metrics=metrics, services=frozenset(settings.upstreams))
    return app


def run() -> None:
    settings = GatewaySettings()
    serve(create_app(settings), settings)
