"""What every screen uses: the logged-in person, the gateway as them, CSRF, templates.

A screen is a package under `web/screens/` exposing `router` and `nav` (its menu entries);
its templates live in `web/templates/<screen>/`. Routers stay thin: read the form, call the
gateway, render a template (or one block of it for an htmx swap).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2_fragments import render_block

from web.assets import Assets
from web.config import WebSettings
from web.gateway import Gateway, GatewayHttp
from web.sessions import ANON_CSRF_COOKIE, COOKIE, BrowserSession, SessionStore

TEMPLATES = Path(__file__).parent / "templates"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
STUDIO_ROLES = frozenset({"owner", "staff"})
ALL_ROLES = frozenset({"owner", "staff", "marketing"})


@dataclass(frozen=True)
class NavItem:
    """One entry of the main menu; shown to `roles` (the gateway still decides access)."""

    label: str
    path: str
    order: int
    roles: frozenset[str] = STUDIO_ROLES
    key: str = ""  # the keyboard shortcut after "g", e.g. "t" for Today


@dataclass
class WebState:
    """What the web app opens at start, reached by every screen."""

    settings: WebSettings
    store: SessionStore
    http: GatewayHttp
    assets: Assets
    templates: Environment
    nav: list[NavItem] = field(default_factory=list)


class LoginRequired(Exception):
    """No live session: the person is sent to the login page (and back afterwards)."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class NotAllowed(Exception):
    """The person's role may not open this screen."""


class CsrfRefused(Exception):
    """A write without the session's CSRF token (or from another origin)."""


def templates_environment(assets: Assets) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html",)),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["asset"] = assets.url
    env.filters["money"] = money
    # The form macros everywhere, also in a block rendered alone for an htmx swap (which does
    # not see its template's top-level imports).
    macros = env.get_template("macros.html").module
    for name in ("field", "csrf_field", "problem", "when"):
        env.globals[name] = getattr(macros, name)
    return env


def money(minor: int | None, currency: str = "USD") -> str:
    """Integer minor units as an amount a person reads: 12345 -> "123.45 USD"."""
    if minor is None:
        return ""
    sign = "-" if minor < 0 else ""
    units, cents = divmod(abs(int(minor)), 100)
    return f"{sign}{units:,}.{cents:02d} {currency}"


def state_of(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


StateDep = Annotated[WebState, Depends(state_of)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


async def _csrf_of(request: Request) -> str:
    supplied = request.headers.get("x-csrf-token")
    if supplied is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get("csrf_token")
        supplied = value if isinstance(value, str) else None
    return supplied or ""


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        # Browsers send Origin on every cross-site POST; its absence is a same-site request
        # (or a non-browser client, which must still carry the token).
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


async def check_csrf(request: Request, expected: str) -> None:
    if request.method not in WRITES:
        return
    supplied = await _csrf_of(request)
    if not _same_origin(request) or not hmac.compare_digest(supplied, expected):
        raise CsrfRefused


async def current_session(request: Request, state: StateDep) -> BrowserSession:
    session = await state.store.load(request.cookies.get(COOKIE))
    if session is None:
        path = request.url.path
        if request.url.query:
            path += "?" + request.url.query
        if is_htmx(request):  # back to the page the swap came from, not to the fragment
            current = urlsplit(request.headers.get("hx-current-url", "/"))
            path = current.path + (f"?{current.query}" if current.query else "")
        elif request.method != "GET":
            path = "/"
        raise LoginRequired(path)
    await check_csrf(request, session.csrf)
    return session


SessionDep = Annotated[BrowserSession, Depends(current_session)]


def anonymous_page(
    request: Request, state: WebState, template: str, status_code: int = 200, **values: object
) -> HTMLResponse:
    """A page for someone not logged in (login, first run, a client's page): its forms
    carry the pre-login CSRF token, set as a cookie on the first visit."""
    token = request.cookies.get(ANON_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render_html(
        state.templates,
        template,
        {"request": request, "csrf": token, "nav": [], "user": None, **values},
        status_code,
    )
    if request.cookies.get(ANON_CSRF_COOKIE) != token:
        response.set_cookie(
            ANON_CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=state.settings.secure_cookies,
            path="/",
        )
    return response


async def anonymous_csrf(request: Request) -> None:
    """Login and first-run forms: the form's token must match the pre-login CSRF cookie."""
    expected = request.cookies.get(ANON_CSRF_COOKIE, "")
    if not expected:
        raise CsrfRefused
    await check_csrf(request, expected)


@dataclass
class Page:
    """One request of a logged-in person: render templates, call the gateway as them."""

    request: Request
    state: WebState
    session: BrowserSession
    gateway: Gateway

    @property
    def role(self) -> str:
        return self.session.role

    def require(self, roles: frozenset[str]) -> None:
        if self.session.role not in roles:
            raise NotAllowed

    def context(self, **values: Any) -> dict[str, Any]:
        nav = [item for item in self.state.nav if self.session.role in item.roles]
        return {
            "request": self.request,
            "user": self.session.user,
            "role": self.session.role,
            "csrf": self.session.csrf,
            "nav": nav,
            "path": self.request.url.path,
            **values,
        }

    def render(
        self, template: str, status_code: int = 200, *, block: str | None = None, **values: Any
    ) -> HTMLResponse:
        """The whole page, or only `block` of it (an htmx swap)."""
        return render_html(
            self.state.templates, template, self.context(**values), status_code, block=block
        )


def render_html(
    env: Environment,
    template: str,
    values: dict[str, Any],
    status_code: int = 200,
    *,
    block: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    if block is None:
        html = env.get_template(template).render(values)
    else:
        html = render_block(env, template, block, values)
    return HTMLResponse(html, status_code=status_code, headers=headers)


async def page_of(request: Request, state: StateDep, session: SessionDep) -> Page:
    gateway = state.http.as_user(session, client_address(request))
    return Page(request, state, session, gateway)


PageDep = Annotated[Page, Depends(page_of)]


def screen_router(roles: frozenset[str]) -> APIRouter:
    """A screen's routes, each open only to people of `roles` (others get the "not allowed"
    page); the gateway still decides what each of them may read and write."""

    async def allowed(session: SessionDep) -> None:
        if session.role not in roles:
            raise NotAllowed

    return APIRouter(include_in_schema=False, dependencies=[Depends(allowed)])


async def studio_zone(gateway: Gateway) -> ZoneInfo:
    """The studio's time zone, booking's scheduling setting: the wall clock every screen shows."""
    settings = await gateway.get("/api/booking/scheduling-settings")
    return ZoneInfo(settings["timezone"])


def login_url(next_path: str) -> str:
    return "/login" if next_path in ("", "/") else f"/login?next={quote(next_path, safe='')}"


def form_value(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


AMOUNT_HINT = "Write an amount like 45 or 45.50."


def minor_units(text: str) -> int | None:
    """A typed amount ("45", "45.50", "45,50") in minor units, or None when it is not one."""
    try:
        amount = Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        return None
    return int(amount * 100)
