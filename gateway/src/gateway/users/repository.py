"""Every database call of users and refresh tokens (both looked up by `_id`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kit.errors import Conflict
from kit.mongo import Document

USERS = "users"
REFRESH_TOKENS = "refresh_tokens"
# One document, `_id` "first-owner": who claimed the first-run owner creation, and when.
BOOTSTRAP = "bootstrap"
# Clients (account and address, as a digest) that logged in successfully, and when last.
KNOWN_CLIENTS = "known_clients"


class UserRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._users = db[USERS]
        self._refresh = db[REFRESH_TOKENS]
        self._bootstrap = db[BOOTSTRAP]
        self._known_clients = db[KNOWN_CLIENTS]

    async def insert(self, user: Document) -> None:
        try:
            await self._users.insert_one(user)
        except DuplicateKeyError as exc:
            raise Conflict("A user with this email exists.", detail={"email": user["_id"]}) from exc

    async def insert_if_absent(self, user: Document) -> bool:
        try:
            await self._users.insert_one(user)
        except DuplicateKeyError:
            return False
        return True

    async def any_user(self) -> bool:
        return await self._users.find_one({}, {"_id": 1}) is not None

    async def claim_bootstrap(self, email: str, now: dt.datetime, stale: dt.datetime) -> bool:
        """Claim the first-run owner creation; False when another claim, not older than
        `stale`, holds it (a claim whose process died before creating the owner goes stale)."""
        try:
            await self._bootstrap.insert_one({"_id": "first-owner", "email": email, "at": now})
        except DuplicateKeyError:
            taken = await self._bootstrap.find_one_and_update(
                {"_id": "first-owner", "at": {"$lt": stale}},
                {"$set": {"email": email, "at": now}},
            )
            return taken is not None
        return True

    async def get(self, user_id: str) -> Document | None:
        return await self._users.find_one({"_id": user_id})

    async def list(self) -> list[Document]:
        return await self._users.find({}).sort("_id", 1).to_list(None)

    async def update(self, user_id: str, changes: dict[str, Any]) -> Document | None:
        return await self._users.find_one_and_update(
            {"_id": user_id}, {"$set": changes}, return_document=ReturnDocument.AFTER
        )

    async def delete(self, user_id: str) -> bool:
        result = await self._users.delete_one({"_id": user_id})
        await self._known_clients.delete_many({"user_id": user_id})
        return result.deleted_count == 1

    async def remember_client(self, client_id: str, user_id: str, now: dt.datetime) -> None:
        await self._known_clients.update_one(
            {"_id": client_id}, {"$set": {"user_id": user_id, "last_login_at": now}}, upsert=True
        )

    async def client_seen_since(self, client_id: str, since: dt.datetime) -> bool:
        found = await self._known_clients.find_one(
            {"_id": client_id, "last_login_at": {"$gte": since}}, {"_id": 1}
        )
        return found is not None

    async def insert_refresh(self, token_id: str, user_id: str, expires_at: dt.datetime) -> None:
        await self._refresh.insert_one(
            {"_id": token_id, "user_id": user_id, "expires_at": expires_at, "revoked": False}
        )

    async def revoke_refresh(self, token_id: str, now: dt.datetime) -> Document | None:
        """Revoke a live refresh token and return it; None when it is unknown or already used."""
        return await self._refresh.find_one_and_update(
            {"_id": token_id, "revoked": False},
            {"$set": {"revoked": True, "revoked_at": now}},
        )
