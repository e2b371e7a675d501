"""Send a text message through an SMS provider's HTTP API.

The service sends through any `SmsProvider`; the one here, `HttpSmsProvider`, speaks a generic
SMS REST API modelled on the common ones (the shape is ours, no vendor's):

    POST {base_url}/messages
        Authorization: Bearer <api key>
        Idempotency-Key: <key>       the same key again is the same message: the provider
                                     answers with the id it gave the first time, sends nothing
        {"from": <sender>, "to": "+<E.164 number>", "text": <at most 1600 characters>}
        201 (or 200 for a key seen before) {"id": "<provider's message id>", "status": "queued"}
    errors
        {"error": {"code": "<machine code>", "message": "<the provider's words>"}}

What an answer means to the caller:

    2xx with an id                  sent (queued at the provider); `send` returns the id
    408, 429, 5xx, network error,   `SmsUnavailable`: try again later with the same key, after
    timeout, 2xx without an id      `retry_after` seconds when the provider said so
    any other 4xx (401 wrong key,   `SmsRefused`: the provider said no to this message;
    422 invalid number, ...)        sending it again will not help

A number is normalised (spaces, dashes and parentheses removed) and must then be E.164: `+`
and 8 to 15 digits. A number that is not, or a text over 1600 characters, is refused before
any request is made. `Retry-After` is read in seconds only; an HTTP-date is rare from APIs and
leaves the caller's own backoff in charge.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Protocol

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

if TYPE_CHECKING:
    from notify.config import NotifySettings

MAX_TEXT_CHARS = 1600
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

_SEPARATORS = re.compile(r"[\s\-()]")
_E164 = re.compile(r"\+[1-9][0-9]{7,14}")  # country codes never start with 0


class SmsRefused(Exception):
    """The provider (or our own check before asking it) said no to this message; sending it
    again will not help. `status` is the provider's HTTP status, None for our own check."""

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.status = status


class SmsUnavailable(Exception):
    """The provider could not be reached or asked us to come back later; `retry_after` is the
    wait in seconds it asked for, if it did."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class SmsProvider(Protocol):
    async def send(self, *, to: str, text: str, idempotency_key: str) -> str:
        """Send `text` to `to`; the provider's message id. The same `idempotency_key` again
        sends nothing new. Raises `SmsRefused` or `SmsUnavailable`."""
        ...


def e164_number(raw: str) -> str | None:
    """`raw` as an E.164 number (`+` and 8 to 15 digits) once spaces, dashes and parentheses
    are removed; None when it is not one."""
    number = _SEPARATORS.sub("", raw)
    return number if _E164.fullmatch(number) else None


class _Accepted(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1)


class HttpSmsProvider:
    """An `SmsProvider` speaking the API in this module's docstring. Without `client` it makes
    its own, which `aclose` closes; a given client stays the caller's to close."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        sender: str,
        timeout_seconds: float = 10.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        url = httpx.URL(base_url)
        # The API key travels in every request: never in the clear outside this machine.
        if url.scheme != "https" and not (url.scheme == "http" and url.host in LOOPBACK_HOSTS):
            raise ValueError(f"The SMS provider's URL must be https, not {base_url!r}.")
        self._url = f"{base_url.rstrip('/')}/messages"
        self._api_key = api_key
        self._sender = sender
        self._timeout = httpx.Timeout(timeout_seconds)
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient()

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def send(self, *, to: str, text: str, idempotency_key: str) -> str:
        number = e164_number(to)
        if number is None:
            raise SmsRefused(
                f"{to!r} is not a phone number in international form (+ and 8 to 15 digits)."
            )
        if not text:
            raise SmsRefused("The text message is empty.")
        if len(text) > MAX_TEXT_CHARS:
            raise SmsRefused(
                f"The text message has {len(text)} characters, more than {MAX_TEXT_CHARS}."
            )
        try:
            response = await self._client.post(
                self._url,
                json={"from": self._sender, "to": number, "text": text},
                headers={
                    "Authorization": f"Bearer {self._api_key}",
                    "Idempotency-Key": idempotency_key,
                },
                timeout=self._timeout,
            )
        except (
            httpx.TimeoutException,
            httpx.NetworkError,
            httpx.RemoteProtocolError,
            httpx.ProxyError,
        ) as exc:
            raise SmsUnavailable(
                f"The SMS provider could not be reached: {_described(exc)}."
            ) from exc
        except httpx.HTTPError as exc:  # a request we cannot make: sending again won't help
            raise SmsRefused(f"The SMS request could not be made: {_described(exc)}.") from exc
        return _message_id(response)


def sms_provider(settings: NotifySettings) -> HttpSmsProvider | None:
    """The configured provider (the caller closes it), or None when no `sms_url` is set."""
    if not settings.sms_url:
        return None
    if settings.sms_api_key is None:
        raise ValueError("NOTIFY_SMS_URL is set but NOTIFY_SMS_API_KEY is not.")
    return HttpSmsProvider(
        settings.sms_url, settings.sms_api_key.get_secret_value(), settings.sms_sender
    )


def _message_id(response: httpx.Response) -> str:
    status = response.status_code
    if 200 <= status < 300:
        try:
            return _Accepted.model_validate_json(response.content).id
        except ValidationError as exc:
            # It may well have taken the message; asking again with the same key is safe.
            raise SmsUnavailable(
                f"The SMS provider answered {status} without a message id: {response.text[:200]!r}"
            ) from exc
    if status in (408, 429) or status >= 500:
        raise SmsUnavailable(
            f"The SMS provider answered {status}: {_provider_reason(response)}",
            retry_after=_retry_after(response),
        )
    if status in (401, 403):
        raise SmsRefused(
            f"The SMS provider refused the API key ({status}): {_provider_reason(response)}; "
            "check NOTIFY_SMS_API_KEY.",
            status=status,
        )
    if status < 400:
        raise SmsRefused(
            f"The SMS provider answered {status} (a redirect, not followed); check NOTIFY_SMS_URL.",
            status=status,
        )
    raise SmsRefused(
        f"The SMS provider refused the message ({status}): {_provider_reason(response)}",
        status=status,
    )


def _provider_reason(response: httpx.Response) -> str:
    """The provider's own words from `{"error": {"code", "message"}}`, or its answer's start."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        message, code = error.get("message"), error.get("code")
        if isinstance(message, str):
            return f"{message} ({code})"[:300] if isinstance(code, str) else message[:300]
    if isinstance(error, str):
        return error[:300]
    return response.text[:300]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds < float("inf") else None


def _described(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
