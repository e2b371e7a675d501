"""The rules of users: argon2 password hashes, login, refresh rotation, logout, the first owner."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pymongo.asynchronous.database import AsyncDatabase

from gateway.access.policy import Role
from gateway.access.tokens import TokenIssuer, new_refresh_token, refresh_token_id
from gateway.users.repository import UserRepository
from gateway.users.schemas import TokenPair, UserChange, UserIn, UserOut
from kit.errors import Conflict, NotFound, Unauthorized
from kit.mongo import Document

_hasher = PasswordHasher()
# Verified when the email is unknown, so a login takes as long whether or not the user exists.
_DUMMY_HASH = _hasher.hash("not a password of anyone")
# A first-run claim whose process died before it created the owner frees itself after this.
_BOOTSTRAP_CLAIM_LIFE = dt.timedelta(seconds=60)


def _now() -> dt.datetime:
    now = dt.datetime.now(dt.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _client_id(email: str, address: str) -> str:
    # Who logged in from where is kept as a digest: the gateway needs only to recognise it.
    return hashlib.sha256(f"{email}\n{address}".encode()).hexdigest()


def _out(user: Document) -> UserOut:
    created = user["created_at"]
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    return UserOut(
        id=user["_id"],
        email=user["_id"],
        role=Role(user["role"]),
        disabled=bool(user.get("disabled", False)),
        created_at=created,
    )


async def _hash(password: str) -> str:
    # argon2 is deliberately slow: off the event loop.
    return await asyncio.to_thread(_hasher.hash, password)


async def _verify(password_hash: str, password: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


class UserService:
    def __init__(
        self,
        db: AsyncDatabase[Document],
        issuer: TokenIssuer,
        refresh_days: int,
        known_client_days: int = 30,
    ):
        self._users = UserRepository(db)
        self._issuer = issuer
        self._refresh_days = refresh_days
        self._known_client_life = dt.timedelta(days=known_client_days)

    async def ensure_owner(self, email: str, password: str) -> bool:
        """Create the first owner from configuration; an existing user of that email is kept."""
        user = {
            "_id": email.strip().lower(),
            "password_hash": await _hash(password),
            "role": Role.OWNER.value,
            "disabled": False,
            "created_at": _now(),
        }
        return await self._users.insert_if_absent(user)

    async def bootstrap_needed(self) -> bool:
        return not await self._users.any_user()

    async def bootstrap_owner(self, email: str, password: str) -> TokenPair:
        """Create the studio's first owner and log them in; only while no user exists."""
        refused = Conflict(
            "The studio already has its owner; log in instead.", detail={"bootstrap": "done"}
        )
        if await self._users.any_user():
            raise refused
        now = _now()
        if not await self._users.claim_bootstrap(email, now, now - _BOOTSTRAP_CLAIM_LIFE):
            raise refused
        if await self._users.any_user():  # an owner from configuration started meanwhile
            raise refused
        user = {
            "_id": email,
            "password_hash": await _hash(password),
            "role": Role.OWNER.value,
            "disabled": False,
            "created_at": now,
        }
        await self._users.insert(user)
        return await self._pair(user)

    async def create(self, new: UserIn) -> UserOut:
        user = {
            "_id": new.email,
            "password_hash": await _hash(new.password),
            "role": new.role.value,
            "disabled": False,
            "created_at": _now(),
        }
        await self._users.insert(user)
        return _out(user)

    async def list(self) -> list[UserOut]:
        return [_out(user) for user in await self._users.list()]

    async def get(self, user_id: str) -> UserOut:
        user = await self._users.get(user_id)
        if user is None:
            raise NotFound("There is no such user.", detail={"id": user_id})
        return _out(user)

    async def change(self, user_id: str, change: UserChange, *, by: str) -> UserOut:
        changes: dict[str, object] = {}
        if change.role is not None:
            changes["role"] = change.role.value
        if change.disabled is not None:
            changes["disabled"] = change.disabled
        if change.password is not None:
            changes["password_hash"] = await _hash(change.password)
        if user_id == by and (
            (change.role is not None and change.role != Role.OWNER) or change.disabled
        ):
            raise Conflict("An owner cannot demote or disable themselves.")
        if not changes:
            return await self.get(user_id)
        user = await self._users.update(user_id, changes)
        if user is None:
            raise NotFound("There is no such user.", detail={"id": user_id})
        return _out(user)

    async def delete(self, user_id: str, *, by: str) -> None:
        if user_id == by:
            raise Conflict("An owner cannot delete themselves.")
        if not await self._users.delete(user_id):
            raise NotFound("There is no such user.", detail={"id": user_id})

    async def login(self, email: str, password: str, *, address: str | None = None) -> TokenPair:
        """A pair for the right password; the client at `address` becomes a known client of
        this account."""
        user = await self._users.get(email)
        valid = await _verify(user["password_hash"] if user else _DUMMY_HASH, password)
        if user is None or not valid or user.get("disabled"):
            raise Unauthorized("The email or the password is wrong.")
        if address is not None:
            await self._users.remember_client(_client_id(email, address), email, _now())
        return await self._pair(user)

    async def is_known_client(self, email: str, address: str) -> bool:
        """Whether a login to `email` from `address` succeeded within the known-client life."""
        since = _now() - self._known_client_life
        return await self._users.client_seen_since(_client_id(email, address), since)

    async def refresh(self, token: str) -> TokenPair:
        """A new pair for a live refresh token, which is used up (rotation)."""
        record = await self._users.revoke_refresh(refresh_token_id(token), _now())
        if record is None or _aware(record["expires_at"]) <= _now():
            raise Unauthorized("The refresh token is not valid.")
        user = await self._users.get(record["user_id"])
        if user is None or user.get("disabled"):
            raise Unauthorized("The refresh token is not valid.")
        return await self._pair(user)

    async def logout(self, token: str) -> None:
        # Idempotent: an unknown or already revoked token is simply no longer usable.
        await self._users.revoke_refresh(refresh_token_id(token), _now())

    async def _pair(self, user: Document) -> TokenPair:
        role = Role(user["role"])
        refresh = new_refresh_token()
        await self._users.insert_refresh(
            refresh_token_id(refresh),
            user["_id"],
            _now() + dt.timedelta(days=self._refresh_days),
        )
        return TokenPair(
            access_token=self._issuer.issue(user["_id"], role),
            expires_in=self._issuer.access_seconds,
            refresh_token=refresh,
            role=role,
        )


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
