"""Browser sessions: the gateway's tokens stay here, the browser holds an opaque cookie.

The cookie's value is 256 random bits; only its SHA-256 is stored, so the database alone
cannot be replayed as a cookie. Each session carries its own CSRF token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from pymongo.asynchronous.database import AsyncDatabase

from kit.mongo import Document, IndexSpec

SESSIONS = "browser_sessions"
INDEXES: tuple[IndexSpec, ...] = ()
COOKIE = "studio_session"
# The CSRF token of pages shown before login (login, first run): a double-submit cookie.
ANON_CSRF_COOKIE = "studio_csrf"


def now() -> dt.datetime:
    moment = dt.datetime.now(dt.UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _key(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


@dataclass
class BrowserSession:
    key: str
    user: str
    role: str
    csrf: str
    access_token: str
    access_expires: dt.datetime
    refresh_token: str
    expires_at: dt.datetime

    def access_fresh(self, at: dt.datetime) -> bool:
        return self.access_expires - dt.timedelta(seconds=20) > at


def _from(doc: Document) -> BrowserSession:
    return BrowserSession(
        key=doc["_id"],
        user=doc["user"],
        role=doc["role"],
        csrf=doc["csrf"],
        access_token=doc["access_token"],
        access_expires=_aware(doc["access_expires"]),
        refresh_token=doc["refresh_token"],
        expires_at=_aware(doc["expires_at"]),
    )


class SessionStore:
    def __init__(self, db: AsyncDatabase[Document], *, idle_hours: int, days: int) -> None:
        self._sessions = db[SESSIONS]
        self._idle = dt.timedelta(hours=idle_hours)
        self._life = dt.timedelta(days=days)

    async def open(
        self, *, user: str, role: str, access_token: str, expires_in: int, refresh_token: str
    ) -> tuple[str, BrowserSession]:
        """A new session for a login; answers the cookie value and the session."""
        cookie = secrets.token_urlsafe(32)
        at = now()
        doc: Document = {
            "_id": _key(cookie),
            "user": user,
            "role": role,
            "csrf": secrets.token_urlsafe(32),
            "access_token": access_token,
            "access_expires": at + dt.timedelta(seconds=expires_in),
            "refresh_token": refresh_token,
            "created_at": at,
            "seen_at": at,
            "ends_at": at + self._life,
            "expires_at": min(at + self._idle, at + self._life),
        }
        await self._sessions.insert_one(doc)
        return cookie, _from(doc)

    async def load(self, cookie: str | None) -> BrowserSession | None:
        """The live session of a cookie, its idle expiry moved on; None when gone or expired."""
        if not cookie or len(cookie) > 100:
            return None
        key = _key(cookie)
        doc = await self._sessions.find_one({"_id": key})
        at = now()
        if doc is None or _aware(doc["expires_at"]) <= at:
            if doc is not None:
                await self._sessions.delete_one({"_id": key})
            return None
        expires = min(at + self._idle, _aware(doc["ends_at"]))
        if expires - _aware(doc["expires_at"]) > dt.timedelta(minutes=1):
            await self._sessions.update_one(
                {"_id": key}, {"$set": {"seen_at": at, "expires_at": expires}}
            )
            doc["expires_at"] = expires
        return _from(doc)

    async def reload(self, session: BrowserSession) -> BrowserSession | None:
        doc = await self._sessions.find_one({"_id": session.key})
        return _from(doc) if doc is not None else None

    async def renew_tokens(
        self, session: BrowserSession, *, access_token: str, expires_in: int, refresh_token: str
    ) -> None:
        session.access_token = access_token
        session.access_expires = now() + dt.timedelta(seconds=expires_in)
        session.refresh_token = refresh_token
        await self._sessions.update_one(
            {"_id": session.key},
            {
                "$set": {
                    "access_token": access_token,
                    "access_expires": session.access_expires,
                    "refresh_token": refresh_token,
                }
            },
        )

    async def close(self, session: BrowserSession) -> None:
        await self._sessions.delete_one({"_id": session.key})

    async def sweep(self) -> int:
        """Remove expired sessions (done now and then at login)."""
        result = await self._sessions.delete_many({"expires_at": {"$lt": now()}})
        return result.deleted_count
