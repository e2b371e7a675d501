"""Orders: price lists, invoices entered from a session, their payments and refunds, and the
production orders by vendor.

Totals, balances, statuses and what may be refunded are the platform's (workflow computes an
invoice, booking takes payments through Stripe); this screen only collects the studio's input
and shows what the services answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.gateway import GatewayError
from web.pages import (
    AMOUNT_HINT,
    STUDIO_ROLES,
    NavItem,
    Page,
    PageDep,
    form_value,
    minor_units,
    screen_router,
)
from web.screens.orders.lines import (
    CROP_RATIOS,
    FIRST_ROWS,
    LineProblem,
    TypedLine,
    line_bodies,
    row_count,
    row_of_problem,
    typed_lines,
)
from web.screens.orders.vendors import router as vendors_router

router = screen_router(STUDIO_ROLES)
router.include_router(vendors_router)
nav = [NavItem("Orders", "/orders", 50, STUDIO_ROLES, key="o")]

WORKFLOW = "/api/workflow/workflow"
PAYMENTS = "/api/booking/payments"
# Money the studio takes itself and records (booking's recorded payments).
RECORDED_METHODS = (
    ("cash", "Cash"),
    ("card_terminal", "The studio's card terminal"),
    ("bank_transfer", "Bank transfer"),
    ("cheque", "Cheque"),
    ("other", "Other"),
)
METHOD_LABELS = {
    "checkout": "Stripe Checkout",
    "payment_intent": "Stripe",
    **dict(RECORDED_METHODS),
}
PAGE_SIZE = 25
PRODUCT_ROWS = 3


class InputProblem(Exception):
    """A value the person typed that cannot be sent as it is (e.g. "12,5x" as an amount)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def to_minor(text: str, field: str) -> int | None:
    """ "45" or "45.50" -> 4500 / 4550 minor units; empty -> None."""
    if not text:
        return None
    minor = minor_units(text)
    if minor is None:
        raise InputProblem(field, AMOUNT_HINT)
    return minor


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _problems(error: GatewayError) -> dict[str, str]:
    return error.field_problems()


async def _form(request: Request) -> Any:
    return await request.form()


# --- The overview: price lists and invoices -------------------------------------------------


async def _overview(
    page: Page,
    offset: int,
    *,
    status_code: int = 200,
    price_list_form: dict[str, Any] | None = None,
    price_list_error: str | None = None,
    price_list_problems: dict[str, str] | None = None,
) -> HTMLResponse:
    price_lists, invoices = await asyncio.gather(
        page.gateway.get(f"{WORKFLOW}/price-lists"),
        page.gateway.get(f"{WORKFLOW}/invoices", limit=PAGE_SIZE + 1, offset=offset),
    )
    return page.render(
        "orders/orders.html",
        status_code,
        price_lists=price_lists,
        invoices=invoices[:PAGE_SIZE],
        more=len(invoices) > PAGE_SIZE,
        offset=offset,
        page_size=PAGE_SIZE,
        form=price_list_form or {"products": [{} for _ in range(PRODUCT_ROWS)]},
        error=price_list_error,
        problems=price_list_problems or {},
    )


@router.get("/orders")
async def orders(page: PageDep, offset: int = 0) -> HTMLResponse:
    return await _overview(page, max(0, offset))


@router.post("/orders/price-lists", response_model=None)
async def create_price_list(page: PageDep, request: Request) -> Response:
    form = await _form(request)
    names, prices = form.getlist("product_name"), form.getlist("product_price")
    kinds, vendors = form.getlist("product_kind"), form.getlist("product_vendor")
    rows = [
        {"name": str(n).strip(), "price": str(p).strip(), "kind": str(k), "vendor": str(v).strip()}
        for n, p, k, v in zip(names, prices, kinds, vendors, strict=False)
    ]
    typed: dict[str, Any] = {
        "name": form_value(form, "name"),
        "currency": form_value(form, "currency").upper(),
        "products": rows,
    }
    try:
        products = [
            {
                "name": row["name"],
                "price_minor": to_minor(row["price"], "price_minor") or 0,
                "kind": row["kind"] or "physical",
                **({"vendor": row["vendor"]} if row["vendor"] else {}),
            }
            for row in rows
            if row["name"]
        ]
        made = await page.gateway.send(
            "POST",
            f"{WORKFLOW}/price-lists",
            {"name": typed["name"], "currency": typed["currency"], "products": products},
        )
    except InputProblem as problem:
        return await _overview(
            page,
            0,
            status_code=422,
            price_list_form=typed,
            price_list_error=problem.message,
            price_list_problems={problem.field: problem.message},
        )
    except GatewayError as error:
        if error.status >= 500:
            raise
        return await _overview(
            page,
            0,
            status_code=error.status,
            price_list_form=typed,
            price_list_error=error.message,
            price_list_problems=_problems(error),
        )
    return _redirect(f"/orders/price-lists/{made['id']}")


