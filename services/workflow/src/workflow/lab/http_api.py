"""Send a production order to a photo lab through the lab's HTTP API.

The order, as any lab adapter is given it (`LabOrder`, one schema for every lab):

    order_id        our production order id; the lab keeps it as its client reference
    studio          the studio's name, as the lab addresses it
    files           every file of the order: name, size, SHA-256, content type
    summary         the name of the order summary PDF among `files`, or None
    notes           free text for the lab
    lines           what to make: product name, quantity, the files it uses, an optional crop
                    (x, y, width, height as fractions of the image) and retouching notes

An adapter maps it onto its lab's API. The one here speaks a generic lab REST API of the kind
most labs offer (the shape below is ours, no vendor's); every request carries
`Authorization: Bearer <api key>`:

    POST {base}/orders                    Idempotency-Key: <order id>:<manifest SHA-256>
        {"client_reference", "customer": {"name"}, "notes",
         "items": [{"product", "quantity", "files", "crop", "retouch"}],
         "assets": [{"name", "size", "sha256", "content_type", "role": "print" | "summary"}]}
        201 {"lab_order_id", "status": "awaiting_files", "uploads": [{"name", "url", "received"}]}
        200 the same, for an Idempotency-Key the lab has seen (`received` says which files it
            holds already, `status` is "received" once the order was submitted)
        409 the client reference exists with another key (other files): an `OrderConflict`
    PUT {upload url}                      Content-Length, Content-Type, x-checksum-sha256
        201/204 stored; 200, or 409 naming the same checksum, the lab had it already
    POST {base}/orders/{lab_order_id}/submit
        200 {"status": "received"}: the lab starts on the order, never before

The manifest is the SFTP transport's (`manifest_of`), so one order has one identity whichever
way it travels; the key covers the files, not the lines: an order sent again with other lines
but the same files is the lab's existing order. Upload URLs on another origin than `base_url`
are taken as pre-signed: the API key is sent only to the lab's own origin. Connection errors,
5xx and 429 are retried (honouring `Retry-After` seconds); other 4xx are not. The lab's signed
callbacks (`X-Lab-Signature`) are checked by `verify_callback`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import mimetypes
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from workflow.lab.sftp import (
    LabRefused,
    LabUnreachable,
    OrderConflict,
    OrderFile,
    SendReceipt,
    SourceChanged,
    check_plain_name,
    manifest_of,
)

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# A lab asking us to come back later than this is treated as down: the shipment's lease is
# not held for an hour on the lab's say-so.
MAX_RETRY_AFTER_SECONDS = 120.0
_RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class _Schema(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LabFile(_Schema):
    """One file of the order as the lab is told about it."""

    name: str
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    content_type: str = "application/octet-stream"

    @classmethod
    def describing(cls, order_file: OrderFile, content_type: str | None = None) -> LabFile:
        guessed = content_type or mimetypes.guess_type(order_file.name)[0]
        return cls(
            name=order_file.name,
            size=order_file.size,
            sha256=order_file.sha256,
            content_type=guessed or "application/octet-stream",
        )


class Crop(_Schema):
    """A crop as fractions of the image: (x, y) is the top-left corner."""

    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)
    width: float = Field(gt=0, le=1)
    height: float = Field(gt=0, le=1)

    @model_validator(mode="after")
    def _inside(self) -> Crop:
        if self.x + self.width > 1 + 1e-9 or self.y + self.height > 1 + 1e-9:
            raise ValueError("The crop reaches outside the image.")
        return self


class OrderLine(_Schema):
    product_name: str = Field(min_length=1)
    quantity: int = Field(ge=1)
    file_names: list[str] = Field(min_length=1)
    crop: Crop | None = None
    retouch_notes: str = ""


class LabOrder(_Schema):
    """The one order schema every lab adapter is given (see the module docstring)."""

    order_id: str
    studio: str = Field(min_length=1)
    files: list[LabFile] = Field(min_length=1)
    summary: str | None = None
    notes: str = ""
    lines: list[OrderLine] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> LabOrder:
        check_plain_name(self.order_id, "order id")
        names = [f.name for f in self.files]
        for name in names:
            check_plain_name(name)
        if len(set(names)) != len(names):
            raise ValueError(f"Order {self.order_id} names a file twice.")
        if self.summary is not None and self.summary not in names:
            raise ValueError(f"The summary {self.summary!r} is not one of the order's files.")
        for line in self.lines:
            if unknown := set(line.file_names) - set(names):
                raise ValueError(
                    f"The line {line.product_name!r} uses files the order does not have: "
                    f"{', '.join(sorted(unknown))}."
                )
        return self


@dataclass(frozen=True)
class HttpLabTarget:
    """A lab's API: `base_url` must be https (plain http only to this machine, for tests and
    a lab's local bridge); `timeout` bounds connecting and every read or write."""

    base_url: str
    api_key: SecretStr
    timeout: float = 30.0

    def __post_init__(self) -> None:
        _check_url(self.base_url, "base URL")
        url = httpx.URL(self.base_url)
        if url.query or url.fragment:
            raise ValueError(f"The lab's base URL {self.base_url!r} has a query or fragment.")
        key = self.api_key.get_secret_value()
        if not key or not all(33 <= ord(char) < 127 for char in key):
            raise ValueError("The lab's API key is empty or has characters a header cannot carry.")
        if self.timeout <= 0:
            raise ValueError("The timeout must be positive.")

    @property
    def root(self) -> str:
        return self.base_url.rstrip("/")


