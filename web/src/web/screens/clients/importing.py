"""Client import: a CSV or .xlsx file's columns mapped to client fields, saved mappings
(booking's import templates), the dry run per row, then the import in the background with
its progress.

Nothing of the file stays in the web app or the browser session between steps: the page's
one form keeps the chosen file in its file input and posts it again with each step (htmx
swaps only what is below the input), booking reads it each time, and the last step hands it
to booking's background import, whose progress any replica reads back by its id. Without
JavaScript each step is a whole page and the file is chosen again.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from web.gateway import GatewayError
from web.pages import STUDIO_ROLES, PageDep, form_value, is_htmx, screen_router

routes = screen_router(STUDIO_ROLES)

IMPORT = "/api/booking/clients/import"
TEMPLATES = "/api/booking/clients/import-templates"
RUNS = "/api/booking/clients/imports"
# booking's import fields, as the mapping screen names them
TARGETS = {
    "first_name": "First name",
    "last_name": "Last name",
    "organization": "Organization",
    "email": "Email",
    "phone": "Phone",
    "phone_sms": "Phone takes texts (yes/no)",
    "mobile": "Mobile (takes texts)",
    "street": "Street",
    "city": "City",
    "region": "Region",
    "postal_code": "Postal code",
    "country": "Country",
    "tags": "Tags",
    "notes": "Notes",
    "marketing_consent": "Marketing consent (yes/no)",
    "marketing_consent_at": "Marketing consent given on (date)",
}
ENCODINGS = {
    "": "Find out from the file",
    "utf-8": "UTF-8",
    "windows-1252": "Windows-1252 (Excel's CSV on Windows)",
    "utf-16": "UTF-16 (Excel's Unicode text)",
    "iso-8859-1": "ISO-8859-1 (Latin-1)",
}
DELIMITERS = {"": "Find out from the header", "comma": "Comma (,)", "semicolon": "Semicolon (;)",
              "tab": "Tab"}  # fmt: skip
REASONS = {
    "email": "same email",
    "phone": "same phone",
    "name_and_postal_code": "same name and postal code",
}
RUNNING = "running"


def _file_of(form: FormData) -> UploadFile | None:
    upload = form.get("file")
    return upload if isinstance(upload, UploadFile) and upload.filename else None


def _reading(form: FormData) -> dict[str, str]:
    """The encoding and separator the person chose ("" = let booking find out)."""
    encoding = form_value(form, "encoding")
    delimiter = form_value(form, "delimiter")
    return {
        "encoding": encoding if encoding in ENCODINGS else "",
        "delimiter": delimiter if delimiter in DELIMITERS else "",
    }


def _columns_of(form: FormData) -> list[str]:
    count = form_value(form, "column_count")
    if not count.isdigit():
        return []
    return [str(form.get(f"column-{i}") or "") for i in range(min(int(count), 500))]


def _chosen(form: FormData, columns: list[str]) -> dict[int, str]:
    """column index -> the client field chosen for it (unmapped columns left out)."""
    chosen: dict[int, str] = {}
    for index in range(len(columns)):
        target = form_value(form, f"map-{index}")
        if target in TARGETS:
            chosen[index] = target
    return chosen


def mapping_of(columns: list[str], chosen: dict[int, str]) -> tuple[dict[str, str], str | None]:
    """booking's mapping (field -> column header), or the reason the choice cannot be one."""
    mapping: dict[str, str] = {}
    for index, target in chosen.items():
        if target in mapping:
            return {}, f"{TARGETS[target]} is chosen for two columns; choose it for one."
        mapping[target] = columns[index]
    if not mapping:
        return {}, "Choose the client field of at least one column."
    return mapping, None


def _chosen_from(mapping: dict[str, str], columns: list[str]) -> tuple[dict[int, str], list[str]]:
    """A saved mapping on this file's columns; the columns it names that the file lacks."""
    positions = {c.strip().casefold(): i for i, c in reversed(list(enumerate(columns)))}
    chosen: dict[int, str] = {}
    missing: list[str] = []
    for target, column in mapping.items():
        index = positions.get(column.strip().casefold())
        if index is None:
            missing.append(column)
        elif target in TARGETS:
            chosen[index] = target
    return chosen, missing


