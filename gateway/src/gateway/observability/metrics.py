"""Prometheus metrics of the gateway: requests and their latency per area and status."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

router = APIRouter(tags=["health"])

_AREAS = {"api", "public", "d", "auth", "users", "payments", "docs", "openapi"}


class GatewayMetrics:
    """One registry per app, so several apps in one process (tests) do not collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "gateway_requests",
            "Requests answered by the gateway",
            ["area", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "gateway_request_seconds",
            "Time until the gateway starts its answer",
            ["area"],
            registry=self.registry,
        )


def area_of(path: str, services: frozenset[str]) -> str:
    """A label of few values: the service for `/api/<service>`, else the first path segment."""
    parts = path.strip("/").split("/")
    if parts[0] == "api" and len(parts) > 1:
        return f"api/{parts[1]}" if parts[1] in services else "api/other"
    return parts[0] if parts[0] in _AREAS else "other"


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: GatewayMetrics, services: frozenset[str]) -> None:
        self.app = app
        self.metrics = metrics
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        area = area_of(scope["path"], self.services)
        status = 500

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                self.metrics.latency.labels(area).observe(time.perf_counter() - started)
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            self.metrics.requests.labels(area, scope["method"], str(status)).inc()


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    registry: CollectorRegistry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