@router.get("/orders/price-lists/{price_list_id}")
async def price_list(page: PageDep, price_list_id: str) -> HTMLResponse:
    found = await page.gateway.get(f"{WORKFLOW}/price-lists/{price_list_id}")
    return page.render("orders/price_list.html", price_list=found)


# --- Invoice entry from a session ------------------------------------------------------------


async def _invoice_form(
    page: Page,
    session_id: str,
    price_list_id: str,
    *,
    status_code: int = 200,
    typed: dict[str, Any] | None = None,
    lines: list[TypedLine] | None = None,
    error: str | None = None,
    problems: dict[str, str] | None = None,
    line_problems: dict[int, str] | None = None,
    focus_row: int | None = None,
) -> HTMLResponse:
    price_lists = await page.gateway.get(f"{WORKFLOW}/price-lists")
    session: dict[str, Any] | None = None
    images: list[dict[str, Any]] = []
    session_error: str | None = None
    if session_id:
        try:
            session, images = await asyncio.gather(
                page.gateway.get(f"{WORKFLOW}/sessions/{session_id}"),
                page.gateway.get(f"{WORKFLOW}/sessions/{session_id}/images"),
            )
        except GatewayError as failed:
            if failed.status >= 500:
                raise
            session_error = failed.message
    chosen = next((p for p in price_lists if p["id"] == price_list_id), None)
    return page.render(
        "orders/invoice_new.html",
        status_code,
        session_id=session_id,
        session=session,
        session_error=session_error,
        images=images,
        price_lists=price_lists,
        price_list=chosen,
        typed=typed or {},
        lines=lines or [TypedLine() for _ in range(FIRST_ROWS)],
        crop_ratios=CROP_RATIOS,
        error=error,
        problems=problems or {},
        line_problems=line_problems or {},
        focus_row=focus_row,
    )


@router.get("/orders/invoices/new")
async def new_invoice(page: PageDep, session_id: str = "", price_list_id: str = "") -> HTMLResponse:
    return await _invoice_form(page, session_id.strip(), price_list_id)


@router.post("/orders/invoices", response_model=None)
async def create_invoice(page: PageDep, request: Request) -> Response:
    """Enters the invoice; "Add a line" only shows the form again with one more row."""
    form = await _form(request)
    session_id = form_value(form, "session_id")
    price_list_id = form_value(form, "price_list_id")
    lines = typed_lines(form, row_count(form))
    typed: dict[str, Any] = {
        "discount_description": form_value(form, "discount_description"),
        "discount_percent": form_value(form, "discount_percent"),
        "discount_amount": form_value(form, "discount_amount"),
        "tax_rate_percent": form_value(form, "tax_rate_percent"),
    }

    async def again(status_code: int, **problems: Any) -> HTMLResponse:
        return await _invoice_form(
            page,
            session_id,
            price_list_id,
            status_code=status_code,
            typed=typed,
            lines=lines,
            **problems,
        )

    if form_value(form, "add_line"):
        return await again(200, focus_row=len(lines) - 1)
    try:
        session, images = await asyncio.gather(
            page.gateway.get(f"{WORKFLOW}/sessions/{session_id}"),
            page.gateway.get(f"{WORKFLOW}/sessions/{session_id}/images"),
        )
        body: dict[str, Any] = {
            "client_id": session["client_id"],
            "session_id": session_id,
            "price_list_id": price_list_id,
            "lines": line_bodies(lines, {image["image_id"]: image for image in images}),
        }
        if typed["discount_percent"] or typed["discount_amount"]:
            discount: dict[str, Any] = {"description": typed["discount_description"] or "Discount"}
            if typed["discount_percent"]:
                discount["percent"] = typed["discount_percent"]
            if typed["discount_amount"]:
                discount["amount_minor"] = to_minor(typed["discount_amount"], "amount_minor")
            body["discounts"] = [discount]
        if typed["tax_rate_percent"]:
            body["tax_rate_percent"] = typed["tax_rate_percent"]
        made = await page.gateway.send("POST", f"{WORKFLOW}/invoices", body)
    except LineProblem as problem:
        return await again(
            422,
            error=f"Line {problem.row + 1}: {problem.message}",
            line_problems={problem.row: problem.message},
        )
    except InputProblem as problem:
        return await again(422, error=problem.message, problems={problem.field: problem.message})
    except GatewayError as error:
        if error.status >= 500:
            raise
        return await again(
            error.status,
            error=error.message,
            problems=_problems(error),
            line_problems=_line_problems(error, lines),
        )
    return _redirect(f"/orders/invoices/{made['invoice_id']}")


