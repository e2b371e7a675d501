"""The public routes the clients use: `/d/<token>` (the gateway proxies them unchanged).

Browsers get small HTML pages, every other caller the platform's JSON error body; a download
answers 303 with a fresh, short-lived presigned URL, so Range requests go straight to S3.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, Cookie, Request, Response
from fastapi import Path as FastPath
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from delivery.context import ContextDep, DeliveryContext
from delivery.links import service as links
from delivery.links.errors import LinkGone, PinLocked, PinRequired, WrongPin
from delivery.public import invoices, pages
from kit.errors import StudioError, error_body
from kit.pages import page_headers
from kit.query_params import FreeQuery

# Opened from emails, whose senders may add tracking parameters: any query string is taken.
router = APIRouter(prefix="/d", tags=["public downloads"], dependencies=[FreeQuery])

GRANT_COOKIE = "delivery_grant"
GrantCookie = Annotated[str | None, Cookie(alias=GRANT_COOKIE)]
# The client session of a link: the page sets it, and each file counts once in it.
VISIT_COOKIE = "delivery_visit"
VisitCookie = Annotated[str | None, Cookie(alias=VISIT_COOKIE)]
_NO_STORE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _page(page: str, *, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A client page with its policy: no scripts at all, its own inline style by hash, the PIN
    form posting only to the platform, never framed."""
    return HTMLResponse(
        page,
        status_code=status_code,
        headers={**_NO_STORE, **(headers or {}), **page_headers(page, scripts=False)},
    )


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _refusal(ctx: DeliveryContext, request: Request, token: str, error: StudioError) -> Response:
    """The error as a page for browsers, as the one JSON body for everything else."""
    headers = {**_NO_STORE, **error.headers}
    if not _wants_html(request):
        return JSONResponse(
            error_body(error.code, error.message, error.detail),
            status_code=error.status_code,
            headers=headers,
        )
    studio = ctx.settings.studio_name
    if isinstance(error, WrongPin | PinRequired):
        page = pages.pin_page(studio, token, error.message)
    elif isinstance(error, LinkGone):
        page = pages.message_page(studio, "This link no longer works", error.message)
    elif isinstance(error, PinLocked):
        page = pages.message_page(studio, "This link is locked", error.message)
    else:
        page = pages.message_page(studio, "Not found", error.message)
    return _page(page, status_code=error.status_code, headers=headers)


def _is_https(request: Request) -> bool:
    proto = request.headers.get("x-forwarded-proto", request.url.scheme)
    return proto.split(",")[0].strip() == "https"


def _client_address(request: Request) -> str:
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded:
        return forwarded.split(",")[0].strip()
    return request.client.host if request.client else "unknown"


@router.get("/{token}", response_class=HTMLResponse)
async def delivery_page(
    ctx: ContextDep,
    request: Request,
    token: str,
    grant: GrantCookie = None,
    visit: VisitCookie = None,
) -> Response:
    """The delivery's page: the studio's name, the files with sizes, and "download all".

    It starts a client session of the link (a cookie) unless one is running: a file
    downloaded, resumed or asked again in it counts once."""
    try:
        opened = await links.open_link(ctx, token, grant)
    except StudioError as error:
        return _refusal(ctx, request, token, error)
    studio = ctx.settings.studio_name
    if not opened.unlocked:
        response = _page(pages.pin_page(studio, token, None))
    else:
        listed = await invoices.session_invoices(ctx, opened.delivery)
        response = _page(pages.delivery_page(studio, token, opened.delivery, listed))
    if links.valid_visit(visit) is None:
        response.set_cookie(
            VISIT_COOKIE,
            links.new_visit(),
            path=f"/d/{token}",
            httponly=True,
            samesite="lax",
            secure=_is_https(request),
            max_age=ctx.settings.visit_hours * 3600,
        )
    return response


@router.post("/{token}/pin")
async def enter_pin(ctx: ContextDep, request: Request, token: str) -> Response:
    """Check the PIN (form field or JSON `pin`); right: back to the page with access granted;
    wrong: 403 with the attempts left, and the link locks when none are left."""
    raw = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            pin = str(json.loads(raw or b"{}").get("pin", ""))
        except (ValueError, AttributeError):
            pin = ""
    else:
        pin = (parse_qs(raw.decode(errors="replace")).get("pin") or [""])[0]
    try:
        grant = await links.unlock(ctx, token, pin.strip())
    except StudioError as error:
        return _refusal(ctx, request, token, error)
    response = RedirectResponse(f"/d/{token}", status_code=303, headers=_NO_STORE)
    if grant:
        response.set_cookie(
            GRANT_COOKIE,
            grant,
            path=f"/d/{token}",
            httponly=True,
            samesite="lax",
            secure=_is_https(request),
            max_age=7 * 24 * 3600,
        )
    return response


async def _download(
    ctx: DeliveryContext,
    request: Request,
    token: str,
    grant: str | None,
    visit: str | None,
    kind: Literal["file", "archive"],
    index: int,
) -> Response:
    try:
        url = await links.download(
            ctx,
            token,
            grant,
            kind=kind,
            index=index,
            client_address=_client_address(request),
            visit=visit,
            byte_range=request.headers.get("range"),
        )
    except StudioError as error:
        return _refusal(ctx, request, token, error)
    return RedirectResponse(url, status_code=303, headers=_NO_STORE)


@router.get("/{token}/files/{index}", status_code=303)
async def download_file(
    ctx: ContextDep,
    request: Request,
    token: str,
    index: int,
    grant: GrantCookie = None,
    visit: VisitCookie = None,
) -> Response:
    """One file: 303 to a fresh presigned URL (resumable with Range requests). It counts
    once per client session of the link; a resume through this route is logged, not counted."""
    return await _download(ctx, request, token, grant, visit, "file", index)


@router.get("/{token}/invoices/{invoice_id}.pdf")
async def download_invoice(
    ctx: ContextDep,
    request: Request,
    token: str,
    invoice_id: Annotated[str, FastPath(pattern=r"^[A-Za-z0-9_-]{1,100}$")],
    grant: GrantCookie = None,
) -> Response:
    """An invoice of the delivery's session as workflow prints it, when the delivery offers
    them; the link must be open (and its PIN given) as for the files."""
    try:
        opened = await links.open_link(ctx, token, grant)
        if not opened.unlocked:
            raise PinRequired("Enter the PIN first.")
        body = await invoices.invoice_pdf(ctx, opened.delivery, invoice_id)
    except StudioError as error:
        return _refusal(ctx, request, token, error)
    return Response(
        body,
        media_type="application/pdf",
        headers={
            **_NO_STORE,
            "Content-Disposition": f'attachment; filename="invoice-{invoice_id}.pdf"',
        },
    )


@router.get("/{token}/archives/{index}", status_code=303)
async def download_archive(
    ctx: ContextDep,
    request: Request,
    token: str,
    index: int,
    grant: GrantCookie = None,
    visit: VisitCookie = None,
) -> Response:
    """One ZIP of the delivery ("download all"; large deliveries have several parts)."""
    return await _download(ctx, request, token, grant, visit, "archive", index)