def _check_url(value: str, what: str) -> None:
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as exc:
        raise ValueError(f"The lab's {what} {value!r} is not a URL: {exc}") from exc
    if url.scheme not in ("https", "http") or not url.host:
        raise ValueError(f"The lab's {what} {value!r} is not an http(s) URL.")
    if url.scheme == "http" and url.host not in LOOPBACK_HOSTS:
        raise ValueError(
            f"The lab's {what} {value!r} is plain http: the API key and the images would "
            "cross the network unencrypted; use https."
        )
    if url.userinfo:
        raise ValueError(f"The lab's {what} carries credentials; give the API key instead.")


# What the lab answers, read strictly enough to notice an endpoint that is not the lab's API.
class _Upload(BaseModel):
    name: str
    url: str
    received: bool = False


class _LabOrderAnswer(BaseModel):
    lab_order_id: str = Field(min_length=1)
    status: str
    uploads: list[_Upload]


class _SubmitAnswer(BaseModel):
    status: Literal["received"]


_Answer = TypeVar("_Answer", bound=BaseModel)


@dataclass
class _Tally:
    sent: list[str]
    skipped: list[str]
    bytes_sent: int = 0


async def send_order_http(
    target: HttpLabTarget,
    order: LabOrder,
    files: Sequence[OrderFile],
    *,
    summary_pdf: bytes | None,
    attempts: int = 3,
    backoff_seconds: float = 2.0,
) -> SendReceipt:
    """Create the order at the lab (idempotently), upload the files it does not hold yet and
    submit it; an order the lab has submitted already with the same files sends nothing.

    `files` are the order's files to read; `summary_pdf`, when given, is the file the order
    names as its `summary`. Every request is tried up to `attempts` times (connection errors,
    5xx, 429; the wait is `Retry-After` when the lab gives one, else exponential backoff);
    `SendReceipt.attempts` is the most tries any one request took. A refused key, a refused
    order (`LabRefused`), another order under the same id (`OrderConflict`) or a file whose
    bytes no longer match its SHA-256 (`SourceChanged`) are not retried.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1.")
    everything = _files_of(order, files, summary_pdf)
    manifest_sha256 = hashlib.sha256(manifest_of(everything)).hexdigest()
    headers = {"Idempotency-Key": f"{order.order_id}:{manifest_sha256}"}
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(target.timeout),
        follow_redirects=False,  # a redirect could carry the API key somewhere else
        trust_env=False,  # no proxy settings or .netrc from the environment
    ) as client:
        sender = _Sender(client, target, order, attempts, backoff_seconds)
        created = await sender.call(
            "POST",
            f"{target.root}/orders",
            what=f"creating order {order.order_id}",
            json=_lab_body(order),
            headers=headers,
        )
        if created.status_code not in (200, 201):
            raise LabRefused(f"The lab answered {created.status_code} to a new order.")
        answer = _parse(_LabOrderAnswer, created, "the new order")
        remote = f"{target.root}/orders/{quote(answer.lab_order_id, safe='')}"
        uploads = _uploads_by_name(answer, everything)
        already = created.status_code == 200 and answer.status == "received"
        tally = _Tally(sent=[], skipped=[])
        for order_file in everything:
            upload = uploads[order_file.name]
            if already or upload.received:
                tally.skipped.append(order_file.name)
                continue
            if await sender.put(upload.url, order_file, order.order_id, tally):
                tally.sent.append(order_file.name)
            else:
                tally.skipped.append(order_file.name)
        if not already:
            submitted = await sender.call(
                "POST", f"{remote}/submit", what=f"submitting order {order.order_id}"
            )
            _parse(_SubmitAnswer, submitted, "the submitted order")
    return SendReceipt(
        order_id=order.order_id,
        remote_path=remote,
        already_complete=already,
        sent=tuple(tally.sent),
        skipped=tuple(tally.skipped),
        removed=(),
        attempts=sender.most_tries,
        bytes_sent=tally.bytes_sent,
        manifest_sha256=manifest_sha256,
    )


def _files_of(
    order: LabOrder, files: Sequence[OrderFile], summary_pdf: bytes | None
) -> list[OrderFile]:
    """The files to send, checked against what the order tells the lab about them."""
    everything = list(files)
    if (summary_pdf is None) != (order.summary is None):
        raise ValueError("The summary PDF and the order's `summary` go together.")
    if summary_pdf is not None and order.summary is not None:
        everything.append(OrderFile.from_bytes(order.summary, summary_pdf))
    given = {f.name: (f.size, f.sha256) for f in everything}
    declared = {f.name: (f.size, f.sha256) for f in order.files}
    if len(given) != len(everything) or given != declared:
        raise ValueError(
            f"Order {order.order_id} describes other files than the ones given to send."
        )
    return everything


def _lab_body(order: LabOrder) -> dict[str, Any]:
    """The order in the lab's own terms."""
    return {
        "client_reference": order.order_id,
        "customer": {"name": order.studio},
        "notes": order.notes,
        "items": [
            {
                "product": line.product_name,
                "quantity": line.quantity,
                "files": line.file_names,
                "crop": line.crop.model_dump() if line.crop else None,
                "retouch": line.retouch_notes,
            }
            for line in order.lines
        ],
        "assets": [
            {**f.model_dump(), "role": "summary" if f.name == order.summary else "print"}
            for f in order.files
        ],
    }