def _files(upload: UploadFile) -> dict[str, Any]:
    # The upload's spooled file goes on as it is (read in chunks, never whole in memory).
    content_type = upload.content_type or "application/octet-stream"
    return {"file": (upload.filename or "clients.csv", upload.file, content_type)}


def _data(reading: dict[str, str], **more: str) -> dict[str, str]:
    return {k: v for k, v in (reading | more).items() if v}


async def _templates(page: PageDep) -> tuple[list[dict[str, Any]], str | None]:
    try:
        return list(await page.gateway.get(TEMPLATES)), None
    except GatewayError as error:
        return [], error.message


def _render(
    page: PageDep, request: Request, block: str | None, status_code: int = 200, **values: Any
) -> HTMLResponse:
    defaults: dict[str, Any] = {
        "targets": TARGETS,
        "encodings": ENCODINGS,
        "delimiters": DELIMITERS,
        "reasons": REASONS,
        "reading": {"encoding": "", "delimiter": ""},
        "read": None,
        "columns": [],
        "chosen": {},
        "templates": [],
        "chosen_template": "",
        "templates_error": None,
        "notice": None,
        "file_problem": None,
        "mapping_problem": None,
        "report": None,
        "report_problem": None,
        "allow_duplicates": False,
    }
    values = defaults | values
    return page.render(
        "clients/import.html",
        status_code,
        block=block if is_htmx(request) else None,
        **values,
    )


@routes.get("/clients/import", response_class=HTMLResponse)
async def import_page(page: PageDep, request: Request) -> HTMLResponse:
    return _render(page, request, None)


async def _read_columns(
    page: PageDep, upload: UploadFile, reading: dict[str, str]
) -> dict[str, Any]:
    """booking's reading of the file: how it was read, its rows and suggested mapping."""
    answer: dict[str, Any] = await page.gateway.send(
        "POST", f"{IMPORT}/columns", None, files=_files(upload), data=_data(reading)
    )
    return answer


@routes.post("/clients/import/columns", response_class=HTMLResponse)
async def read_columns(page: PageDep, request: Request) -> HTMLResponse:
    """Step 2: the file's columns, each with the client field booking suggests for it, or
    the one a saved template gives (`template`)."""
    form = await request.form()
    reading = _reading(form)
    upload = _file_of(form)
    templates, templates_error = await _templates(page)
    common: dict[str, Any] = {
        "reading": reading,
        "templates": templates,
        "templates_error": templates_error,
    }
    if upload is None:
        return _render(page, request, "steps", 422, **common, file_problem="Choose a file.")
    try:
        read = await _read_columns(page, upload, reading)
    except GatewayError as error:
        if error.status >= 500:
            raise
        return _render(page, request, "steps", error.status, **common, file_problem=error.message)
    columns = list(read["source"]["columns"])
    chosen, _ = _chosen_from(read["suggested_mapping"], columns)
    template = form_value(form, "template")
    notice = None
    problem = None
    if template:
        saved = next((t for t in templates if t["name"] == template), None)
        if saved is None:
            problem = f"There is no saved template named {template!r}."
        else:
            chosen, missing = _chosen_from(saved["mapping"], columns)
            notice = f"The mapping of template {template!r} is chosen."
            if missing:
                problem = "The template names columns this file lacks: " + ", ".join(missing)
    return _render(
        page,
        request,
        "steps",
        **common,
        read=read,
        columns=columns,
        chosen=chosen,
        chosen_template=template,
        notice=notice,
        mapping_problem=problem,
    )


def _mapping_step(form: FormData) -> dict[str, Any]:
    """What the mapping step's form says again (each later step re-posts it)."""
    columns = _columns_of(form)
    read_json = form_value(form, "read")
    try:
        read = json.loads(read_json) if read_json else None
    except ValueError:
        read = None
    return {
        "reading": _reading(form),
        "columns": columns,
        "chosen": _chosen(form, columns),
        "read": read if isinstance(read, dict) else None,
        "allow_duplicates": form_value(form, "allow_duplicates") == "true",
        "chosen_template": form_value(form, "template"),
    }


