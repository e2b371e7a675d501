"""The policy table walked route by route: each role gets exactly the routes the issue gives it,
and no token, an expired one, one signed with another key or one with `alg=none` gets nothing."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import httpx
import jwt
import pytest
from front_door_harness import Counter, bearer, owner_token, user_token

from gateway.access.policy import POLICY
from gateway.config import GatewaySettings

OWNER, STAFF, MARKETING = "owner", "staff", "marketing"
EVERYONE = {OWNER, STAFF, MARKETING}
STUDIO = {OWNER, STAFF}
PROMOTION = {OWNER, MARKETING}

# What the issue says, written out by hand: (method, gateway path) -> the roles that may use it.
EXPECTED: dict[tuple[str, str], set[str]] = {
    ("GET", "/auth/me"): EVERYONE,
    ("GET", "/users"): {OWNER},
    ("POST", "/users"): {OWNER},
    ("GET", "/users/someone@studio.test"): {OWNER},
    ("PATCH", "/users/someone@studio.test"): {OWNER},
    ("DELETE", "/users/someone@studio.test"): {OWNER},
    ("GET", "/api/booking/clients"): EVERYONE,
    ("GET", "/api/booking/clients/c1"): EVERYONE,
    ("POST", "/api/booking/clients"): STUDIO,
    ("PATCH", "/api/booking/clients/c1"): STUDIO,
    ("DELETE", "/api/booking/clients/c1"): STUDIO,
    ("POST", "/api/booking/clients/c1/unsubscribe"): EVERYONE,
    ("POST", "/api/booking/clients/c1/merge"): STUDIO,
    ("POST", "/api/booking/clients/unsubscribe"): STUDIO,
    ("GET", "/api/booking/sessions"): STUDIO,
    ("POST", "/api/booking/sessions"): STUDIO,
    ("GET", "/api/booking/scheduling-settings"): STUDIO,
    ("PUT", "/api/booking/scheduling-settings"): {OWNER},
    ("GET", "/api/workflow/workflow/sessions"): STUDIO,
    ("GET", "/api/workflow/workflow/statuses"): STUDIO,
    ("POST", "/api/workflow/workflow/statuses"): {OWNER},
    ("PATCH", "/api/workflow/workflow/statuses/st1"): {OWNER},
    ("POST", "/api/workflow/workflow/sessions/s1/status"): STUDIO,
    ("GET", "/api/workflow/workflow/vendors"): STUDIO,
    ("POST", "/api/workflow/workflow/vendors"): {OWNER},
    ("PATCH", "/api/workflow/workflow/vendors/v1"): {OWNER},
    ("GET", "/api/render/profiles"): STUDIO,
    ("PUT", "/api/render/profiles/p1"): STUDIO,
    ("GET", "/api/delivery/deliveries"): STUDIO,
    ("POST", "/api/delivery/deliveries"): STUDIO,
    ("GET", "/api/maps/maps"): PROMOTION,
    ("POST", "/api/maps/maps"): PROMOTION,
    ("GET", "/api/maps/clients"): PROMOTION,
    ("GET", "/api/maps/usage"): PROMOTION,
    ("GET", "/api/notify/notify/rules"): STUDIO,
    ("POST", "/api/notify/notify/rules"): {OWNER},
    ("PUT", "/api/notify/notify/rules/r1"): {OWNER},
    ("DELETE", "/api/notify/notify/rules/r1"): {OWNER},
    ("POST", "/api/notify/notify/rules/r1/preview"): STUDIO,
    ("GET", "/api/notify/notify/tasks"): STUDIO,
    ("POST", "/api/notify/notify/tasks/t1/done"): STUDIO,
    ("GET", "/api/notify/notify/actions"): STUDIO,
}


def _area_and_path(path: str) -> tuple[str, str]:
    parts = path.split("/")
    if parts[1] == "api":
        return parts[2], "/" + "/".join(parts[3:])
    return "gateway", path


def test_every_rule_of_the_policy_table_is_walked() -> None:
    walked = set()
    for method, path in EXPECTED:
        area, inner = _area_and_path(path)
        walked.add(next(i for i, rule in enumerate(POLICY) if rule.matches(area, inner, method)))
    assert walked == set(range(len(POLICY)))


async def _send(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]
) -> httpx.Response:
    body: Any = None
    if method in ("POST", "PUT", "PATCH"):
        body = {} if path.startswith("/api/") else {"role": "staff"}
    return await client.request(method, path, json=body, headers=headers)


async def test_each_role_may_use_exactly_its_routes(
    gateway: httpx.AsyncClient, unique: str
) -> None:
    owner = await owner_token(gateway)
    tokens = {
        OWNER: owner,
        STAFF: await user_token(gateway, owner, STAFF, unique),
        MARKETING: await user_token(gateway, owner, MARKETING, unique),
    }
    outcomes: dict[tuple[str, str, str], int] = {}
    for (method, path), allowed in EXPECTED.items():
        for role, token in tokens.items():
            answer = await _send(gateway, method, path, bearer(token))
            outcomes[(method, path, role)] = answer.status_code
            if role not in allowed:
                assert answer.status_code == 403, (method, path, role, answer.text)
                assert answer.json()["error"] == "forbidden"
            elif path.startswith("/api/"):
                assert answer.status_code == 200, (method, path, role, answer.text)
                assert answer.json()["headers"]["x-user-role"] == role
            else:
                assert answer.status_code not in (401, 403), (method, path, role, answer.text)
    assert len(outcomes) == len(EXPECTED) * 3


def _claims(**changes: Any) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    claims = {
        "sub": "owner@studio.test",
        "role": "owner",
        "typ": "access",
        "iat": now,
        "exp": now + dt.timedelta(minutes=5),
    }
    return {**claims, **changes}


def _unsigned(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        raw = json.dumps(value, default=lambda d: int(d.timestamp())).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _bad_credentials() -> dict[str, dict[str, str]]:
    secret = GatewaySettings().jwt_secret_value
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    expired = jwt.encode(
        _claims(iat=past, exp=past + dt.timedelta(minutes=15)), secret, algorithm="HS256"
    )
    foreign = jwt.encode(_claims(), "another key of at least thirty-two bytes!", algorithm="HS256")
    return {
        "no token": {},
        "expired token": bearer(expired),
        "token signed with another key": bearer(foreign),
        "alg=none": bearer(_unsigned(_claims())),
        "not a token": bearer("not-a-jwt"),
        "basic auth": {"Authorization": "Basic b3duZXI6cGFzc3dvcmQ="},
    }


@pytest.mark.parametrize("credential", list(_bad_credentials()))
async def test_no_route_opens_without_a_valid_token(
    gateway: httpx.AsyncClient, counter: Counter, credential: str
) -> None:
    headers = _bad_credentials()[credential]
    for method, path in EXPECTED:
        answer = await _send(gateway, method, path, headers)
        assert answer.status_code == 401, (credential, method, path, answer.text)
        assert answer.json()["error"] == "unauthorized"
    # Not one of them reached a service.
    assert counter.calls == 0


@pytest.mark.parametrize(
    "path",
    [
        "/api/booking/clients/%2e%2e/sessions",
        "/api/booking/clients/%2E./sessions",
        "/api/booking/clients/.%2e/sessions",
    ],
)
async def test_a_read_only_role_cannot_climb_out_of_its_routes_with_dot_segments(
    gateway: httpx.AsyncClient, unique: str, counter: Counter, path: str
) -> None:
    owner = await owner_token(gateway)
    marketing = await user_token(gateway, owner, MARKETING, unique)
    calls_before = counter.calls

    answer = await gateway.get(path, headers=bearer(marketing))

    assert answer.status_code in (400, 403), answer.text
    assert counter.calls == calls_before


async def test_the_service_sees_the_path_exactly_as_the_caller_encoded_it(
    gateway: httpx.AsyncClient,
) -> None:
    owner = await owner_token(gateway)

    answer = await gateway.get("/api/booking/clients/a%2Fb%20c", headers=bearer(owner))

    assert answer.status_code == 200
    assert answer.json()["raw_path"] == "/clients/a%2Fb%20c"