def _line_problems(error: GatewayError, lines: list[TypedLine]) -> dict[int, str]:
    """Workflow's problems with the request's lines, on the form rows they came from (rows
    without a product were not sent, so request line i is the i-th row with one)."""
    sent = [row for row, line in enumerate(lines) if line.product_id]
    found: dict[int, str] = {}
    if error.code == "validation_error" and isinstance(error.detail, list):
        for problem in error.detail:
            if not isinstance(problem, dict):
                continue
            index = row_of_problem(problem.get("location") or [])
            if index is not None and index < len(sent):
                found.setdefault(sent[index], str(problem.get("message", "invalid")))
    return found


# --- One invoice: totals, status, payments, refunds -----------------------------------------


async def _invoice_page(
    page: Page,
    invoice_id: str,
    *,
    status_code: int = 200,
    status_error: str | None = None,
    payment_error: str | None = None,
    refund_error: dict[str, str] | None = None,
    recorded_error: str | None = None,
    production_error: str | None = None,
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    invoice, history, statuses = await asyncio.gather(
        page.gateway.get(f"{WORKFLOW}/invoices/{invoice_id}"),
        page.gateway.get(f"{WORKFLOW}/invoices/{invoice_id}/history"),
        page.gateway.get(f"{WORKFLOW}/statuses", kind="invoice"),
    )
    payments_error: str | None = None
    try:
        payments = await page.gateway.get(PAYMENTS, invoice_id=invoice_id)
    except GatewayError as failed:
        payments, payments_error = [], failed.message
    images: dict[str, Any] = {}
    if invoice.get("session_id"):
        try:
            listed = await page.gateway.get(f"{WORKFLOW}/sessions/{invoice['session_id']}/images")
            images = {image["image_id"]: image for image in listed}
        except GatewayError as failed:  # an archived session's lines are still listed
            if failed.status >= 500:
                raise
    return page.render(
        "orders/invoice.html",
        status_code,
        invoice=invoice,
        history=history,
        statuses=[s for s in statuses if s.get("active", True)],
        payments=payments,
        payments_error=payments_error,
        images=images,
        status_error=status_error,
        payment_error=payment_error,
        refund_error=refund_error or {},
        recorded_error=recorded_error,
        production_error=production_error,
        recorded_methods=RECORDED_METHODS,
        method_labels=METHOD_LABELS,
        typed=typed or {},
    )


@router.get("/orders/invoices/{invoice_id}")
async def invoice(page: PageDep, invoice_id: str) -> HTMLResponse:
    return await _invoice_page(page, invoice_id)


@router.get("/orders/invoices/{invoice_id}/{kind}.pdf")
async def invoice_document(
    page: PageDep, invoice_id: str, kind: Literal["invoice", "detail-sheet"]
) -> Response:
    """The invoice or its image detail sheet as workflow prints it (PDF, opened in the
    browser's viewer), with the hash workflow recorded for it."""
    return await _document(page, f"{WORKFLOW}/invoices/{invoice_id}/{kind}.pdf")


@router.get("/orders/production/{order_id}/order-summary.pdf")
async def order_summary(page: PageDep, order_id: str) -> Response:
    """A production order's summary for its lab (PDF)."""
    return await _document(page, f"{WORKFLOW}/production-orders/{order_id}/order-summary.pdf")


async def _document(page: Page, path: str) -> Response:
    answer = await page.gateway.request("GET", path)
    return Response(
        answer.content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": answer.headers.get("content-disposition", "inline"),
            "X-Document-SHA256": answer.headers.get("x-document-sha256", ""),
            "Cache-Control": "private, no-store",
        },
    )


def _status_change(form: Any) -> dict[str, Any]:
    """What a status form asks workflow: the status (the next one when empty), a note, and
    the version the page was drawn from."""
    body: dict[str, Any] = {
        k: v
        for k, v in {
            "to_status_id": form_value(form, "to_status_id"),
            "note": form_value(form, "note"),
        }.items()
        if v
    }
    version = form_value(form, "expected_version")
    if version.isdigit():
        body["expected_version"] = int(version)
    return body


