"""What the gateway's routes need from the opened platform, reached as one typed dependency."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from gateway.access.policy import Role
from gateway.access.tokens import Principal, TokenIssuer
from gateway.config import GatewaySettings
from gateway.limits.service import Limit, RateLimiter
from gateway.proxy.forwarding import Forwarder
from gateway.users.service import UserService
from kit.app import Platform, PlatformDep
from kit.errors import Unauthorized


@dataclass(frozen=True)
class GatewayContext:
    settings: GatewaySettings
    forwarder: Forwarder
    issuer: TokenIssuer
    users: UserService
    limiter: RateLimiter

    @property
    def login_limit(self) -> Limit:
        s = self.settings
        return Limit("login", s.login_per_address, s.login_window_seconds)

    @property
    def login_account_limit(self) -> Limit:
        s = self.settings
        return Limit("login", s.login_per_account, s.login_window_seconds)

    @property
    def login_client_limit(self) -> Limit:
        s = self.settings
        return Limit("login", s.login_per_account_address, s.login_window_seconds)

    @property
    def bootstrap_limit(self) -> Limit:
        s = self.settings
        return Limit("bootstrap", s.bootstrap_per_address, s.login_window_seconds)

    @property
    def pin_limit(self) -> Limit:
        s = self.settings
        return Limit("pin", s.pin_per_address, s.pin_window_seconds)

    @property
    def pin_link_limit(self) -> Limit:
        s = self.settings
        return Limit("pin", s.pin_per_link, s.pin_window_seconds)

    @property
    def booking_limit(self) -> Limit:
        s = self.settings
        return Limit("booking", s.booking_per_address, s.booking_window_seconds)

    @property
    def booking_account_limit(self) -> Limit:
        s = self.settings
        return Limit("booking", s.booking_per_account, s.booking_window_seconds)


def context_of(platform: Platform) -> GatewayContext:
    context = platform.extras.get("gateway")
    if not isinstance(context, GatewayContext):
        raise TypeError("the gateway context is opened at start")
    return context


def get_context(platform: PlatformDep) -> GatewayContext:
    return context_of(platform)


ContextDep = Annotated[GatewayContext, Depends(get_context)]


def get_principal(request: Request, context: ContextDep) -> Principal:
    """The logged-in person of `Authorization: Bearer <access token>`; 401 without one."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "Log in: this route needs an access token.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return context.issuer.verify(token.strip())


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def address_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


__all__ = ["ContextDep", "GatewayContext", "PrincipalDep", "Role", "address_of", "context_of"]
