"""Log in, log out, and the first run's "create the studio owner" page."""

from __future__ import annotations

import contextlib
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from web.gateway import GatewayError
from web.pages import (
    NavItem,
    PageDep,
    StateDep,
    WebState,
    anonymous_csrf,
    anonymous_page,
    client_address,
    form_value,
)
from web.sessions import ANON_CSRF_COOKIE, COOKIE

router = APIRouter(include_in_schema=False)
nav: list[NavItem] = []

AnonymousCsrf = Annotated[None, Depends(anonymous_csrf)]


def _next_path(value: str | None) -> str:
    # Only a path of this app: never another host ("//evil.example", "https://...").
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


async def _logged_in(
    state: WebState, email: str, pair: dict[str, object], next_path: str
) -> Response:
    cookie, _ = await state.store.open(
        user=email,
        role=str(pair["role"]),
        access_token=str(pair["access_token"]),
        expires_in=int(str(pair["expires_in"])),
        refresh_token=str(pair["refresh_token"]),
    )
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        COOKIE,
        cookie,
        httponly=True,
        samesite="lax",
        secure=state.settings.secure_cookies,
        path="/",
        max_age=state.settings.session_days * 86400,
    )
    response.delete_cookie(ANON_CSRF_COOKIE, path="/")
    return response


async def _needs_owner(state: WebState, request: Request) -> bool:
    answer = await state.http.anonymous("GET", "/auth/bootstrap", address=client_address(request))
    return bool(answer["needed"])


@router.get("/login")
async def login_page(request: Request, state: StateDep, next: str | None = None) -> Response:
    if await _needs_owner(state, request):
        return RedirectResponse("/first-run", status_code=303)
    return anonymous_page(request, state, "auth/login.html", next=_next_path(next), email="")


@router.post("/login")
async def login(request: Request, state: StateDep, _: AnonymousCsrf) -> Response:
    form = await request.form()
    email = form_value(form, "email").lower()
    password = form.get("password")
    next_path = _next_path(form_value(form, "next"))
    try:
        pair = await state.http.anonymous(
            "POST",
            "/auth/login",
            address=client_address(request),
            json={"email": email, "password": password if isinstance(password, str) else ""},
        )
    except GatewayError as error:
        message = error.message
        if error.code == "validation_error":
            message = "Enter your email address and your password."
        headers = {"Retry-After": error.retry_after} if error.retry_after else {}
        response = anonymous_page(
            request,
            state,
            "auth/login.html",
            error.status if error.status != 401 else 401,
            next=next_path,
            email=email,
            error=message,
        )
        response.headers.update(headers)
        return response
    await state.store.sweep()
    return await _logged_in(state, email, pair, next_path)


@router.get("/first-run")
async def first_run_page(request: Request, state: StateDep) -> Response:
    if not await _needs_owner(state, request):
        return RedirectResponse("/login", status_code=303)
    return anonymous_page(request, state, "auth/first_run.html", email="", errors={})


@router.post("/first-run")
async def first_run(request: Request, state: StateDep, _: AnonymousCsrf) -> Response:
    form = await request.form()
    email = form_value(form, "email").lower()
    password = form.get("password")
    password = password if isinstance(password, str) else ""
    confirm = form.get("confirm")
    errors: dict[str, str] = {}
    if password != confirm:
        errors["confirm"] = "The two passwords differ."
    if len(password) < 10:
        errors["password"] = "At least 10 characters."
    if not errors:
        try:
            pair = await state.http.anonymous(
                "POST",
                "/auth/bootstrap",
                address=client_address(request),
                json={"email": email, "password": password},
            )
        except GatewayError as error:
            if error.status == 409:
                return RedirectResponse("/login", status_code=303)
            errors = error.field_problems() or {"form": error.message}
        else:
            return await _logged_in(state, email, pair, "/")
    return anonymous_page(request, state, "auth/first_run.html", 422, email=email, errors=errors)


@router.post("/logout")
async def logout(page: PageDep) -> Response:
    state = page.state
    # The session ends here whatever the gateway says; its access token expires anyway.
    with contextlib.suppress(GatewayError):
        await state.http.anonymous(
            "POST",
            "/auth/logout",
            address=client_address(page.request),
            json={"refresh_token": page.session.refresh_token},
        )
    await state.store.close(page.session)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
