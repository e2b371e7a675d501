"""Calls to the gateway, the web app's only back end, with the logged-in user's token.

An access token about to expire is traded for a new pair first (one refresh at a time per
session, since a refresh token is used up by its refresh); a 401 gets one refresh and a retry.
An answer of 400 or more becomes a `GatewayError` carrying the platform's one error body.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from kit.logging import current_request_id
from web.sessions import BrowserSession, SessionStore, now


class GatewayError(Exception):
    """The gateway (or a service behind it) refused or failed: its error body, readable."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        detail: Any = None,
        retry_after: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
        self.retry_after = retry_after

    @classmethod
    def of(cls, answer: httpx.Response) -> GatewayError:
        try:
            body = answer.json()
        except ValueError:
            body = None
        retry = answer.headers.get("retry-after")
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            return cls(
                answer.status_code,
                str(body.get("error", "error")),
                body["message"],
                body.get("detail"),
                retry,
            )
        return cls(answer.status_code, f"http_{answer.status_code}", _generic(answer.status_code))

    def field_problems(self) -> dict[str, str]:
        """For a validation error: the message of each body field named in its detail."""
        problems: dict[str, str] = {}
        if self.code == "validation_error" and isinstance(self.detail, list):
            for problem in self.detail:
                if isinstance(problem, dict):
                    location = problem.get("location") or []
                    if location:
                        problems[str(location[-1])] = str(problem.get("message", "invalid"))
        return problems


class SessionEnded(Exception):
    """The session's tokens are no longer valid: the person must log in again."""


def _generic(status: int) -> str:
    if status >= 500:
        return "The studio's server had a problem; try again in a moment."
    return f"The request was refused ({status})."


def unreachable() -> GatewayError:
    return GatewayError(
        503,
        "unavailable",
        "The studio's server cannot be reached right now; try again shortly.",
        retry_after="5",
    )


@dataclass
class GatewayHttp:
    """The one HTTP client to the gateway of this process, and its refresh locks."""

    client: httpx.AsyncClient
    store: SessionStore

    def __post_init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}

    def lock_for(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            if len(self._locks) > 10_000:
                self._locks.clear()
            lock = self._locks[key] = asyncio.Lock()
        return lock

    async def anonymous(self, method: str, path: str, *, address: str, json: Any = None) -> Any:
        """A call without a user (login, first run); answers the JSON body."""
        answer = await self.anonymous_answer(method, path, address=address, json=json)
        return answer.json() if answer.content else None

    async def anonymous_answer(
        self, method: str, path: str, *, address: str, json: Any = None
    ) -> httpx.Response:
        """A call without a user, its whole answer (a public file); an error as GatewayError."""
        try:
            answer = await self.client.request(
                method, path, json=json, headers=_headers(None, address)
            )
        except httpx.TransportError as exc:
            raise unreachable() from exc
        if answer.status_code >= 400:
            raise GatewayError.of(answer)
        return answer

    def as_user(self, session: BrowserSession, address: str) -> Gateway:
        return Gateway(self, session, address)


def _headers(session: BrowserSession | None, address: str) -> dict[str, str]:
    headers = {"X-Request-ID": current_request_id() or "", "X-Forwarded-For": address}
    if session is not None:
        headers["Authorization"] = f"Bearer {session.access_token}"
    return {k: v for k, v in headers.items() if v}


class Gateway:
    """The gateway as one logged-in person."""

    def __init__(self, http: GatewayHttp, session: BrowserSession, address: str) -> None:
        self._http = http
        self.session = session
        self._address = address

    async def _refresh(self, stale_token: str) -> None:
        async with self._http.lock_for(self.session.key):
            if self.session.access_token != stale_token and self.session.access_fresh(now()):
                return  # another request of this session refreshed meanwhile
            reloaded = await self._http.store.reload(self.session)
            if reloaded and reloaded.access_token != stale_token and reloaded.access_fresh(now()):
                self.session.access_token = reloaded.access_token
                self.session.access_expires = reloaded.access_expires
                self.session.refresh_token = reloaded.refresh_token
                return
            try:
                answer = await self._http.client.post(
                    "/auth/refresh",
                    json={"refresh_token": self.session.refresh_token},
                    headers=_headers(None, self._address),
                )
            except httpx.TransportError as exc:
                raise unreachable() from exc
            if answer.status_code != 200:
                await self._http.store.close(self.session)
                raise SessionEnded
            pair = answer.json()
            await self._http.store.renew_tokens(
                self.session,
                access_token=pair["access_token"],
                expires_in=int(pair["expires_in"]),
                refresh_token=pair["refresh_token"],
            )

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call; 4xx/5xx raise `GatewayError`, an ended session `SessionEnded`."""
        if not self.session.access_fresh(now()):
            await self._refresh(self.session.access_token)
        answer = await self._send(method, path, **kwargs)
        if answer.status_code == 401 and "content" not in kwargs:
            await self._refresh(self.session.access_token)
            answer = await self._send(method, path, **kwargs)
        if answer.status_code >= 400:
            raise GatewayError.of(answer)
        return answer

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = _headers(self.session, self._address) | kwargs.pop("headers", {})
        try:
            return await self._http.client.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise unreachable() from exc

    async def get(self, path: str, **params: Any) -> Any:
        answer = await self.request("GET", path, params=_clean(params))
        return answer.json()

    async def send(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        answer = await self.request(method, path, json=body, **kwargs)
        return answer.json() if answer.content else None

    @contextlib.asynccontextmanager
    async def stream(self, method: str, path: str, **kwargs: Any) -> AsyncIterator[httpx.Response]:
        """A streamed answer (images, downloads): nothing is held in memory whole."""
        if not self.session.access_fresh(now()):
            await self._refresh(self.session.access_token)
        headers = _headers(self.session, self._address) | kwargs.pop("headers", {})
        request = self._http.client.build_request(method, path, headers=headers, **kwargs)
        try:
            answer = await self._http.client.send(request, stream=True)
        except httpx.TransportError as exc:
            raise unreachable() from exc
        try:
            if answer.status_code >= 400:
                await answer.aread()
                raise GatewayError.of(answer)
            yield answer
        finally:
            await answer.aclose()


def _clean(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None and v != ""}
