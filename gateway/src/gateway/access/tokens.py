"""Short-lived access tokens (JWT, HS256) and opaque refresh tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import jwt

from gateway.access.policy import Role
from kit.errors import Unauthorized

ALGORITHM = "HS256"


@dataclass(frozen=True)
class Principal:
    """A logged-in person of the studio, from a verified access token."""

    user_id: str
    role: Role


class TokenIssuer:
    def __init__(self, secret: str, access_seconds: int) -> None:
        self._secret = secret
        self.access_seconds = access_seconds

    def issue(self, user_id: str, role: Role, *, now: dt.datetime | None = None) -> str:
        issued = now or dt.datetime.now(dt.UTC)
        claims = {
            "sub": user_id,
            "role": role.value,
            "typ": "access",
            "iat": issued,
            "exp": issued + dt.timedelta(seconds=self.access_seconds),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; 401 for a bad, expired, foreign or unsigned one."""
        try:
            # One algorithm only: "none" and any other are refused.
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The access token has expired; refresh it.") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthorized("The access token is not valid.") from exc
        if claims.get("typ") != "access":
            raise Unauthorized("The access token is not valid.")
        try:
            role = Role(str(claims.get("role")))
        except ValueError as exc:
            raise Unauthorized("The access token is not valid.") from exc
        return Principal(user_id=str(claims["sub"]), role=role)


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def refresh_token_id(token: str) -> str:
    """Refresh tokens are stored by their hash: a leaked database holds no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()