def _uploads_by_name(answer: _LabOrderAnswer, files: list[OrderFile]) -> dict[str, _Upload]:
    uploads = {u.name: u for u in answer.uploads}
    if missing := [f.name for f in files if f.name not in uploads]:
        raise LabRefused(f"The lab gave no upload URL for {', '.join(missing)}.")
    for upload in uploads.values():
        try:
            _check_url(upload.url, "upload URL")
        except ValueError as exc:
            raise LabRefused(str(exc)) from exc
    return uploads


class _Sender:
    """The requests of one order, each retried on its own (all of them are idempotent)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        target: HttpLabTarget,
        order: LabOrder,
        attempts: int,
        backoff: float,
    ) -> None:
        self._client = client
        self._target = target
        self._origin = httpx.URL(target.root)
        self._order = order
        self._attempts = attempts
        self._backoff = backoff
        self.most_tries = 1

    def _auth(self, url: str) -> dict[str, str]:
        parsed = httpx.URL(url)
        same_origin = (parsed.scheme, parsed.host, parsed.port) == (
            self._origin.scheme,
            self._origin.host,
            self._origin.port,
        )
        if not same_origin:
            return {}  # a pre-signed URL of the lab's storage: it never sees the key
        return {"Authorization": f"Bearer {self._target.api_key.get_secret_value()}"}

    async def call(
        self,
        method: str,
        url: str,
        *,
        what: str,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        async def once() -> httpx.Response:
            return await self._client.request(
                method, url, json=json, headers={**(headers or {}), **self._auth(url)}
            )

        response = await self._with_retries(once, what)
        _raise_for_refusal(response, what)
        return response

    async def put(self, url: str, order_file: OrderFile, order_id: str, tally: _Tally) -> bool:
        """Upload one file; False when the lab holds it already with the same checksum."""
        headers = {
            **self._auth(url),
            "Content-Length": str(order_file.size),
            "Content-Type": _content_type(self._order, order_file.name),
            "x-checksum-sha256": order_file.sha256,
        }

        async def once() -> httpx.Response:
            body = _stream(order_file, order_id, tally)
            try:
                return await self._client.put(url, content=body, headers=headers)
            finally:
                await body.aclose()  # now, not when a dropped request's generator is collected

        what = f"uploading {order_file.name} of order {order_id}"
        response = await self._with_retries(once, what)
        if response.status_code in (201, 204):
            return True
        if response.status_code in (200, 409) and _lab_checksum(response) == order_file.sha256:
            return False
        if response.status_code == 409:
            raise OrderConflict(
                f"The lab holds another {order_file.name} for order {order_id}: "
                f"{_lab_message(response)}; ask the lab before sending it again."
            )
        _raise_for_refusal(response, what)
        raise LabRefused(f"The lab answered {response.status_code} {what}.")

    async def _with_retries(
        self, once: Callable[[], Awaitable[httpx.Response]], what: str
    ) -> httpx.Response:
        for attempt in range(1, self._attempts + 1):
            self.most_tries = max(self.most_tries, attempt)
            wait = self._backoff * 2 ** (attempt - 1)
            try:
                response = await once()
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                failure = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            except httpx.HTTPError as exc:  # a request we cannot make: sending again won't help
                raise LabRefused(
                    f"{what.capitalize()} failed: {type(exc).__name__}: {exc}"
                ) from exc
            else:
                if response.status_code not in _RETRYABLE_STATUS:
                    return response
                failure = f"the lab answered {response.status_code}"
                asked = _retry_after(response)
                if asked is not None:
                    if asked > MAX_RETRY_AFTER_SECONDS:
                        raise LabUnreachable(
                            f"{failure} {what} and asks to come back in {asked:.0f} s."
                        )
                    wait = asked
            if attempt == self._attempts:
                raise LabUnreachable(
                    f"{what.capitalize()} at {self._origin.host} failed after {attempt} "
                    f"attempt(s): {failure}."
                )
            log.warning(
                "%s: attempt %d failed (%s), retrying in %.1f s", what, attempt, failure, wait
            )
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover


async def _stream(
    order_file: OrderFile, order_id: str, tally: _Tally
) -> AsyncGenerator[bytes, None]:
    """The file's bytes in chunks, checked as they go: the last chunk is held back until the
    whole file matched its size and SHA-256, so the lab never receives a complete wrong file."""
    size = order_file.size
    digest = hashlib.sha256()
    read = 0
    stream = await asyncio.to_thread(order_file.open)
    try:
        while read < size:
            chunk = await asyncio.to_thread(stream.read, min(CHUNK, size - read))
            if not chunk:
                break  # shorter than declared
            digest.update(chunk)
            read += len(chunk)
            if read == size:
                extra: bytes = await asyncio.to_thread(stream.read, 1)
                if extra or digest.hexdigest() != order_file.sha256:
                    break  # longer than declared, or other bytes
            tally.bytes_sent += len(chunk)
            yield chunk
        else:
            trailing: bytes = b"" if size else await asyncio.to_thread(stream.read, 1)
            if not trailing and digest.hexdigest() == order_file.sha256:
                return
    finally:
        await asyncio.to_thread(_close, stream)
    raise SourceChanged(
        f"{order_file.name} of order {order_id} no longer matches the {size} bytes and "
        f"SHA-256 {order_file.sha256} it was declared with; the lab did not get it whole."
    )


def _close(stream: BinaryIO) -> None:
    stream.close()


def _content_type(order: LabOrder, name: str) -> str:
    return next(f.content_type for f in order.files if f.name == name)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    # Seconds only: an HTTP-date is rare from APIs, and then our own backoff applies.
    return float(value) if value.isdigit() else None


def _raise_for_refusal(response: httpx.Response, what: str) -> None:
    status = response.status_code
    if status < 300:
        return
    if status in (401, 403):
        raise LabRefused(
            f"The lab refused the API key ({status}) {what}; check the key in the vendor's "
            "settings."
        )
    if status == 409:
        raise OrderConflict(f"The lab has a conflicting order {what}: {_lab_message(response)}")
    if status < 400:
        raise LabRefused(f"The lab answered {status} (a redirect, not followed) {what}.")
    raise LabRefused(f"The lab refused {what} ({status}): {_lab_message(response)}")


def _lab_message(response: httpx.Response) -> str:
    """The lab's own words, from the usual error shapes, or the start of its answer."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict):
        for key in ("message", "error", "detail"):
            if isinstance(body.get(key), str):
                return str(body[key])[:300]
    return json.dumps(body)[:300]


