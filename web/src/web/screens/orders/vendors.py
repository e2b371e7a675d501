"""The labs (vendors) and how each takes its orders; sending a production order to its lab.

Staff see the labs; the owner adds and changes them (the gateway refuses others). A lab's
password or private key is typed once and never shown again: workflow keeps it encrypted and
says only whether it is set.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.gateway import GatewayError
from web.pages import STUDIO_ROLES, Page, PageDep, form_value, screen_router

router = screen_router(STUDIO_ROLES)

WORKFLOW = "/api/workflow/workflow"
TRANSPORTS = (
    ("manual", "By hand (the studio sends it itself)"),
    ("sftp", "SFTP upload to the lab"),
    ("http_api", "The lab's ordering API"),
    ("hot_folder", "Hot folder on this server (an in-house printer)"),
    ("email", "Email"),
)
SFTP_FIELDS = ("host", "port", "username", "remote_folder", "known_host_key", "auth")


def _typed(form: Any) -> dict[str, str]:
    names = (
        "name",
        "contact_email",
        "notes",
        "kind",
        "hot_folder",
        "email",
        "base_url",
        *SFTP_FIELDS,
    )
    return {name: form_value(form, name) for name in names}


def _body(typed: dict[str, str], form: Any) -> dict[str, Any]:
    """The vendor as workflow takes it; empty secrets are left out (kept as they are)."""
    transport: dict[str, Any] = {"kind": typed["kind"] or "manual"}
    if transport["kind"] == "sftp":
        port = typed["port"] or "22"
        transport["sftp"] = {
            "host": typed["host"],
            "port": int(port) if port.isdigit() else port,
            "username": typed["username"],
            "remote_folder": typed["remote_folder"] or "/",
            "known_host_key": typed["known_host_key"],
            "auth": typed["auth"] or "password",
        }
        for secret in ("password", "private_key"):
            value = form_value(form, secret)
            if value:
                transport[secret] = value
    elif transport["kind"] == "http_api":
        transport["http_api"] = {"base_url": typed["base_url"]}
        api_key = form_value(form, "api_key")
        if api_key:
            transport["api_key"] = api_key
    elif transport["kind"] == "hot_folder":
        transport["hot_folder"] = typed["hot_folder"]
    elif transport["kind"] == "email":
        transport["email"] = typed["email"]
    return {
        "contact_email": typed["contact_email"] or None,
        "notes": typed["notes"] or None,
        "transport": transport,
    }


def _typed_of(vendor: dict[str, Any]) -> dict[str, str]:
    transport = vendor["transport"]
    sftp = transport.get("sftp") or {}
    return {
        "name": vendor["name"],
        "contact_email": vendor.get("contact_email") or "",
        "notes": vendor.get("notes") or "",
        "kind": transport["kind"],
        "hot_folder": transport.get("hot_folder") or "",
        "email": transport.get("email") or "",
        "base_url": (transport.get("http_api") or {}).get("base_url", ""),
        **{name: str(sftp.get(name, "")) for name in SFTP_FIELDS},
    }


async def _vendors_page(
    page: Page,
    *,
    status_code: int = 200,
    vendor: dict[str, Any] | None = None,
    typed: dict[str, str] | None = None,
    error: str | None = None,
    problems: dict[str, str] | None = None,
    callback: dict[str, Any] | None = None,
) -> HTMLResponse:
    vendors = await page.gateway.get(f"{WORKFLOW}/vendors")
    return page.render(
        "orders/vendors.html",
        status_code,
        vendors=vendors,
        vendor=vendor,
        typed=typed or ({} if vendor is None else _typed_of(vendor)),
        error=error,
        problems=problems or {},
        transports=TRANSPORTS,
        can_edit=page.role == "owner",
        callback=callback,
        public_gateway=page.state.settings.gateway_for_others,
    )


@router.get("/orders/vendors")
async def vendors(page: PageDep) -> HTMLResponse:
    return await _vendors_page(page)


@router.get("/orders/vendors/{vendor_id}")
async def vendor(page: PageDep, vendor_id: str) -> HTMLResponse:
    found = await page.gateway.get(f"{WORKFLOW}/vendors/{vendor_id}")
    return await _vendors_page(page, vendor=found)


@router.post("/orders/vendors", response_model=None)
async def save_vendor(page: PageDep, request: Request) -> Response:
    """Add a lab, or (with `vendor_id`) change one; what workflow refuses is shown on the form
    with everything typed kept, the secrets excepted."""
    form = await request.form()
    typed = _typed(form)
    vendor_id = form_value(form, "vendor_id")
    body = _body(typed, form)
    try:
        if vendor_id:
            saved = await page.gateway.send("PATCH", f"{WORKFLOW}/vendors/{vendor_id}", body)
        else:
            body["name"] = typed["name"]
            saved = await page.gateway.send("POST", f"{WORKFLOW}/vendors", body)
    except GatewayError as error:
        if error.status >= 500 or error.status == 404:
            raise
        current = None
        if vendor_id:
            current = await page.gateway.get(f"{WORKFLOW}/vendors/{vendor_id}")
        return await _vendors_page(
            page,
            status_code=error.status,
            vendor=current,
            typed=typed,
            error=error.message,
            problems=error.field_problems(),
        )
    return RedirectResponse(f"/orders/vendors/{saved['vendor_id']}?saved=1", status_code=303)


@router.post("/orders/vendors/{vendor_id}/callback-secret", response_model=None)
async def callback_secret(page: PageDep, vendor_id: str) -> Response:
    """A new secret for the lab's signed events, shown on this answer only (never stored in a
    page the browser may keep: the answer is not cached)."""
    made = await page.gateway.send("POST", f"{WORKFLOW}/vendors/{vendor_id}/callback-secret")
    found = await page.gateway.get(f"{WORKFLOW}/vendors/{vendor_id}")
    answer = await _vendors_page(page, vendor=found, callback=made)
    answer.headers["Cache-Control"] = "no-store"
    return answer
