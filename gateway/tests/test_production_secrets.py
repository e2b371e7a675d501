"""Production refuses weak secrets at start, naming the setting: a JWT key under 32 bytes or
the local development key, and a first owner's password shorter than any the API accepts."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.config import GatewaySettings

_STRONG_KEY = "k" * 32


@pytest.fixture(autouse=True)
def production(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GATEWAY_JWT_SECRET", "GATEWAY_OWNER_EMAIL", "GATEWAY_OWNER_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STUDIO_ENVIRONMENT", "production")
    monkeypatch.setenv("STUDIO_S3_ACCESS_KEY", "production-access-key")
    monkeypatch.setenv("STUDIO_S3_SECRET_KEY", "production-secret-key")
    monkeypatch.setenv("STUDIO_INTERNAL_SECRET", "i" * 32)
    monkeypatch.setenv("GATEWAY_OWNER_EMAIL", "owner@studio.test")
    monkeypatch.setenv("GATEWAY_OWNER_PASSWORD", "the owner's long password")


def test_a_one_byte_jwt_secret_stops_the_gateway_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GATEWAY_JWT_SECRET", "x")

    with pytest.raises(ValidationError, match="GATEWAY_JWT_SECRET is shorter than 32 bytes"):
        GatewaySettings(_env_file=None)  # type: ignore[call-arg]


def test_a_jwt_secret_of_31_bytes_is_refused_and_one_of_32_bytes_is_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GATEWAY_JWT_SECRET", "k" * 31)
    with pytest.raises(ValidationError, match="GATEWAY_JWT_SECRET"):
        GatewaySettings(_env_file=None)  # type: ignore[call-arg]

    # Bytes, not characters: sixteen two-byte characters are 32 bytes.
    monkeypatch.setenv("GATEWAY_JWT_SECRET", "é" * 16)
    assert GatewaySettings(_env_file=None).jwt_secret_value == "é" * 16  # type: ignore[call-arg]


def test_the_local_development_jwt_secret_is_refused_in_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GATEWAY_JWT_SECRET", "studio-local-gateway-jwt-secret-not-for-production")

    with pytest.raises(ValidationError, match="GATEWAY_JWT_SECRET is the local servers' value"):
        GatewaySettings(_env_file=None)  # type: ignore[call-arg]


def test_a_short_first_owner_password_is_refused_in_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GATEWAY_JWT_SECRET", _STRONG_KEY)
    monkeypatch.setenv("GATEWAY_OWNER_PASSWORD", "short")

    with pytest.raises(ValidationError, match="GATEWAY_OWNER_PASSWORD is shorter than 10"):
        GatewaySettings(_env_file=None)  # type: ignore[call-arg]


def test_development_keeps_its_local_key_and_takes_any_length(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STUDIO_ENVIRONMENT", "development")
    monkeypatch.setenv("GATEWAY_JWT_SECRET", "x")

    assert GatewaySettings(_env_file=None).jwt_secret_value == "x"  # type: ignore[call-arg]