async def _move(
    page: Page,
    request: Request,
    path: str,
    refused: Callable[[int, str, dict[str, str]], Awaitable[HTMLResponse]],
    done: str,
) -> Response:
    """Send a status form to workflow's `path`; its refusal shown by `refused`."""
    body = _status_change(await _form(request))
    try:
        await page.gateway.send("POST", path, body)
    except GatewayError as error:
        if error.status >= 500 or error.status == 404:
            raise
        return await refused(error.status, error.message, {"note": str(body.get("note", ""))})
    return _redirect(done)


@router.post("/orders/invoices/{invoice_id}/status", response_model=None)
async def change_status(page: PageDep, invoice_id: str, request: Request) -> Response:
    async def refused(status: int, message: str, typed: dict[str, str]) -> HTMLResponse:
        return await _invoice_page(
            page, invoice_id, status_code=status, status_error=message, typed=typed
        )

    path = f"{WORKFLOW}/invoices/{invoice_id}/status"
    return await _move(page, request, path, refused, f"/orders/invoices/{invoice_id}")


@router.post("/orders/invoices/{invoice_id}/payments", response_model=None)
async def start_payment(page: PageDep, invoice_id: str, request: Request) -> Response:
    form = await _form(request)
    amount = form_value(form, "amount")
    try:
        body: dict[str, Any] = {"invoice_id": invoice_id, "method": "checkout"}
        minor = to_minor(amount, "amount_minor")
        if minor is not None:
            body["amount_minor"] = minor
        await page.gateway.send("POST", PAYMENTS, body)
    except (InputProblem, GatewayError) as error:
        if isinstance(error, GatewayError) and error.status >= 500:
            raise
        status = error.status if isinstance(error, GatewayError) else 422
        return await _invoice_page(
            page,
            invoice_id,
            status_code=status,
            payment_error=error.message,
            typed={"amount": amount},
        )
    return _redirect(f"/orders/invoices/{invoice_id}#payments")


@router.post("/orders/invoices/{invoice_id}/payments/recorded", response_model=None)
async def record_payment(page: PageDep, invoice_id: str, request: Request) -> Response:
    """Money taken at the studio (cash, the card terminal, a transfer, a cheque)."""
    form = await _form(request)
    amount, method = form_value(form, "amount"), form_value(form, "method")
    reference = form_value(form, "reference")
    typed = {
        "recorded_amount": amount,
        "recorded_method": method,
        "recorded_reference": reference,
    }
    try:
        body: dict[str, Any] = {"invoice_id": invoice_id, "method": method}
        if reference:
            body["reference"] = reference
        minor = to_minor(amount, "amount_minor")
        if minor is not None:
            body["amount_minor"] = minor
        await page.gateway.send("POST", f"{PAYMENTS}/recorded", body)
    except (InputProblem, GatewayError) as error:
        if isinstance(error, GatewayError) and error.status >= 500:
            raise
        status = error.status if isinstance(error, GatewayError) else 422
        return await _invoice_page(
            page, invoice_id, status_code=status, recorded_error=error.message, typed=typed
        )
    return _redirect(f"/orders/invoices/{invoice_id}#payments")


@router.post("/orders/invoices/{invoice_id}/payments/{payment_id}/refunds", response_model=None)
async def refund(page: PageDep, invoice_id: str, payment_id: str, request: Request) -> Response:
    form = await _form(request)
    amount, reason = form_value(form, "amount"), form_value(form, "reason")
    try:
        body: dict[str, Any] = {"reason": reason} if reason else {}
        minor = to_minor(amount, "amount_minor")
        if minor is not None:
            body["amount_minor"] = minor
        await page.gateway.send("POST", f"{PAYMENTS}/{payment_id}/refunds", body)
    except (InputProblem, GatewayError) as error:
        if isinstance(error, GatewayError) and error.status >= 500:
            raise
        status = error.status if isinstance(error, GatewayError) else 422
        return await _invoice_page(
            page,
            invoice_id,
            status_code=status,
            refund_error={payment_id: error.message},
            typed={"refund_amount": amount, "refund_reason": reason, "refund_payment": payment_id},
        )
    return _redirect(f"/orders/invoices/{invoice_id}#payments")


# --- Production orders by vendor, and the production hub -----------------------------------


