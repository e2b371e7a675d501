"""The service app factory: one lifespan that opens the shared clients, health and readiness.

Every service (and the gateway) is built by `create_service_app`: clients are opened at start
and closed at stop, reached through typed dependencies, and nothing connects at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from kit.errors import error_body, install_error_handlers
from kit.events.kafka import EventPublisher, check_kafka, ensure_topics
from kit.events.outbox import OutboxRelay, outbox_indexes
from kit.internal_auth import InternalAuthMiddleware
from kit.limits import RequestLimitMiddleware, RequestLimits
from kit.logging import RequestIdMiddleware, configure_logging
from kit.mongo import Document, IndexSpec, connect_mongo, ensure_indexes, ping
from kit.query_params import StrictQuery
from kit.settings import ServiceSettings
from kit.storage import S3Storage

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger(__name__)

ReadinessCheck = Callable[["Platform"], Awaitable[None]]


@dataclass
class Platform:
    """The clients of one service process, opened in the lifespan."""

    settings: ServiceSettings
    mongo: AsyncMongoClient[Document]
    db: AsyncDatabase[Document]
    storage: S3Storage
    publisher: EventPublisher
    relay: OutboxRelay | None
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ServiceSpec:
    """What makes one service different from another, for `create_service_app`."""

    title: str
    description: str
    routers: Sequence[APIRouter] = ()
    indexes: Sequence[IndexSpec] = ()
    # Collections whose documents carry an outbox; empty for a service that emits nothing.
    outbox_collections: Sequence[str] = ()
    topics: Sequence[str] = ()
    buckets: Sequence[str] = ()
    readiness: Sequence[tuple[str, ReadinessCheck]] | None = None
    on_start: Sequence[Callable[[Platform], Awaitable[None]]] = ()
    on_stop: Sequence[Callable[[Platform], Awaitable[None]]] = ()
    # A service behind the gateway refuses unsigned calls when the settings say so
    # (`kit.internal_auth`); the gateway itself is the front door and does not.
    behind_gateway: bool = True
    # Every route refuses query parameters it does not declare (422 naming them), except those
    # marked `kit.query_params.FreeQuery`.
    strict_query: bool = True

    def background_only(self) -> ServiceSpec:
        """This spec for a consumer or worker process: storage, outbox and topics, but no
        routes and none of the API process's start and stop hooks (its sweepers, queues)."""
        return dataclasses.replace(self, routers=(), on_start=(), on_stop=(), readiness=None)


async def _mongo_ready(platform: Platform) -> None:
    await ping(platform.db)


async def _kafka_ready(platform: Platform) -> None:
    await check_kafka(platform.settings.infra.kafka_bootstrap)


async def _s3_ready(platform: Platform) -> None:
    await platform.storage.check()


STANDARD_READINESS: tuple[tuple[str, ReadinessCheck], ...] = (
    ("mongodb", _mongo_ready),
    ("kafka", _kafka_ready),
    ("s3", _s3_ready),
)
READINESS_TIMEOUT_SECONDS = 4.0
# uvicorn's exit status for a process whose start failed (its lifespan raised).
_STARTUP_FAILURE = 3


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def get_db(request: Request) -> AsyncDatabase[Document]:
    return get_platform(request).db


PlatformDep = Annotated[Platform, Depends(get_platform)]
DbDep = Annotated[AsyncDatabase[Document], Depends(get_db)]


