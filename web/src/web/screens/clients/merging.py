"""Merging two client records: from a client's record, find the other client, confirm, and
booking moves the other one's sessions and payments here and deletes it (`merged_into`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from web.gateway import GatewayError
from web.pages import STUDIO_ROLES, PageDep, form_value, is_htmx, screen_router

routes = screen_router(STUDIO_ROLES)

CLIENTS = "/api/booking/clients"


def name_of(client: dict[str, Any]) -> str:
    """A client as a person reads it: the names, else organization, email or id."""
    names = " ".join(n for n in (client.get("first_name"), client.get("last_name")) if n)
    return names or client.get("organization") or client.get("email") or str(client.get("id"))


def _criteria(text: str) -> dict[str, str]:
    """What the one search box means: an email, a phone number, or names."""
    if "@" in text:
        return {"email": text}
    if sum(ch.isdigit() for ch in text) >= 4 and all(
        ch.isdigit() or ch in " +-()./" for ch in text
    ):
        return {"phone": text}
    return {"name": text}


async def _candidates(page: PageDep, client_id: str, text: str) -> tuple[list[Any], str | None]:
    if not text:
        return [], None
    try:
        found = await page.gateway.get(CLIENTS, **_criteria(text), page_size=20)
    except GatewayError as error:
        return [], error.message
    return [c for c in found["items"] if c["id"] != client_id], None


async def _page(
    page: PageDep,
    request: Request,
    client_id: str,
    *,
    source_id: str,
    status_code: int = 200,
    problem: str | None = None,
) -> HTMLResponse:
    target = await page.gateway.get(f"{CLIENTS}/{quote(client_id, safe='')}")
    text = request.query_params.get("q", "").strip()[:200]
    source = None
    if source_id and source_id != client_id:
        try:
            source = await page.gateway.get(f"{CLIENTS}/{quote(source_id, safe='')}")
        except GatewayError as error:
            if error.status >= 500:
                raise
            problem = problem or error.message
    elif source_id:
        problem = problem or "A client cannot be merged into itself; choose another one."
    candidates, search_problem = await _candidates(page, client_id, text)
    return page.render(
        "clients/merge.html",
        status_code,
        block="candidates" if is_htmx(request) and not source_id else None,
        client=target,
        source=source,
        q=text,
        candidates=candidates,
        search_problem=search_problem,
        message=problem,
        name_of=name_of,
    )


@routes.get("/clients/{client_id}/merge", response_class=HTMLResponse)
async def merge_page(page: PageDep, request: Request, client_id: str) -> HTMLResponse:
    """Find the other client (live by htmx), then confirm merging it into this one."""
    return await _page(
        page, request, client_id, source_id=request.query_params.get("source_id", "").strip()
    )


@routes.post("/clients/{client_id}/merge", response_model=None)
async def merge(page: PageDep, request: Request, client_id: str) -> HTMLResponse | RedirectResponse:
    form = await request.form()
    source_id = form_value(form, "source_id")
    if not source_id:
        return await _page(
            page, request, client_id, source_id="", status_code=422, problem="Choose a client."
        )
    try:
        result = await page.gateway.send(
            "POST", f"{CLIENTS}/{quote(client_id, safe='')}/merge", {"source_id": source_id}
        )
    except GatewayError as error:
        if error.status >= 500:
            raise
        return await _page(
            page,
            request,
            client_id,
            source_id=source_id,
            status_code=error.status,
            problem=error.message,
        )
    merged = form_value(form, "source_name") or source_id
    outcome = {
        "merged": merged[:200],
        "sessions": str(result["sessions_moved"]),
        "payments": str(result["payments_moved"]),
    }
    return RedirectResponse(f"/clients/{client_id}?{urlencode(outcome)}", status_code=303)