@routes.post("/clients/import/template", response_class=HTMLResponse)
async def save_template(page: PageDep, request: Request) -> HTMLResponse:
    """Save the mapping as it is chosen now under a name (booking's import template)."""
    form = await request.form()
    step = _mapping_step(form)
    name = form_value(form, "template_name")
    mapping, problem = mapping_of(step["columns"], step["chosen"])
    if not name:
        problem = "Name the template to save it."
    if problem is None:
        try:
            path = f"{TEMPLATES}/{quote(name, safe='')}"
            await page.gateway.send("PUT", path, {"mapping": mapping})
        except GatewayError as error:
            if error.status >= 500:
                raise
            problem = error.message
    templates, templates_error = await _templates(page)
    return _render(
        page,
        request,
        "steps",
        200 if problem is None else 422,
        **step | {"chosen_template": name if problem is None else step["chosen_template"]},
        templates=templates,
        templates_error=templates_error,
        notice=None if problem else f"Saved as template {name!r}.",
        mapping_problem=problem,
    )


@routes.post("/clients/import/dry-run", response_class=HTMLResponse)
async def dry_run(page: PageDep, request: Request) -> HTMLResponse:
    """Step 3: booking's dry run, row by row: created, a likely duplicate, or refused."""
    form = await request.form()
    step = _mapping_step(form)
    templates, templates_error = await _templates(page)
    common = step | {"templates": templates, "templates_error": templates_error}
    upload = _file_of(form)
    mapping, problem = mapping_of(step["columns"], step["chosen"])
    if upload is None:
        problem = "Choose the file again: it is sent anew with each step."
    if problem is not None:
        return _render(page, request, "report", 422, **common, report_problem=problem)
    assert upload is not None
    data = _data(
        step["reading"],
        mapping=json.dumps(mapping),
        allow_duplicates="true" if step["allow_duplicates"] else "",
    )
    try:
        report = await page.gateway.send(
            "POST", f"{IMPORT}/dry-run", None, files=_files(upload), data=data
        )
    except GatewayError as error:
        if error.status >= 500:
            raise
        return _render(
            page, request, "report", error.status, **common, report_problem=error.message
        )
    return _render(page, request, "report", **common, report=report)


@routes.post("/clients/import/start", response_model=None)
async def start_import(page: PageDep, request: Request) -> Response:
    """Step 4: booking imports the file in the background; its page shows the progress."""
    form = await request.form()
    step = _mapping_step(form)
    upload = _file_of(form)
    mapping, problem = mapping_of(step["columns"], step["chosen"])
    if upload is None:
        problem = "Choose the file again: it is sent anew with each step."
    if problem is None:
        assert upload is not None
        data = _data(
            step["reading"],
            mapping=json.dumps(mapping),
            allow_duplicates="true" if step["allow_duplicates"] else "",
        )
        try:
            run = await page.gateway.send("POST", RUNS, None, files=_files(upload), data=data)
        except GatewayError as error:
            if error.status >= 500:
                raise
            problem = error.message
        else:
            target = f"/clients/import/runs/{quote(run['import_id'], safe='')}"
            if is_htmx(request):
                return Response(status_code=204, headers={"HX-Redirect": target})
            return RedirectResponse(target, status_code=303)
    templates, templates_error = await _templates(page)
    return _render(
        page,
        request,
        "report",
        422,
        **step,
        templates=templates,
        templates_error=templates_error,
        report_problem=problem,
    )


@routes.get("/clients/import/runs/{import_id}", response_class=HTMLResponse)
async def import_run(page: PageDep, request: Request, import_id: str) -> HTMLResponse:
    """An import's progress (the page polls itself with htmx while it runs), then its outcome."""
    run = await page.gateway.get(f"{RUNS}/{quote(import_id, safe='')}")
    return page.render(
        "clients/import_run.html",
        block="progress" if is_htmx(request) else None,
        run=run,
        running=RUNNING,
        reasons=REASONS,
    )
