"""Client import from CSV and Excel (.xlsx): column mapping, dry run, and the real import.

The upload stays in its spooled temporary file; rows are parsed from it in a worker thread,
`CHUNK_ROWS` at a time, and each chunk is checked against the database and the earlier rows
of the file and then written with one `insert_many`. Only the per-row report and the
duplicate keys of the rows accepted so far stay in memory.
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any, Generic, TypeVar

from pydantic import TypeAdapter, ValidationError

from booking.clients.keys import DuplicateKeys
from booking.clients.repository import ClientRepository
from booking.clients.schemas import (
    ClientCreate,
    ColumnMapping,
    FieldProblem,
    ImportField,
    ImportReport,
    RowOutcome,
)
from booking.clients.service import client_event, new_client_document, now
from kit.errors import (
    BadRequest,
    NotFound,
    PayloadTooLarge,
    Unprocessable,
    UnsupportedMediaType,
)
from kit.events.contracts.booking import ClientCreated
from kit.events.outbox import new_document_with_events
from kit.mongo import Document

CHUNK_ROWS = 1000
MAX_ROWS = 100_000
XLSX_TYPES = {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
CSV_TYPES = {"text/csv", "application/csv", "text/plain", "application/vnd.ms-excel"}
TRUE_WORDS = {"1", "true", "yes", "y", "x", "ja", "oui", "si"}
FALSE_WORDS = {"", "0", "false", "no", "n", "nein", "non"}
ADDRESS_FIELDS = ("street", "city", "region", "postal_code", "country")

Row = tuple[int, list[str]]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # ZIP codes and phone numbers typed as numbers
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


class Table:
    """The rows of an uploaded CSV or .xlsx file, read from its start on each `rows()` call.

    Blocking: call it from a worker thread.
    """

    def __init__(self, file: IO[bytes], kind: str) -> None:
        self._file = file
        self._kind = kind

    def rows(self) -> Iterator[Row]:
        """(row number, cells), the header being row 1; blank rows are skipped."""
        self._file.seek(0)
        source = self._csv_rows() if self._kind == "csv" else self._xlsx_rows()
        for number, cells in enumerate(source, start=1):
            if number == 1 or any(cells):
                yield number, cells

    def _csv_rows(self) -> Iterator[list[str]]:
        text = io.TextIOWrapper(self._file, encoding="utf-8-sig", newline="")
        try:
            # The delimiter is whichever of , ; tab the header line uses most.
            header = text.readline()
            text.seek(0)
            delimiter = max(",;\t", key=header.count)
            for cells in csv.reader(text, delimiter=delimiter):
                yield [c.strip() for c in cells]
        except UnicodeDecodeError as exc:
            raise BadRequest(
                "The CSV file is not UTF-8 text.", detail={"byte_offset": exc.start}
            ) from exc
        except csv.Error as exc:
            raise BadRequest(f"The CSV file cannot be read: {exc}.") from exc
        finally:
            text.detach()  # the upload's file stays open for the next pass

    def _xlsx_rows(self) -> Iterator[list[str]]:
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(self._file, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise BadRequest("The file is not a readable .xlsx workbook.") from exc
        try:
            sheet = workbook.worksheets[0]
            for values in sheet.iter_rows(values_only=True):
                yield [_cell(v) for v in values]
        except (zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise BadRequest("The .xlsx workbook cannot be read.") from exc
        finally:
            workbook.close()

    def check(self) -> tuple[list[str], int]:
        """The header and the number of data rows; raises on an unreadable or oversized file.

        A pass over the whole file before anything is written, so a file that breaks half-way
        writes nothing.
        """
        rows = self.rows()
        first = next(rows, None)
        if first is None or not any(first[1]):
            raise Unprocessable("The file is empty: its first row must name the columns.")
        count = 0
        for _ in rows:
            count += 1
            if count > MAX_ROWS:
                raise PayloadTooLarge(
                    f"At most {MAX_ROWS} rows per import.", detail={"max_rows": MAX_ROWS}
                )
        return first[1], count


def table_of(file: IO[bytes], filename: str | None, content_type: str | None) -> Table:
    name = (filename or "").lower()
    if name.endswith(".xlsx") or (content_type or "") in XLSX_TYPES:
        return Table(file, "xlsx")
    if name.endswith(".csv") or (not name and (content_type or "") in CSV_TYPES):
        return Table(file, "csv")
    raise UnsupportedMediaType(
        "Import a .csv or .xlsx file.", detail={"filename": filename, "content_type": content_type}
    )


def column_positions(header: list[str], mapping: dict[str, str]) -> dict[str, int]:
    """field -> column index; headers match ignoring case and surrounding spaces."""
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        positions.setdefault(name.strip().casefold(), index)
    missing = [column for column in mapping.values() if column.strip().casefold() not in positions]
    if missing:
        raise Unprocessable(
            "The mapping names columns the file does not have.",
            detail={"missing_columns": missing, "file_columns": header},
        )
    return {target: positions[column.strip().casefold()] for target, column in mapping.items()}


def _flag(value: str, target: str) -> bool:
    word = value.strip().casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"{target}: {value!r} is not yes/no")


# Where a validation error of `ClientCreate` points, named as the import field.
def _field_of(location: tuple[int | str, ...], phone_targets: list[str]) -> str:
    if not location:
        return "name"  # the one rule about the whole row: some name is required
    head = str(location[0])
    if head == "phones" and len(location) > 1 and isinstance(location[1], int):
        return phone_targets[location[1]] if location[1] < len(phone_targets) else "phone"
    if head == "address" and len(location) > 1:
        return str(location[1])
    return head


def parse_row(cells: list[str], columns: dict[str, int]) -> ClientCreate | list[FieldProblem]:
    def value(target: str) -> str:
        index = columns.get(target)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    problems: list[FieldProblem] = []
    phones: list[dict[str, Any]] = []
    phone_targets: list[str] = []
    flags: dict[str, bool] = {}
    for target in ("phone_sms", "marketing_consent"):
        try:
            flags[target] = _flag(value(target), target)
        except ValueError as exc:
            problems.append(FieldProblem(field=target, message=str(exc)))
    if value("phone"):
        phones.append({"number": value("phone"), "sms": flags.get("phone_sms", False)})
        phone_targets.append("phone")
    if value("mobile"):
        phones.append({"number": value("mobile"), "sms": True})
        phone_targets.append("mobile")
    address = {name: value(name) or None for name in ADDRESS_FIELDS}
    raw = {
        "first_name": value("first_name") or None,
        "last_name": value("last_name") or None,
        "organization": value("organization") or None,
        "email": value("email") or None,
        "phones": phones,
        "address": address if any(address.values()) else None,
        "tags": [t.strip() for t in value("tags").replace(";", ",").split(",") if t.strip()],
        "notes": value("notes") or None,
        "marketing_consent": flags.get("marketing_consent", False),
    }
    try:
        client = ClientCreate.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            problems.append(
                FieldProblem(field=_field_of(tuple(error["loc"]), phone_targets), message=message)
            )
        return problems
    return problems or client


Owner = TypeVar("Owner", int, str)


@dataclass
class KeyIndex(Generic[Owner]):
    """Duplicate keys -> who holds them first: an earlier row of the file, or a stored client."""

    emails: dict[str, Owner] = field(default_factory=dict)
    phones: dict[str, Owner] = field(default_factory=dict)
    name_zips: dict[str, Owner] = field(default_factory=dict)

    def holder(self, keys: DuplicateKeys) -> tuple[Owner, list[str]] | None:
        """The first holder of any of `keys`, and which keys it shares."""
        hits: list[tuple[Owner, str]] = []
        if keys.email and keys.email in self.emails:
            hits.append((self.emails[keys.email], "email"))
        hits.extend((self.phones[p], "phone") for p in keys.phones if p in self.phones)
        if keys.name_zip and keys.name_zip in self.name_zips:
            hits.append((self.name_zips[keys.name_zip], "name_and_postal_code"))
        if not hits:
            return None
        owner = hits[0][0]
        return owner, list(dict.fromkeys(reason for o, reason in hits if o == owner))

    def add(self, keys: DuplicateKeys, owner: Owner) -> None:
        if keys.email:
            self.emails.setdefault(keys.email, owner)
        for phone in keys.phones:
            self.phones.setdefault(phone, owner)
        if keys.name_zip:
            self.name_zips.setdefault(keys.name_zip, owner)


class ClientImporter:
    async def run(
        self,
        repository: ClientRepository,
        table: Table,
        mapping: dict[str, str],
        *,
        dry_run: bool,
        allow_duplicates: bool = False,
    ) -> ImportReport:
        """Import `table`; likely duplicates are skipped unless `allow_duplicates`, in which
        case they are created and their report entry still names what they match."""
        header, _ = await asyncio.to_thread(table.check)
        columns = column_positions(header, mapping)
        rows = table.rows()
        await asyncio.to_thread(next, rows)  # the header (opening a workbook is slow)
        # One pass over the stored clients' keys instead of a look-up per chunk: FerretDB 1.24
        # answers `$in`/`$or` queries by scanning the collection, so per-chunk look-ups would
        # make an import quadratic. Keys only: about 100 bytes per client.
        existing: KeyIndex[str] = KeyIndex()
        async for stored in repository.live_keys():
            existing.add(DuplicateKeys.from_stored(stored), stored["_id"])
        seen: KeyIndex[int] = KeyIndex()
        outcomes: list[RowOutcome] = []
        while chunk := await asyncio.to_thread(list, itertools.islice(rows, CHUNK_ROWS)):
            outcomes.extend(
                await self._chunk(
                    repository,
                    chunk,
                    columns,
                    existing,
                    seen,
                    dry_run=dry_run,
                    allow_duplicates=allow_duplicates,
                )
            )
        counts = {
            kind: sum(o.outcome == kind for o in outcomes)
            for kind in ("created", "duplicate", "rejected")
        }
        return ImportReport(
            dry_run=dry_run,
            rows=len(outcomes),
            created=counts["created"],
            duplicates=counts["duplicate"],
            rejected=counts["rejected"],
            outcomes=outcomes,
        )

    async def _chunk(
        self,
        repository: ClientRepository,
        chunk: list[Row],
        columns: dict[str, int],
        existing: KeyIndex[str],
        seen: KeyIndex[int],
        *,
        dry_run: bool,
        allow_duplicates: bool,
    ) -> list[RowOutcome]:
        parsed = [(number, parse_row(cells, columns)) for number, cells in chunk]
        at = now()
        candidates: list[tuple[int, Document]] = []
        outcomes: dict[int, RowOutcome] = {}
        for number, result in parsed:
            if isinstance(result, list):
                outcomes[number] = RowOutcome(row=number, outcome="rejected", problems=result)
            else:
                candidates.append((number, new_client_document(result.model_dump(), at)))
        all_keys = [DuplicateKeys.from_stored(d) for _, d in candidates]
        to_insert: list[Document] = []
        for (number, document), keys in zip(candidates, all_keys, strict=True):
            # Earlier rows first, so a dry run and the real import (where those rows are
            # already stored) name the same reason.
            earlier = seen.holder(keys)
            match = None if earlier is not None else existing.holder(keys)
            outcome = RowOutcome(
                row=number,
                outcome="created",
                duplicate_of_row=earlier[0] if earlier else None,
                duplicate_of_client=match[0] if match else None,
                matched_on=(earlier or match or (None, []))[1],
            )
            if (earlier or match) and not allow_duplicates:
                outcomes[number] = outcome.model_copy(update={"outcome": "duplicate"})
                continue
            seen.add(keys, number)
            outcome.client_id = None if dry_run else document["_id"]
            outcomes[number] = outcome
            to_insert.append(
                new_document_with_events(document, client_event(ClientCreated, document))
            )
        if not dry_run:
            await repository.insert_many(to_insert)
        return [outcomes[number] for number, _ in chunk]


client_importer = ClientImporter()


MAPPING_ADAPTER: TypeAdapter[dict[ImportField, str]] = TypeAdapter(ColumnMapping)


class ImportTemplateService:
    """Named, reusable column mappings."""

    async def save(
        self, repository: ClientRepository, name: str, mapping: dict[str, str]
    ) -> Document:
        return await repository.save_template(name, mapping, now())

    async def get(self, repository: ClientRepository, name: str) -> Document:
        template = await repository.get_template(name)
        if template is None:
            raise NotFound("No such import template.", detail={"template": name})
        return template

    async def list(self, repository: ClientRepository) -> list[Document]:
        return await repository.list_templates()

    async def delete(self, repository: ClientRepository, name: str) -> None:
        if not await repository.delete_template(name):
            raise NotFound("No such import template.", detail={"template": name})

    async def resolve(
        self, repository: ClientRepository, *, template: str | None, mapping: str | None
    ) -> dict[str, str]:
        """The mapping of an import: a saved template's, or one given as JSON; exactly one."""
        if (template is None) == (mapping is None):
            raise Unprocessable(
                "Give either a saved template's name or a mapping, not both and not neither.",
                detail={"fields": ["template", "mapping"]},
            )
        if template is not None:
            return dict((await self.get(repository, template))["mapping"])
        assert mapping is not None
        try:
            return {str(k): v for k, v in MAPPING_ADAPTER.validate_json(mapping).items()}
        except ValidationError as exc:
            raise Unprocessable(
                "The mapping must be a JSON object of client field -> column header.",
                detail=[{"location": list(e["loc"]), "message": e["msg"]} for e in exc.errors()],
            ) from exc


template_service = ImportTemplateService()
