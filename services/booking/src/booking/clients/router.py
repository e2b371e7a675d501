"""Routes of the clients feature: `/clients`, `/clients/import/...`, `/clients/import-templates`."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Header, Query, Response, UploadFile
from fastapi.responses import StreamingResponse

from booking.clients.importing import (
    client_importer,
    import_runs,
    read_columns,
    table_of,
    template_service,
)
from booking.clients.repository import ClientRepository, search_query, sort_spec
from booking.clients.schemas import (
    ClientCreate,
    ClientFilter,
    ClientOut,
    ClientPage,
    ClientSort,
    ClientUpdate,
    ConsentWithdrawal,
    ImportColumns,
    ImportDelimiter,
    ImportEncoding,
    ImportReport,
    ImportRun,
    ImportTemplate,
    ImportTemplateIn,
    MergeRequest,
    MergeResult,
    TemplateName,
)
from booking.clients.service import client_service
from kit.app import PlatformDep
from kit.errors import Unprocessable
from kit.mongo import Document

# Every route refuses a query parameter it does not declare (422 naming it): a typo in a
# filter must not answer the whole, unfiltered list.
router = APIRouter(tags=["clients"])


def get_repository(platform: PlatformDep) -> ClientRepository:
    relay = platform.relay
    return ClientRepository(platform.db, relay.notify if relay is not None else lambda *_: None)


RepositoryDep = Annotated[ClientRepository, Depends(get_repository)]
Text = Annotated[str | None, Query(max_length=200)]
# Roles, as the gateway states them, that may read a client's staff-only notes; a call with
# no role is another service's or an operator's.
NOTES_ROLES = frozenset({"owner", "staff"})


def sees_notes(x_user_role: Annotated[str | None, Header(max_length=50)] = None) -> bool:
    return x_user_role is None or x_user_role in NOTES_ROLES


SeesNotesDep = Annotated[bool, Depends(sees_notes)]
UserId = Annotated[str | None, Header(max_length=200, description="Who records it")]


def client_filter(
    name: Text = None,
    email: Text = None,
    phone: Text = None,
    organization: Text = None,
    tag: Annotated[list[str], Query(max_length=50, description="Repeat for several")] = [],  # noqa: B006
    postal_code: Annotated[str | None, Query(max_length=20)] = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    marketing_consent: Annotated[
        bool | None, Query(description="Only clients who gave (true) or have not (false)")
    ] = None,
) -> ClientFilter:
    if created_from and created_to and created_from > created_to:
        raise Unprocessable(
            "created_from is after created_to.",
            detail={"created_from": created_from.isoformat(), "created_to": created_to.isoformat()},
        )
    return ClientFilter(
        name=name,
        email=email,
        phone=phone,
        organization=organization,
        tags=tag,
        postal_code=postal_code,
        created_from=created_from,
        created_to=created_to,
        marketing_consent=marketing_consent,
    )


FilterDep = Annotated[ClientFilter, Depends(client_filter)]
AllowDuplicate = Annotated[
    bool, Query(description="Create or save even when a likely duplicate exists")
]


@router.post("/clients", status_code=201, response_model=ClientOut)
async def create_client(
    body: ClientCreate,
    repository: RepositoryDep,
    notes: SeesNotesDep,
    allow_duplicate: AllowDuplicate = False,
    x_user_id: UserId = None,
) -> ClientOut:
    """Create a client. A likely duplicate (same email, or phone, or name and postal code)
    answers 409 with `detail.duplicate_of`, unless `allow_duplicate=true`. Consent given (or
    refused with a `marketing_consent_method`) starts the consent history."""
    document = await client_service.create(
        repository, body, allow_duplicate=allow_duplicate, by=x_user_id
    )
    return ClientOut.from_document(document, notes=notes)


@router.get("/clients", response_model=ClientPage)
async def list_clients(
    repository: RepositoryDep,
    criteria: FilterDep,
    notes: SeesNotesDep,
    sort: ClientSort = ClientSort.last_name,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ClientPage:
    """Search live clients (deleted ones never appear), one page at a time. Text matches
    ignore case and accents ("jose" finds "José")."""
    items, total = await client_service.search(
        repository, criteria, sort, page=page, page_size=page_size
    )
    return ClientPage(
        items=[ClientOut.from_document(d, notes=notes) for d in items],
        total=total,
        page=page,
        page_size=page_size,
    )


EXPORT_COLUMNS = (
    "id",
    "first_name",
    "last_name",
    "organization",
    "email",
    "phone",
    "phone_sms",
    "other_phones",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "tags",
    "notes",
    "marketing_consent",
    "marketing_consent_at",
    "marketing_consent_method",
    "created_at",
)


def _safe(value: str) -> str:
    # A leading = + - @ makes spreadsheets evaluate the cell as a formula.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _export_row(document: Document, columns: tuple[str, ...]) -> list[str]:
    address = document.get("address") or {}
    phones = document.get("phones") or []
    first = phones[0] if phones else {}
    values: dict[str, Any] = {
        "id": document["_id"],
        "first_name": document.get("first_name"),
        "last_name": document.get("last_name"),
        "organization": document.get("organization"),
        "email": document.get("email"),
        "phone": first.get("number"),
        "phone_sms": "yes" if first.get("sms") else ("no" if first else ""),
        "other_phones": "; ".join(p["number"] + (" (sms)" if p["sms"] else "") for p in phones[1:]),
        **{k: address.get(k) for k in ("street", "city", "region", "postal_code", "country")},
        "tags": ", ".join(document.get("tags") or []),
        "notes": document.get("notes"),
        "marketing_consent": "yes" if document.get("marketing_consent") else "no",
        "marketing_consent_at": _iso(document.get("marketing_consent_at")),
        "marketing_consent_method": document.get("marketing_consent_method"),
        "created_at": document["created_at"].isoformat(),
    }
    return [_safe("" if values[c] is None else str(values[c])) for c in columns]


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


@router.get(
    "/clients/export.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_clients(
    repository: RepositoryDep,
    criteria: FilterDep,
    notes: SeesNotesDep,
    sort: ClientSort = ClientSort.last_name,
) -> StreamingResponse:
    """The filtered list as CSV (UTF-8, header row), streamed; without the `notes` column for
    the marketing role."""
    query = search_query(criteria)
    columns = EXPORT_COLUMNS if notes else tuple(c for c in EXPORT_COLUMNS if c != "notes")

    async def lines() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        count = 0
        async for document in repository.stream(query, sort_spec(sort)):
            writer.writerow(_export_row(document, columns))
            count += 1
            if count % 500 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="clients.csv"'},
    )


ImportFile = Annotated[
    UploadFile, File(description="A .csv (UTF-8, UTF-16 or Windows-1252) or .xlsx file")
]
ImportTemplateName = Annotated[str | None, Form(description="A saved template's name")]
ImportAllowDuplicates = Annotated[
    bool, Form(description="Create likely duplicates too (they are still named in the report)")
]
ImportMapping = Annotated[
    str | None, Form(description='JSON object, client field -> column header: {"email": "E-Mail"}')
]
ImportEncodingForm = Annotated[
    ImportEncoding | None,
    Form(description="A CSV's text encoding; found out from its bytes when not given"),
]
ImportDelimiterForm = Annotated[
    ImportDelimiter | None,
    Form(description="A CSV's separator (`,` `;` or a tab); found out from its header otherwise"),
]


async def _import(
    repository: ClientRepository,
    file: UploadFile,
    template: str | None,
    mapping: str | None,
    *,
    dry_run: bool,
    allow_duplicates: bool,
    encoding: str | None,
    delimiter: str | None,
    by: str | None = None,
) -> ImportReport:
    table = table_of(
        file.file, file.filename, file.content_type, encoding=encoding, delimiter=delimiter
    )
    columns = await template_service.resolve(repository, template=template, mapping=mapping)
    return await client_importer.run(
        repository, table, columns, dry_run=dry_run, allow_duplicates=allow_duplicates, by=by
    )


# 400: the file cannot be read; 413: too many rows; 415: neither .csv nor .xlsx.
IMPORT_ERRORS: dict[int | str, dict[str, Any]] = {400: {}, 413: {}, 415: {}}


@router.post("/clients/import/columns", response_model=ImportColumns, responses=IMPORT_ERRORS)
async def import_columns(
    file: ImportFile,
    encoding: ImportEncodingForm = None,
    delimiter: ImportDelimiterForm = None,
) -> ImportColumns:
    """The file's columns before mapping them: how it was read (encoding and separator, found
    out or chosen), the row count, the first rows, and the field each header probably fills."""
    table = table_of(
        file.file, file.filename, file.content_type, encoding=encoding, delimiter=delimiter
    )
    return await read_columns(table)


@router.post("/clients/import/dry-run", response_model=ImportReport, responses=IMPORT_ERRORS)
async def dry_run_import(
    repository: RepositoryDep,
    file: ImportFile,
    template: ImportTemplateName = None,
    mapping: ImportMapping = None,
    allow_duplicates: ImportAllowDuplicates = False,
    encoding: ImportEncodingForm = None,
    delimiter: ImportDelimiterForm = None,
) -> ImportReport:
    """Report per row what an import would do (created, duplicate of a client or of an earlier
    row, rejected with the field and reason) without writing anything; `source` says how
    the file was read."""
    return await _import(
        repository,
        file,
        template,
        mapping,
        dry_run=True,
        allow_duplicates=allow_duplicates,
        encoding=encoding,
        delimiter=delimiter,
    )


@router.post("/clients/import", response_model=ImportReport, responses=IMPORT_ERRORS)
async def import_clients(
    repository: RepositoryDep,
    file: ImportFile,
    template: ImportTemplateName = None,
    mapping: ImportMapping = None,
    allow_duplicates: ImportAllowDuplicates = False,
    encoding: ImportEncodingForm = None,
    delimiter: ImportDelimiterForm = None,
    x_user_id: UserId = None,
) -> ImportReport:
    """Import the file: creates the rows a dry run reports as `created`, skips the rest."""
    return await _import(
        repository,
        file,
        template,
        mapping,
        dry_run=False,
        allow_duplicates=allow_duplicates,
        encoding=encoding,
        delimiter=delimiter,
        by=x_user_id,
    )


@router.post("/clients/imports", status_code=202, response_model=ImportRun, responses=IMPORT_ERRORS)
async def start_import(
    repository: RepositoryDep,
    file: ImportFile,
    template: ImportTemplateName = None,
    mapping: ImportMapping = None,
    allow_duplicates: ImportAllowDuplicates = False,
    encoding: ImportEncodingForm = None,
    delimiter: ImportDelimiterForm = None,
    x_user_id: UserId = None,
) -> ImportRun:
    """Import the file in the background, as `POST /clients/import` would: the file and the
    mapping are checked first (the same refusals), then `GET /clients/imports/{import_id}`
    shows the rows done so far and, once `done`, the report."""
    return await import_runs.start(
        repository,
        file.file,
        file.filename,
        file.content_type,
        encoding=encoding,
        delimiter=delimiter,
        template=template,
        mapping=mapping,
        allow_duplicates=allow_duplicates,
        by=x_user_id,
    )


@router.get("/clients/imports/{import_id}", response_model=ImportRun)
async def read_import(import_id: str, repository: RepositoryDep) -> ImportRun:
    """An import run in the background: its progress, then its outcome."""
    return await import_runs.get(repository, import_id)


def _template_out(document: Document) -> ImportTemplate:
    return ImportTemplate(
        name=document["_id"], mapping=document["mapping"], updated_at=document["updated_at"]
    )


@router.get("/clients/import-templates", response_model=list[ImportTemplate])
async def list_import_templates(repository: RepositoryDep) -> list[ImportTemplate]:
    """The saved column mappings."""
    return [_template_out(t) for t in await template_service.list(repository)]


@router.put("/clients/import-templates/{name}", response_model=ImportTemplate)
async def save_import_template(
    name: TemplateName, body: ImportTemplateIn, repository: RepositoryDep
) -> ImportTemplate:
    """Save (create or replace) a named column mapping."""
    return _template_out(
        await template_service.save(repository, name, {str(k): v for k, v in body.mapping.items()})
    )


@router.get("/clients/import-templates/{name}", response_model=ImportTemplate)
async def get_import_template(name: str, repository: RepositoryDep) -> ImportTemplate:
    return _template_out(await template_service.get(repository, name))


@router.delete("/clients/import-templates/{name}", status_code=204)
async def delete_import_template(name: str, repository: RepositoryDep) -> Response:
    await template_service.delete(repository, name)
    return Response(status_code=204)


@router.get("/clients/{client_id}", response_model=ClientOut)
async def get_client(client_id: str, repository: RepositoryDep, notes: SeesNotesDep) -> ClientOut:
    """One client; 410 (with `merged_into` when merged) once deleted."""
    return ClientOut.from_document(await client_service.get(repository, client_id), notes=notes)


@router.patch("/clients/{client_id}", response_model=ClientOut)
async def update_client(
    client_id: str,
    body: ClientUpdate,
    repository: RepositoryDep,
    notes: SeesNotesDep,
    allow_duplicate: AllowDuplicate = False,
    x_user_id: UserId = None,
) -> ClientOut:
    """Change the fields sent (`null` clears one). A change that makes the client a likely
    duplicate of another answers 409 unless `allow_duplicate=true`. A changed
    `marketing_consent` is recorded with when and how (`marketing_consent_method`, `_at`,
    `_note`) in the consent history."""
    document = await client_service.update(
        repository, client_id, body, allow_duplicate=allow_duplicate, by=x_user_id
    )
    return ClientOut.from_document(document, notes=notes)


@router.post("/clients/{client_id}/unsubscribe", response_model=ClientOut)
async def unsubscribe_client(
    client_id: str,
    repository: RepositoryDep,
    notes: SeesNotesDep,
    body: ConsentWithdrawal | None = None,
    x_user_id: UserId = None,
) -> ClientOut:
    """The client withdraws marketing consent: recorded with when and how (`method`, by
    default `unsubscribe`) and announced with `booking.client.updated.v1`. Repeating it
    records nothing more."""
    document = await client_service.withdraw_consent(
        repository, client_id, body or ConsentWithdrawal(), by=x_user_id
    )
    return ClientOut.from_document(document, notes=notes)


@router.delete("/clients/{client_id}", status_code=204)
async def delete_client(client_id: str, repository: RepositoryDep) -> Response:
    """Soft-delete: the client leaves every list and `booking.client.deleted.v1` is emitted."""
    await client_service.delete(repository, client_id)
    return Response(status_code=204)


@router.post("/clients/{client_id}/merge", response_model=MergeResult)
async def merge_client(
    client_id: str, body: MergeRequest, repository: RepositoryDep, notes: SeesNotesDep
) -> MergeResult:
    """Merge `source_id` into this client: its sessions and payments move here, then it is
    deleted (`booking.client.deleted.v1` with `merged_into`). Repeating it is harmless."""
    merged = await client_service.merge(repository, client_id, body.source_id)
    if notes:
        return merged
    return merged.model_copy(update={"client": merged.client.model_copy(update={"notes": None})})
