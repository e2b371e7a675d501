"""A service behind the gateway believes only signed calls: a direct call claiming to be the
owner is refused in the error shape, as is one without a signature, one signed for another
request, or an old one; a call signed by the platform's secret (the gateway's, a peer's) is
answered; probes and documentation answer anyone; production refuses a missing or short
secret."""

from __future__ import annotations

import time

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from kit.internal_auth import HEADER, InternalAuth, sign
from kit.settings import InfraSettings
from kit.testing import build_app, running

SECRET = "an internal secret of more than 32 bytes, for the tests"


def _infra() -> InfraSettings:
    return InfraSettings(environment="test", internal_auth=True, internal_secret=SECRET)


async def test_a_direct_call_claiming_the_owner_is_refused_and_a_signed_one_answered(
    unique: str,
) -> None:
    app = build_app("booking", database=f"t_{unique}", infra=_infra())
    async with running(app) as client:
        forged = await client.get(
            "/scheduling-settings", headers={"X-User-Id": "mallory", "X-User-Role": "owner"}
        )
        bare = await client.get("/clients")
        signed = await client.get(
            "/clients",
            params={"name": "Zoë"},
            auth=InternalAuth(SECRET),
            headers={"X-User-Role": "staff"},
        )
        now = int(time.time())
        other_path = sign(SECRET, method="GET", target="/clients", user="", role="", at=now)
        replayed = await client.get("/scheduling-settings", headers={HEADER: other_path})
        lifted = await client.get(
            "/clients",
            headers={
                HEADER: sign(
                    SECRET, method="GET", target="/clients", user="", role="staff", at=now
                ),
                "X-User-Role": "owner",
            },
        )
        old = sign(SECRET, method="GET", target="/clients", user="", role="", at=now - 120)
        stale = await client.get("/clients", headers={HEADER: old})
        wrong_key = await client.get("/clients", auth=InternalAuth("another secret " * 3))
        probes = [await client.get(p) for p in ("/healthz", "/readyz", "/openapi.json")]

    assert forged.status_code == 401
    body = forged.json()
    assert set(body) == {"error", "message", "detail", "request_id"}
    assert body["error"] == "unauthorized"
    assert "no internal signature" in body["message"]
    assert forged.headers["x-request-id"] == body["request_id"]
    assert bare.status_code == 401
    assert signed.status_code == 200, signed.text
    assert replayed.status_code == 401
    assert "does not match" in replayed.json()["message"]
    assert lifted.status_code == 401  # the role is part of what is signed
    assert stale.status_code == 401
    assert "too old" in stale.json()["message"]
    assert wrong_key.status_code == 401
    assert [p.status_code for p in probes] == [200, 200, 200]


async def test_a_service_answers_unsigned_calls_when_checking_is_off(unique: str) -> None:
    app = build_app("booking", database=f"t_{unique}", infra=InfraSettings(environment="test"))
    async with running(app) as client:
        assert (await client.get("/clients")).status_code == 200


def test_production_checks_calls_and_refuses_a_missing_or_short_secret() -> None:
    with pytest.raises(ValidationError, match="STUDIO_INTERNAL_SECRET is needed"):
        InfraSettings(environment="production", s3_access_key="k" * 20, s3_secret_key="s" * 40)
    with pytest.raises(ValidationError, match="STUDIO_INTERNAL_SECRET is shorter than 32"):
        InfraSettings(
            environment="production",
            s3_access_key="k" * 20,
            s3_secret_key="s" * 40,
            internal_secret="short",
        )
    made = InfraSettings(
        environment="production",
        s3_access_key="k" * 20,
        s3_secret_key="s" * 40,
        internal_secret=SecretStr("x" * 32),
    )
    assert made.checks_internal_calls
    assert not InfraSettings(environment="development").checks_internal_calls


async def test_the_gateway_signs_what_it_forwards_so_a_checking_service_answers_it() -> None:
    seen: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    async with httpx.AsyncClient(
        transport=httpx.MockTransport(upstream), auth=InternalAuth(SECRET)
    ) as client:
        await client.get("http://booking.test/clients?q=a%20b", headers={"X-User-Role": "staff"})
    [request] = seen
    value = request.headers[HEADER]
    at = int(value.split(",")[0].removeprefix("t="))
    assert value == sign(
        SECRET, method="GET", target="/clients?q=a%20b", user="", role="staff", at=at
    )
