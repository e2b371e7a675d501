"""Client import from CSV and Excel (.xlsx): column mapping, dry run, and the real import.

The upload stays in its spooled temporary file; rows are parsed from it in a worker thread,
`CHUNK_ROWS` at a time, and each chunk is checked against the database and the earlier rows
of the file and then written with one `insert_many`. Only the per-row report and the
duplicate keys of the rows accepted so far stay in memory. A CSV's encoding (UTF-8 with or
without a BOM, UTF-16, Windows-1252) and separator are found out from its bytes unless chosen;
an .xlsx cell shows a whole number the way its number format does (ZIP `02134`).

An import run in the background (`ImportRuns`) copies the upload to a temporary file of its
own, records its progress per chunk in `client_imports`, and its report when done.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import csv
import io
import itertools
import logging
import re
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import IO, Any, Generic, Literal, TypeVar

from pydantic import TypeAdapter, ValidationError

from booking.clients.keys import DuplicateKeys
from booking.clients.repository import ClientRepository
from booking.clients.schemas import (
    ClientCreate,
    ColumnMapping,
    FieldProblem,
    ImportColumns,
    ImportField,
    ImportReport,
    ImportRun,
    ImportSource,
    RowOutcome,
)
from booking.clients.service import client_event, new_client_document, now
from kit.errors import (
    BadRequest,
    NotFound,
    PayloadTooLarge,
    StudioError,
    Unprocessable,
    UnsupportedMediaType,
)
from kit.events.contracts.booking import ClientCreated
from kit.events.outbox import new_document_with_events
from kit.mongo import Document

log = logging.getLogger(__name__)

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


def _sections(number_format: str) -> list[str]:
    """A number format's `;`-separated sections (a `;` in quotes or escaped is text)."""
    sections, current, quoted, escaped = [], "", False, False
    for char in number_format:
        if escaped:
            current, escaped = current + char, False
        elif char == "\\":
            current, escaped = current + char, True
        elif char == '"':
            current, quoted = current + char, not quoted
        elif char == ";" and not quoted:
            sections.append(current)
            current = ""
        else:
            current += char
    return [*sections, current]


CONDITION = re.compile(r"^\[(<=|>=|<>|<|>|=)(-?\d+(?:\.\d+)?)\]")
COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
}


def _section_for(number: int, sections: list[str]) -> str:
    """The section Excel shows `number` with: conditions first, else positive;negative;zero."""
    conditional = [(CONDITION.match(s), s) for s in sections]
    if any(match for match, _ in conditional):
        for match, section in conditional:
            if match is None or COMPARE[match.group(1)](number, float(match.group(2))):
                return section
        return sections[-1]
    if number < 0 and len(sections) > 1:
        return sections[1]
    if number == 0 and len(sections) > 2:
        return sections[2]
    return sections[0]


def _integer_as_formatted(number: int, number_format: str) -> str | None:
    """An integer shown as a digits-only format shows it (`00000`, `(###) ###-####`,
    ZIP+4 `00000-0000`), or None for formats this does not read (decimals, dates, thousands)."""
    section = _section_for(number, _sections(number_format))
    parts: list[tuple[str, str]] = []  # ("digit", placeholder) or ("text", characters)
    index = 0
    while index < len(section):
        char = section[index]
        if char == "[":  # a condition or a colour
            closing = section.find("]", index)
            index = len(section) if closing < 0 else closing + 1
            continue
        if char == '"':
            closing = section.find('"', index + 1)
            closing = len(section) if closing < 0 else closing
            parts.append(("text", section[index + 1 : closing]))
            index = closing + 1
            continue
        if char == "\\" and index + 1 < len(section):
            parts.append(("text", section[index + 1]))
            index += 2
            continue
        if char in "0#?":
            parts.append(("digit", char))
        elif char in "-()/ +:":
            parts.append(("text", char))
        elif char in "_*":  # spacing and fill: skip the character they apply to
            index += 1
        else:
            return None  # decimals, thousands, exponents, percents, dates, text (@)
        index += 1
    placeholders = [i for i, (kind, _) in enumerate(parts) if kind == "digit"]
    if not placeholders:
        return None
    digits = list(str(abs(number)))
    shown = [text for _, text in parts]
    for position in reversed(placeholders):
        placeholder = parts[position][1]
        if digits:
            shown[position] = digits.pop()
        else:
            shown[position] = {"0": "0", "?": " ", "#": ""}[placeholder]
    if digits:  # more digits than placeholders: they all go before the first one
        shown[placeholders[0]] = "".join(digits) + shown[placeholders[0]]
    return "".join(shown).strip()