@contextlib.asynccontextmanager
async def open_platform(settings: ServiceSettings, spec: ServiceSpec) -> AsyncIterator[Platform]:
    """Open the clients of one process (API or consumer), prepare storage, run the relay."""
    infra = settings.infra
    mongo = connect_mongo(infra.mongo_url, app_name=settings.service)
    storage = S3Storage(infra)
    publisher = EventPublisher(
        infra.kafka_bootstrap, client_id=settings.service, topic_prefix=infra.topic_prefix
    )
    db = mongo[settings.database]
    relay = (
        OutboxRelay(
            db,
            publisher,
            spec.outbox_collections,
            poll_seconds=settings.outbox_poll_seconds,
            gather_seconds=settings.outbox_gather_seconds,
        )
        if spec.outbox_collections
        else None
    )
    platform = Platform(settings, mongo, db, storage, publisher, relay)
    relay_task: asyncio.Task[None] | None = None
    try:
        await ensure_indexes(db, [*spec.indexes, *outbox_indexes(spec.outbox_collections)])
        for bucket in spec.buckets:
            await storage.ensure_bucket(bucket)
        await publisher.start()
        if spec.topics:
            try:
                await ensure_topics(infra.kafka_bootstrap, spec.topics, prefix=infra.topic_prefix)
            except Exception as exc:
                log.warning("could not create topics yet (%s)", exc)
        for hook in spec.on_start:
            await hook(platform)
        if relay is not None:
            relay_task = asyncio.create_task(relay.run(), name=f"{settings.service}-outbox-relay")
        yield platform
    finally:
        if relay_task is not None:
            relay_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relay_task
        for hook in spec.on_stop:
            await hook(platform)
        await publisher.stop()
        await mongo.close()
        storage.close()


def create_service_app(settings: ServiceSettings, spec: ServiceSpec) -> FastAPI:
    checks = STANDARD_READINESS if spec.readiness is None else tuple(spec.readiness)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_platform(settings, spec) as platform:
            app.state.platform = platform
            yield

    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    # Added first, so it runs inside RequestIdMiddleware: its refusals carry the request id.
    secret = settings.infra.internal_secret_value
    if spec.behind_gateway and settings.infra.checks_internal_calls and secret:
        app.add_middleware(InternalAuthMiddleware, secret=secret)
    app.add_middleware(RequestLimitMiddleware, limits=request_limits(settings))
    app.add_middleware(RequestIdMiddleware)
    install_error_handlers(app)

    @app.get("/healthz", tags=["health"], summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": settings.service}

    @app.get(
        "/readyz",
        tags=["health"],
        summary="The service's dependencies answer",
        responses={503: {"description": "A dependency does not answer; it is named"}},
    )
    async def readyz(request: Request) -> JSONResponse:
        platform = get_platform(request)
        results = await asyncio.gather(
            *(asyncio.wait_for(check(platform), READINESS_TIMEOUT_SECONDS) for _, check in checks),
            return_exceptions=True,
        )
        report = {
            name: "ok" if result is None else f"unreachable: {_describe(result)}"
            for (name, _), result in zip(checks, results, strict=True)
        }
        failing = [name for name, state in report.items() if state != "ok"]
        if failing:
            return JSONResponse(
                error_body("not_ready", f"Not ready: {', '.join(failing)} unreachable.", report),
                status_code=503,
            )
        return JSONResponse({"status": "ready", "service": settings.service, "checks": report})

    strict = [StrictQuery] if spec.strict_query else []
    for router in spec.routers:
        app.include_router(router, dependencies=strict)
    return app


def request_limits(settings: ServiceSettings) -> RequestLimits:
    return RequestLimits(
        max_query_bytes=settings.max_query_bytes,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
    )


# A request's line and headers, at most, as the server reads them: room for a query string at
# the limit (which the app then refuses in the error shape) and ordinary headers; beyond it the
# server answers 400 itself (in the error shape too, see kit.protocol).
MAX_REQUEST_HEAD_BYTES = 256 * 1024


def server_config(app: FastAPI, settings: ServiceSettings) -> uvicorn.Config:
    """How uvicorn runs one service: forwarded headers are believed only from the configured
    `trusted_proxies` (uvicorn's own default believes any loopback peer, which lets a caller on
    the same host choose its address with `X-Forwarded-For`)."""
    import uvicorn

    from kit.protocol import StudioH11Protocol

    trusted = list(settings.trusted_proxies)
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted,
        http=StudioH11Protocol,
        h11_max_incomplete_event_size=MAX_REQUEST_HEAD_BYTES,
    )


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run one service process with uvicorn; logging is the kit's JSON lines."""
    import uvicorn

    configure_logging(settings.service, settings.infra.log_level)
    server = uvicorn.Server(server_config(app, settings))
    server.run()
    if not server.started:  # as `uvicorn.run` does: a failed start is a failed process
        sys.exit(_STARTUP_FAILURE)


def _describe(error: BaseException | None) -> str:
    if isinstance(error, TimeoutError):
        return "no answer in time"
    return f"{type(error).__name__}: {error}"[:200]