@router.get("/orders/production")
async def production(page: PageDep, vendor: str = "", offset: int = 0) -> HTMLResponse:
    offset = max(0, offset)
    found = await page.gateway.get(
        f"{WORKFLOW}/production-orders", vendor=vendor or None, limit=200, offset=offset
    )
    hub: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for order in found:
        hub.setdefault(order["vendor"], {}).setdefault(order["status"]["name"], []).append(order)
    return page.render(
        "orders/production.html",
        hub=hub,
        vendor=vendor,
        offset=offset,
        more=len(found) == 200,
        count=len(found),
    )


@router.post("/orders/invoices/{invoice_id}/production", response_model=None)
async def send_to_production(page: PageDep, invoice_id: str, request: Request) -> Response:
    """One production order per vendor of the invoice's lines; lines without a vendor are
    named on the page that follows, never sent."""
    form = await _form(request)
    notes = form_value(form, "studio_notes")
    body: dict[str, Any] = {"invoice_ids": [invoice_id]}
    if notes:
        body["studio_notes"] = notes
    try:
        split = await page.gateway.send("POST", f"{WORKFLOW}/production-orders", body)
    except GatewayError as error:
        if error.status >= 500 or error.status == 404:
            raise
        return await _invoice_page(
            page,
            invoice_id,
            status_code=error.status,
            production_error=error.message,
            typed={"studio_notes": notes},
        )
    return page.render("orders/production_split.html", 201, invoice_id=invoice_id, split=split)


async def _production_order_page(
    page: Page,
    order_id: str,
    *,
    status_code: int = 200,
    status_error: str | None = None,
    notes_error: str | None = None,
    lab_error: str | None = None,
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    order, history, statuses, shipments, vendors = await asyncio.gather(
        page.gateway.get(f"{WORKFLOW}/production-orders/{order_id}"),
        page.gateway.get(f"{WORKFLOW}/production-orders/{order_id}/history"),
        page.gateway.get(f"{WORKFLOW}/statuses", kind="production_order"),
        page.gateway.get(f"{WORKFLOW}/production-orders/{order_id}/shipments"),
        page.gateway.get(f"{WORKFLOW}/vendors"),
    )
    wanted = order["vendor"].strip().casefold()
    lab = next((v for v in vendors if v["name"].casefold() == wanted), None)
    return page.render(
        "orders/production_order.html",
        status_code,
        order=order,
        history=history,
        statuses=[s for s in statuses if s.get("active", True)],
        status_error=status_error,
        notes_error=notes_error,
        lab=lab,
        shipments=shipments,
        lab_error=lab_error,
        typed=typed or {},
    )


@router.get("/orders/production/{order_id}")
async def production_order(page: PageDep, order_id: str) -> HTMLResponse:
    return await _production_order_page(page, order_id)


@router.post("/orders/production/{order_id}/status", response_model=None)
async def change_production_status(page: PageDep, order_id: str, request: Request) -> Response:
    async def refused(status: int, message: str, typed: dict[str, str]) -> HTMLResponse:
        return await _production_order_page(
            page, order_id, status_code=status, status_error=message, typed=typed
        )

    path = f"{WORKFLOW}/production-orders/{order_id}/status"
    return await _move(page, request, path, refused, f"/orders/production/{order_id}")


@router.post("/orders/production/{order_id}/send", response_model=None)
async def send_to_lab(page: PageDep, order_id: str) -> Response:
    """Queue the order's shipment to its lab; why it cannot go is shown on the order's page."""
    try:
        await page.gateway.send("POST", f"{WORKFLOW}/production-orders/{order_id}/shipments")
    except GatewayError as error:
        if error.status >= 500 or error.status == 404:
            raise
        return await _production_order_page(
            page, order_id, status_code=error.status, lab_error=error.message
        )
    return _redirect(f"/orders/production/{order_id}#o-lab")


@router.post("/orders/production/{order_id}/notes", response_model=None)
async def production_notes(page: PageDep, order_id: str, request: Request) -> Response:
    form = await _form(request)
    body = {n: form_value(form, n) or None for n in ("vendor_notes", "studio_notes")}
    try:
        await page.gateway.send("PATCH", f"{WORKFLOW}/production-orders/{order_id}", body)
    except GatewayError as error:
        if error.status >= 500 or error.status == 404:
            raise
        return await _production_order_page(
            page,
            order_id,
            status_code=error.status,
            notes_error=error.message,
            typed={k: v or "" for k, v in body.items()},
        )
    return _redirect(f"/orders/production/{order_id}")