def xlsx_cell(value: Any, number_format: str | None) -> str:
    """A cell's text as Excel shows it where that matters for clients: a whole number with
    a digits format keeps its leading zeros and punctuation (ZIP `02134`, phones)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _cell(value)
    if isinstance(value, float) and not value.is_integer():
        return _cell(value)
    if not number_format or number_format in ("General", "@"):
        return _cell(value)
    return _integer_as_formatted(int(value), number_format) or _cell(value)


BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8 with BOM"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16 (little-endian, with BOM)"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16 (big-endian, with BOM)"),
)
LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with BOM",
    "cp1252": "Windows-1252",
    "latin-1": "ISO-8859-1 (Latin-1)",
    "utf-16-le": "UTF-16 (little-endian)",
    "utf-16-be": "UTF-16 (big-endian)",
}
CHOSEN_CODECS = {"utf-8": "utf-8", "windows-1252": "cp1252", "iso-8859-1": "latin-1"}
DELIMITERS = {",": "comma (,)", ";": "semicolon (;)", "\t": "tab"}
DELIMITER_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t"}
READ_BYTES = 1 << 20


def _utf16_without_bom(sample: bytes) -> str | None:
    """UTF-16 text of mostly Latin letters has a zero in every other byte."""
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    even = sum(1 for i in range(0, pairs * 2, 2) if sample[i] == 0)
    odd = sum(1 for i in range(1, pairs * 2, 2) if sample[i] == 0)
    if odd >= pairs * 0.4 and even == 0:
        return "utf-16-le"
    if even >= pairs * 0.4 and odd == 0:
        return "utf-16-be"
    return None


def _is_utf8(file: IO[bytes]) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    file.seek(0)
    try:
        while block := file.read(READ_BYTES):
            decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(file: IO[bytes]) -> tuple[str, str]:
    """(codec, label) of a CSV file as Excel writes them: UTF-8 with or without a BOM,
    UTF-16 with a BOM ("Unicode text"), or Windows-1252 ("CSV" on Windows)."""
    file.seek(0)
    head = file.read(4096)
    for bom, codec, label in BOMS:
        if head.startswith(bom):
            return codec, label
    utf16 = _utf16_without_bom(head)
    if utf16 is not None:
        return utf16, LABELS[utf16]
    if _is_utf8(file):
        return "utf-8", LABELS["utf-8"]
    return "cp1252", LABELS["cp1252"]


def _chosen_codec(file: IO[bytes], encoding: str) -> str:
    file.seek(0)
    head = file.read(4096)
    if encoding == "utf-16":
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        return _utf16_without_bom(head) or "utf-16-le"
    if encoding == "utf-8" and head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    return CHOSEN_CODECS[encoding]


def detect_delimiter(header: str) -> str:
    """Whichever of , ; tab the header line uses most outside quotes (a comma on a tie)."""
    outside = re.sub(r'"[^"]*"', "", header)
    return max(",;\t", key=outside.count)


class Table:
    """The rows of an uploaded CSV or .xlsx file, read from its start on each `rows()` call.

    Blocking: call it from a worker thread. A CSV's encoding and separator are found out on
    the first pass (`check`) unless the caller chose them.
    """

    def __init__(
        self,
        file: IO[bytes],
        kind: Literal["csv", "xlsx"],
        *,
        encoding: str | None = None,
        delimiter: str | None = None,
    ) -> None:
        self._file = file
        self._kind = kind
        self._encoding = encoding
        self._chosen_delimiter = DELIMITER_NAMES.get(delimiter or "", delimiter)
        self._delimiter = self._chosen_delimiter
        self._codec: str | None = None
        self._checked: tuple[list[str], int, list[list[str]]] | None = None
        self.source = ImportSource(kind=kind)

    def _prepare(self) -> None:
        if self._kind != "csv" or self._codec is not None:
            return
        if self._encoding:
            self._codec = _chosen_codec(self._file, self._encoding)
            label = LABELS.get(self._codec, self._codec.upper())
        else:
            self._codec, label = detect_encoding(self._file)
        delimiter = self._chosen_delimiter
        if delimiter is None:
            text = self._text()
            try:
                delimiter = detect_delimiter(self._read_line(text))
            finally:
                text.detach()
        self._delimiter = delimiter
        self.source = ImportSource(
            kind="csv",
            encoding=self._codec,
            encoding_label=label,
            encoding_detected=not self._encoding,
            delimiter=delimiter,
            delimiter_label=DELIMITERS.get(delimiter, repr(delimiter)),
            delimiter_detected=self._chosen_delimiter is None,
        )

    def _text(self) -> io.TextIOWrapper:
        self._file.seek(0)
        assert self._codec is not None
        return io.TextIOWrapper(self._file, encoding=self._codec, newline="")

    def _read_line(self, text: io.TextIOWrapper) -> str:
        try:
            return text.readline()
        except UnicodeDecodeError as exc:
            raise self._undecodable(exc) from exc

    def _undecodable(self, exc: UnicodeDecodeError) -> BadRequest:
        label = LABELS.get(self._codec or "", self._codec or "")
        return BadRequest(
            f"The CSV file is not {label} text; choose its encoding.",
            detail={"encoding": self._codec, "byte_offset": exc.start},
        )

    def rows(self) -> Iterator[Row]:
        """(row number, cells), the header being row 1; blank rows are skipped."""
        self._prepare()
        self._file.seek(0)
        source = self._csv_rows() if self._kind == "csv" else self._xlsx_rows()
        for number, cells in enumerate(source, start=1):
            if number == 1 or any(cells):
                yield number, cells

    def _csv_rows(self) -> Iterator[list[str]]:
        text = self._text()
        assert self._delimiter is not None
        try:
            for cells in csv.reader(text, delimiter=self._delimiter):
                yield [c.strip() for c in cells]
        except UnicodeDecodeError as exc:
            raise self._undecodable(exc) from exc
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
            for cells in sheet.iter_rows():
                yield [xlsx_cell(c.value, getattr(c, "number_format", None)) for c in cells]
        except (zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise BadRequest("The .xlsx workbook cannot be read.") from exc
        finally:
            workbook.close()

    def check(self, sample_rows: int = 0) -> tuple[list[str], int, list[list[str]]]:
        """The header, the number of data rows and the first `sample_rows` of them; raises on
        an unreadable or oversized file.

        A pass over the whole file before anything is written, so a file that breaks half-way
        writes nothing.
        """
        if self._checked is not None and len(self._checked[2]) >= sample_rows:
            known = self._checked
            return known[0], known[1], known[2][:sample_rows]
        rows = self.rows()
        first = next(rows, None)
        if first is None or not any(first[1]):
            raise Unprocessable("The file is empty: its first row must name the columns.")
        count = 0
        sample: list[list[str]] = []
        for _, cells in rows:
            count += 1
            if count <= sample_rows:
                sample.append(cells)
            if count > MAX_ROWS:
                raise PayloadTooLarge(
                    f"At most {MAX_ROWS} rows per import.", detail={"max_rows": MAX_ROWS}
                )
        self.source = self.source.model_copy(update={"columns": first[1]})
        self._checked = (first[1], count, sample)
        return first[1], count, sample


def table_of(
    file: IO[bytes],
    filename: str | None,
    content_type: str | None,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Table:
    name = (filename or "").lower()
    if name.endswith(".xlsx") or (content_type or "") in XLSX_TYPES:
        return Table(file, "xlsx")
    if name.endswith((".csv", ".txt", ".tsv")) or (not name and (content_type or "") in CSV_TYPES):
        return Table(file, "csv", encoding=encoding, delimiter=delimiter)
    raise UnsupportedMediaType(
        "Import a .csv or .xlsx file.", detail={"filename": filename, "content_type": content_type}
    )


def _normalised(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.casefold())


# Header names (lower case, letters and digits only) that name each client field.
HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "first_name": ("firstname", "first", "givenname", "forename", "vorname", "prenom"),
    "last_name": ("lastname", "surname", "familyname", "last", "nachname", "nom"),
    "organization": (
        "organization",
        "organisation",
        "company",
        "business",
        "firm",
        "school",
        "firma",
    ),
    "email": ("email", "emailaddress", "mail", "eaddress"),
    "phone": ("phone", "telephone", "tel", "phonenumber", "homephone", "workphone", "telefon"),
    "mobile": ("mobile", "cell", "cellphone", "mobilephone", "handy", "mobilenumber"),
    "phone_sms": ("sms", "textsok", "texts", "smsok", "phonesms"),
    "street": ("street", "address", "streetaddress", "address1", "addressline1", "strasse"),
    "city": ("city", "town", "locality", "ort", "stadt", "ville"),
    "region": ("region", "state", "province", "county"),
    "postal_code": (
        "zip",
        "zipcode",
        "postcode",
        "postalcode",
        "plz",
        "postleitzahl",
        "codepostal",
    ),
    "country": ("country", "land", "pays"),
    "tags": ("tags", "tag", "groups", "categories", "labels"),
    "notes": ("notes", "note", "comments", "comment", "remarks"),
    "marketing_consent": ("marketingconsent", "newsletter", "consent", "optin", "marketing"),
    "marketing_consent_at": (
        "marketingconsentat",
        "marketingconsentdate",
        "consentdate",
        "consentgiven",
        "optindate",
        "newsletterdate",
    ),
}


def suggest_mapping(header: list[str]) -> dict[str, str]:
    """client field -> the first column whose header names it; each column fills one field."""
    by_name = {name: target for target, names in HEADER_NAMES.items() for name in names}
    suggested: dict[str, str] = {}
    for column in header:
        target = by_name.get(_normalised(column))
        if target is not None and target not in suggested and column.strip():
            suggested[target] = column
    return suggested


async def read_columns(table: Table, sample_rows: int = 5) -> ImportColumns:
    header, count, sample = await asyncio.to_thread(table.check, sample_rows)
    return ImportColumns(
        source=table.source, rows=count, sample=sample, suggested_mapping=suggest_mapping(header)
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


def _moment(value: str, target: str) -> datetime | None:
    """An ISO date or date and time (what .xlsx date cells read as); a date is its midnight."""
    text = value.strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.combine(date.fromisoformat(text), datetime.min.time())
    except ValueError:
        raise ValueError(f"{target}: {value!r} is not a date as YYYY-MM-DD") from None


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


def row_label(cells: list[str], columns: dict[str, int]) -> str | None:
    """Who a row is about, as the file says it: names, else organization, else email."""

    def value(target: str) -> str:
        index = columns.get(target)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    names = " ".join(v for v in (value("first_name"), value("last_name")) if v)
    return (names or value("organization") or value("email"))[:200] or None


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
    consent_at: datetime | None = None
    try:
        consent_at = _moment(value("marketing_consent_at"), "marketing_consent_at")
    except ValueError as exc:
        problems.append(FieldProblem(field="marketing_consent_at", message=str(exc)))
    if value("phone"):
        phones.append({"number": value("phone"), "sms": flags.get("phone_sms", False)})
        phone_targets.append("phone")
    if value("mobile"):
        phones.append({"number": value("mobile"), "sms": True})
        phone_targets.append("mobile")
    address = {name: value(name) or None for name in ADDRESS_FIELDS}
    raw: dict[str, Any] = {
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
    if raw["marketing_consent"]:
        # The import is how it was recorded here; the file may say when it was given.
        raw |= {"marketing_consent_method": "import", "marketing_consent_at": consent_at}
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
        progress: Callable[[list[RowOutcome]], Awaitable[None]] | None = None,
        by: str | None = None,
    ) -> ImportReport:
        """Import `table`; likely duplicates are skipped unless `allow_duplicates`, in which
        case they are created and their report entry still names what they match.
        `progress` is told the outcomes so far after each chunk; `by` (who imports) is
        recorded with the consent the rows give."""
        header, _, _ = await asyncio.to_thread(table.check)
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
                    by=by,
                )
            )
            if progress is not None:
                await progress(outcomes)
        counts = {
            kind: sum(o.outcome == kind for o in outcomes)
            for kind in ("created", "duplicate", "rejected")
        }
        return ImportReport(
            dry_run=dry_run,
            source=table.source,
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
        by: str | None,
    ) -> list[RowOutcome]:
        parsed = [(number, parse_row(cells, columns)) for number, cells in chunk]
        labels = {number: row_label(cells, columns) for number, cells in chunk}
        at = now()
        candidates: list[tuple[int, Document]] = []
        outcomes: dict[int, RowOutcome] = {}
        for number, result in parsed:
            if isinstance(result, list):
                outcomes[number] = RowOutcome(
                    row=number, label=labels[number], outcome="rejected", problems=result
                )
            else:
                candidates.append((number, new_client_document(result.model_dump(), at, by=by)))
        all_keys = [DuplicateKeys.from_stored(d) for _, d in candidates]
        to_insert: list[Document] = []
        for (number, document), keys in zip(candidates, all_keys, strict=True):
            # Earlier rows first, so a dry run and the real import (where those rows are
            # already stored) name the same reason.
            earlier = seen.holder(keys)
            match = None if earlier is not None else existing.holder(keys)
            outcome = RowOutcome(
                row=number,
                label=labels[number],
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


STALE_AFTER = timedelta(minutes=10)
ALL_OUTCOMES_UP_TO = 1000
MAX_KEPT_OUTCOMES = 5000
INTERRUPTED = (
    "The import stopped before the end (the booking service was stopped or restarted). The "
    "rows counted as done are stored; import the file again to add the rest: the rows "
    "already imported are then skipped as duplicates."
)


def _counts(outcomes: list[RowOutcome]) -> dict[str, int]:
    return {
        "rows_done": len(outcomes),
        "created": sum(o.outcome == "created" for o in outcomes),
        "duplicates": sum(o.outcome == "duplicate" for o in outcomes),
        "rejected": sum(o.outcome == "rejected" for o in outcomes),
    }


def kept_outcomes(outcomes: list[RowOutcome]) -> tuple[list[RowOutcome], int]:
    """What a finished run keeps of its report: every row of a small file; of a larger one
    the rows that were not created (the ones a person must look at), up to a bound."""
    if len(outcomes) <= ALL_OUTCOMES_UP_TO:
        return outcomes, 0
    kept = [o for o in outcomes if o.outcome != "created"][:MAX_KEPT_OUTCOMES]
    return kept, len(outcomes) - len(kept)


def _copy_upload(upload: IO[bytes]) -> IO[bytes]:
    """The upload in a temporary file of the run's own (the request's goes with the request)."""
    copy = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the run)
    upload.seek(0)
    shutil.copyfileobj(upload, copy, READ_BYTES)
    copy.seek(0)
    return copy


def import_run_of(document: Document, at: datetime) -> ImportRun:
    run = ImportRun.model_validate({**document, "import_id": document["_id"]})
    if run.status == "running" and at - run.updated_at > STALE_AFTER:
        return run.model_copy(update={"status": "interrupted", "error": INTERRUPTED})
    return run


class ImportRuns:
    """Imports run in the background of the API process, their progress in the database so
    that any replica answers `GET /clients/imports/{id}`."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(
        self,
        repository: ClientRepository,
        upload: IO[bytes],
        filename: str | None,
        content_type: str | None,
        *,
        encoding: str | None,
        delimiter: str | None,
        template: str | None,
        mapping: str | None,
        allow_duplicates: bool,
        by: str | None = None,
    ) -> ImportRun:
        """Check the file and the mapping now (refusals answer at once), then import it in
        the background."""
        copy = await asyncio.to_thread(_copy_upload, upload)
        try:
            table = table_of(copy, filename, content_type, encoding=encoding, delimiter=delimiter)
            header, count, _ = await asyncio.to_thread(table.check)
            columns = await template_service.resolve(repository, template=template, mapping=mapping)
            column_positions(header, columns)
        except BaseException:
            copy.close()
            raise
        at = now()
        document: Document = {
            "_id": str(uuid.uuid4()),
            "status": "running",
            "file_name": filename,
            "source": table.source.model_dump(),
            "allow_duplicates": allow_duplicates,
            "rows": count,
            **_counts([]),
            "outcomes": [],
            "outcomes_omitted": 0,
            "error": None,
            "started_at": at,
            "updated_at": at,
            "finished_at": None,
        }
        await repository.insert_import(document)
        task = asyncio.create_task(
            self._run(repository, document["_id"], table, copy, columns, allow_duplicates, by),
            name=f"client-import-{document['_id']}",
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return import_run_of(document, at)

    async def _run(
        self,
        repository: ClientRepository,
        import_id: str,
        table: Table,
        copy: IO[bytes],
        columns: dict[str, str],
        allow_duplicates: bool,
        by: str | None,
    ) -> None:
        async def progress(outcomes: list[RowOutcome]) -> None:
            await repository.update_import(import_id, {**_counts(outcomes), "updated_at": now()})

        try:
            report = await client_importer.run(
                repository,
                table,
                columns,
                dry_run=False,
                allow_duplicates=allow_duplicates,
                progress=progress,
                by=by,
            )
            kept, omitted = kept_outcomes(report.outcomes)
            at = now()
            await repository.update_import(
                import_id,
                {
                    **_counts(report.outcomes),
                    "status": "done",
                    "outcomes": [o.model_dump() for o in kept],
                    "outcomes_omitted": omitted,
                    "updated_at": at,
                    "finished_at": at,
                },
            )
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                finish = self._finish(repository, import_id, "interrupted", INTERRUPTED)
                await asyncio.shield(finish)
            raise
        except StudioError as exc:
            await self._finish(repository, import_id, "failed", exc.message)
        except Exception:
            log.exception("client import %s failed", import_id)
            await self._finish(
                repository, import_id, "failed", "The import failed on the server; see its log."
            )
        finally:
            copy.close()

    async def _finish(
        self, repository: ClientRepository, import_id: str, status: str, error: str
    ) -> None:
        at = now()
        await repository.update_import(
            import_id, {"status": status, "error": error, "updated_at": at, "finished_at": at}
        )

    async def get(self, repository: ClientRepository, import_id: str) -> ImportRun:
        document = await repository.get_import(import_id)
        if document is None:
            raise NotFound("No such import.", detail={"import_id": import_id})
        return import_run_of(document, now())

    async def stop(self) -> None:
        """Cancel the runs of this process (each records itself as interrupted)."""
        loop = asyncio.get_running_loop()  # an app's runs only (tests start many apps)
        tasks = [t for t in self._tasks if t.get_loop() is loop]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


import_runs = ImportRuns()
