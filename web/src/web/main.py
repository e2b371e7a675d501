"""The web app: the studio's screens as HTML, calling only the gateway.

Its own database holds browser sessions and nothing else; who may do what is the gateway's
policy table, applied to the logged-in person's token on every call.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import pkgutil
from collections.abc import AsyncIterator
from types import ModuleType

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from kit.app import request_limits, serve
from kit.errors import error_body, install_error_handlers
from kit.limits import RequestLimitMiddleware
from kit.logging import RequestIdMiddleware
from kit.mongo import connect_mongo, ping
from web import screens
from web.assets import Assets
from web.config import WebSettings
from web.gateway import GatewayError, GatewayHttp, SessionEnded
from web.pages import (
    CsrfRefused,
    LoginRequired,
    NavItem,
    NotAllowed,
    WebState,
    is_htmx,
    login_url,
    render_html,
    state_of,
    templates_environment,
)
from web.security import SecurityHeaders
from web.sessions import SessionStore


def screen_modules() -> list[ModuleType]:
    """Every screen package under `web.screens` (each exposes `router` and `nav`)."""
    found = pkgutil.iter_modules(screens.__path__, prefix=f"{screens.__name__}.")
    return [importlib.import_module(info.name) for info in sorted(found, key=lambda i: i.name)]


def create_app(settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings()
    modules = screen_modules()
    nav: list[NavItem] = sorted(
        (item for module in modules for item in getattr(module, "nav", ())),
        key=lambda item: item.order,
    )
    assets = Assets()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        mongo = connect_mongo(settings.infra.mongo_url, app_name="web")
        client = httpx.AsyncClient(
            base_url=settings.gateway_url,
            timeout=httpx.Timeout(settings.gateway_timeout_seconds, connect=3.0),
            follow_redirects=False,
        )
        store = SessionStore(
            mongo[settings.database],
            idle_hours=settings.session_idle_hours,
            days=settings.session_days,
        )
        app.state.web = WebState(
            settings=settings,
            store=store,
            http=GatewayHttp(client, store),
            assets=assets,
            templates=templates_environment(assets),
            nav=nav,
        )
        try:
            yield
        finally:
            await client.aclose()
            await mongo.close()

    app = FastAPI(
        title="Studio web app",
        description=__doc__ or "",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.add_middleware(SecurityHeaders)
    # Inside the request id, as in every service: a query over `WEB_MAX_QUERY_BYTES` is a 414,
    # a form over `WEB_MAX_BODY_BYTES` (a file's over `WEB_MAX_UPLOAD_BYTES`) a 413, unread.
    app.add_middleware(RequestLimitMiddleware, limits=request_limits(settings))
    app.add_middleware(RequestIdMiddleware)
    install_error_handlers(app)
    _install_page_errors(app)
    app.include_router(_health_router(settings))
    app.include_router(assets.router())
    for module in modules:
        app.include_router(module.router)
    return app


def _health_router(settings: WebSettings) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": settings.service}

    @router.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        state = state_of(request)

        async def gateway() -> None:
            answer = await state.http.client.get("/healthz")
            if answer.status_code != 200:
                raise RuntimeError(f"answered {answer.status_code}")

        async def mongodb() -> None:
            await ping(state.store._sessions.database)

        checks = {"mongodb": mongodb, "gateway": gateway}
        results = await asyncio.gather(
            *(asyncio.wait_for(check(), 4.0) for check in checks.values()),
            return_exceptions=True,
        )
        report = {
            name: "ok" if result is None else f"unreachable: {type(result).__name__}"
            for name, result in zip(checks, results, strict=True)
        }
        failing = [name for name, value in report.items() if value != "ok"]
        if failing:
            return JSONResponse(
                error_body("not_ready", f"Not ready: {', '.join(failing)} unreachable.", report),
                status_code=503,
            )
        return JSONResponse({"status": "ready", "service": settings.service, "checks": report})

    return router


def _install_page_errors(app: FastAPI) -> None:
    """Errors of screens as pages (or, for htmx, as a message in the page's alert region)."""

    def page_error(
        request: Request, status: int, title: str, message: str, **extra: str
    ) -> Response:
        state = state_of(request)
        values = {
            "request": request,
            "title": title,
            "message": message,
            "status": status,
            "csrf": "",
            "nav": [],
            "user": None,
        }
        headers = dict(extra)
        if is_htmx(request):
            headers |= {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"}
            return render_html(
                state.templates, "error.html", values, status, block="message", headers=headers
            )
        return render_html(state.templates, "error.html", values, status, headers=headers)

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        target = login_url(exc.next_path)
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    async def session_ended(request: Request, _: Exception) -> Response:
        return await login_required(request, LoginRequired(request.url.path))

    async def not_allowed(request: Request, _: Exception) -> Response:
        return page_error(request, 403, "Not for your role", "Your role may not open this screen.")

    async def csrf_refused(request: Request, _: Exception) -> Response:
        return page_error(
            request,
            403,
            "Form expired",
            "This form is out of date (or came from another site). Reload the page and try again.",
        )

    async def gateway_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, GatewayError)
        extra = {"Retry-After": exc.retry_after} if exc.retry_after else {}
        if exc.status == 503 and not exc.retry_after:
            extra = {"Retry-After": "5"}
        titles = {403: "Not allowed", 404: "Not found", 409: "Conflict", 429: "Slow down"}
        title = titles.get(exc.status, "Could not be done" if exc.status < 500 else "Unavailable")
        return page_error(request, exc.status, title, exc.message, **extra)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(SessionEnded, session_ended)
    app.add_exception_handler(NotAllowed, not_allowed)
    app.add_exception_handler(CsrfRefused, csrf_refused)
    app.add_exception_handler(GatewayError, gateway_error)


def run() -> None:
    settings = WebSettings()
    # One line per gateway call is noise; its failures are logged where they are handled.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    serve(create_app(settings), settings)