def _lab_checksum(response: httpx.Response) -> str | None:
    header: str | None = response.headers.get("x-checksum-sha256")
    if header:
        return header.strip().lower()
    try:
        body = response.json()
    except ValueError:
        return None
    value = body.get("sha256") if isinstance(body, dict) else None
    return str(value).lower() if isinstance(value, str) else None


def _parse(model: type[_Answer], response: httpx.Response, what: str) -> _Answer:
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        raise LabRefused(
            f"The lab's answer about {what} is not its API's ({response.status_code}): "
            f"{response.text[:200]!r}"
        ) from exc


class CallbackRejected(ValueError):
    """A callback that does not prove it comes from the lab, or comes too late or too early."""


_SIGNATURE_PART = re.compile(r"\s*([a-z0-9]+)=([^,\s]*)\s*")


def verify_callback(
    secret: str, body: bytes, signature_header: str, *, now: float, tolerance_seconds: int = 300
) -> dict[str, Any]:
    """The JSON body of a lab callback whose `X-Lab-Signature: t=<unix>,v1=<hex>` is the
    HMAC-SHA256 of `<t>.<body>` under the shared secret and whose `t` is within
    `tolerance_seconds` of `now`, in unix seconds (either way: a replay, or a clock far
    ahead). Several `v1` values are allowed, as a lab sends while it rotates its secret."""
    stamps: list[str] = []
    signatures: list[str] = []
    for part in signature_header.split(","):
        match = _SIGNATURE_PART.fullmatch(part)
        if match is None:
            raise CallbackRejected("The signature header is malformed.")
        key, value = match.groups()
        if key == "t":
            stamps.append(value)
        elif key == "v1":
            signatures.append(value.lower())
    if len(stamps) != 1 or not stamps[0].isdigit() or not signatures:
        raise CallbackRejected("The signature header needs one t= and at least one v1=.")
    if abs(now - int(stamps[0])) > tolerance_seconds:
        raise CallbackRejected(
            f"The callback was signed {now - int(stamps[0]):+.0f} s from now, outside "
            f"{tolerance_seconds} s."
        )
    expected = hmac.new(secret.encode(), stamps[0].encode() + b"." + body, "sha256").hexdigest()
    if not any(hmac.compare_digest(expected, signature) for signature in signatures):
        raise CallbackRejected("The callback's signature does not match.")
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise CallbackRejected("The callback's body is not JSON.") from exc
    if not isinstance(payload, dict):
        raise CallbackRejected("The callback's body is not a JSON object.")
    return payload
