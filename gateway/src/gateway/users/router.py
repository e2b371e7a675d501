"""Login, token refresh and logout for everyone; the users of the studio for the owner."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, status

from gateway.access.policy import authorize
from gateway.access.tokens import Principal
from gateway.context import ContextDep, PrincipalDep, address_of
from gateway.users.schemas import (
    BootstrapState,
    Login,
    Me,
    OwnerIn,
    RefreshIn,
    TokenPair,
    UserChange,
    UserIn,
    UserOut,
)

router = APIRouter(tags=["users"])

UserId = Annotated[str, Path(min_length=3, max_length=254)]


def owner_only(request: Request, principal: PrincipalDep) -> Principal:
    authorize(principal.role, "gateway", request.url.path, request.method)
    return principal


OwnerDep = Annotated[Principal, Depends(owner_only)]


@router.post("/auth/login", responses={401: {}, 429: {}})
async def login(body: Login, request: Request, context: ContextDep) -> TokenPair:
    """Log in with email and password: a short-lived access token and a refresh token.

    Limited per address, per account and address, and per account; a client that logged in to
    this account lately is not held by the per-account limit, so guesses from elsewhere cannot
    lock its owner out."""
    address = address_of(request)
    await context.limiter.hit(context.login_limit, "address", address)
    await context.limiter.hit(
        context.login_client_limit, "account_address", f"{body.email} {address}"
    )
    if not await context.users.is_known_client(body.email, address):
        await context.limiter.hit(context.login_account_limit, "account", body.email)
    return await context.users.login(body.email, body.password, address=address)


@router.get("/auth/bootstrap")
async def bootstrap_state(context: ContextDep) -> BootstrapState:
    """Whether the studio still needs its first owner (no user exists yet)."""
    return BootstrapState(needed=await context.users.bootstrap_needed())


@router.post(
    "/auth/bootstrap",
    status_code=status.HTTP_201_CREATED,
    responses={
        409: {"description": "A user exists already: the first run is over."},
        429: {"description": "Too many attempts from this address."},
    },
)
async def bootstrap_owner(body: OwnerIn, request: Request, context: ContextDep) -> TokenPair:
    """First run only: create the studio's owner and log them in.

    Works only while the gateway has no user at all (afterwards 409, and the owner manages
    users through `/users`); rate limited per address. Automated installs set
    `GATEWAY_OWNER_EMAIL` and `GATEWAY_OWNER_PASSWORD` instead.
    """
    await context.limiter.hit(context.bootstrap_limit, "address", address_of(request))
    return await context.users.bootstrap_owner(body.email, body.password)


@router.post("/auth/refresh", responses={401: {}})
async def refresh(body: RefreshIn, context: ContextDep) -> TokenPair:
    """Trade a refresh token (used up) for a new pair."""
    return await context.users.refresh(body.refresh_token)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(body: RefreshIn, context: ContextDep) -> None:
    """Revoke the refresh token; the access token expires by itself shortly."""
    await context.users.logout(body.refresh_token)


@router.get("/auth/me", responses={401: {}})
async def me(principal: PrincipalDep) -> Me:
    """Who the access token belongs to."""
    return Me(id=principal.user_id, role=principal.role)


@router.post("/users", status_code=status.HTTP_201_CREATED, responses={401: {}, 403: {}, 409: {}})
async def create_user(body: UserIn, context: ContextDep, _: OwnerDep) -> UserOut:
    """Add a person of the studio with a role (owner only)."""
    return await context.users.create(body)


@router.get("/users", responses={401: {}, 403: {}})
async def list_users(context: ContextDep, _: OwnerDep) -> list[UserOut]:
    """Every user (owner only)."""
    return await context.users.list()


@router.get("/users/{user_id}", responses={401: {}, 403: {}, 404: {}})
async def get_user(user_id: UserId, context: ContextDep, _: OwnerDep) -> UserOut:
    """One user (owner only)."""
    return await context.users.get(user_id.lower())


@router.patch("/users/{user_id}", responses={401: {}, 403: {}, 404: {}, 409: {}})
async def change_user(
    user_id: UserId, body: UserChange, context: ContextDep, owner: OwnerDep
) -> UserOut:
    """Change a user's role, password or disabled flag (owner only)."""
    return await context.users.change(user_id.lower(), body, by=owner.user_id)


@router.delete(
    "/users/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={401: {}, 403: {}, 404: {}, 409: {}},
)
async def delete_user(user_id: UserId, context: ContextDep, owner: OwnerDep) -> None:
    """Remove a user (owner only)."""
    await context.users.delete(user_id.lower(), by=owner.user_id)
