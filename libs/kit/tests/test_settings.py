"""Settings: shared server addresses from STUDIO_*, per-service prefixes, secrets in production."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from kit.settings import InfraSettings, ServiceSettings


class FrontDeskSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FRONTDESK_")

    service: str = "frontdesk"
    port: int = 8100
    database: str = "frontdesk"


def test_production_refuses_to_start_without_its_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STUDIO_S3_ACCESS_KEY", raising=False)
    monkeypatch.delenv("STUDIO_S3_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="STUDIO_S3_ACCESS_KEY, STUDIO_S3_SECRET_KEY"):
        InfraSettings(environment="production", _env_file=None)  # type: ignore[call-arg]
    assert InfraSettings(environment="development", _env_file=None).s3_access_key_value  # type: ignore[call-arg]


def test_a_service_reads_its_own_prefix_and_the_shared_servers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FRONTDESK_PORT", "9101")
    monkeypatch.setenv("BOOKING_PORT", "9102")
    monkeypatch.setenv("STUDIO_KAFKA_BOOTSTRAP", "127.0.0.1:1234")
    settings = FrontDeskSettings()
    assert settings.port == 9101
    assert settings.database == "frontdesk"
    assert settings.infra.kafka_bootstrap == "127.0.0.1:1234"


def test_production_refuses_the_local_servers_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_S3_ACCESS_KEY", "studio-local")
    monkeypatch.setenv("STUDIO_S3_SECRET_KEY", "studio-local-secret")

    with pytest.raises(ValidationError, match="STUDIO_S3_ACCESS_KEY is the local servers' value"):
        InfraSettings(environment="production", _env_file=None)  # type: ignore[call-arg]
    assert InfraSettings(environment="test", _env_file=None).s3_access_key_value == "studio-local"  # type: ignore[call-arg]
