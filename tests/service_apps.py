"""Run a service's app in the test process, lifespan included, and talk to it over ASGI."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import FastAPI

SERVICES = ("booking", "workflow", "render", "delivery", "maps", "gateway")


def build_app(service: str, **overrides: Any) -> FastAPI:
    config = importlib.import_module(f"{service}.config")
    main = importlib.import_module(f"{service}.main")
    settings_class = getattr(config, f"{service.capitalize()}Settings")
    app: FastAPI = main.create_app(settings_class(**overrides))
    return app


@contextlib.asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://studio.test") as client:
            yield client
