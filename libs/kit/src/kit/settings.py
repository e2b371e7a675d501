"""Settings on pydantic-settings.

Where the infrastructure is (`STUDIO_*`) is shared by every service; what is particular to a
service comes from its own prefix (`BOOKING_*`, `RENDER_*`, ...). In production, secrets have
no default and a missing one stops the process at start, as does one shorter than its minimum
or set to the local value; in development and test they fall back to the local servers' values
that `infra/local/servers.sh` starts with.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Environment = Literal["development", "test", "production"]

# Only valid against the loopback servers of infra/local; refused in production.
_LOCAL_SECRETS = {
    "s3_access_key": "studio-local",
    "s3_secret_key": "studio-local-secret",
}


def refuse_weak_secrets(
    settings: BaseSettings,
    *,
    prefix: str,
    minimum_bytes: Mapping[str, int] | None = None,
    local: Mapping[str, str] | None = None,
) -> None:
    """For production: a secret set shorter than its minimum (UTF-8 bytes), or set to its
    published local value, is an error naming the setting. Unset ones are the caller's."""
    problems = []
    for name, minimum in (minimum_bytes or {}).items():
        value = _secret_of(settings, name)
        if value is not None and len(value.encode()) < minimum:
            problems.append(f"{prefix}{name.upper()} is shorter than {minimum} bytes")
    for name, local_value in (local or {}).items():
        if _secret_of(settings, name) == local_value:
            problems.append(f"{prefix}{name.upper()} is the local servers' value")
    if problems:
        raise ValueError(f"production refuses weak secrets: {'; '.join(problems)}")


def _secret_of(settings: BaseSettings, name: str) -> str | None:
    value = getattr(settings, name)
    if value is None:
        return None
    return value.get_secret_value() if isinstance(value, SecretStr) else str(value)


def fill_local_secrets(
    settings: BaseSettings,
    local: dict[str, str],
    *,
    environment: str,
    prefix: str,
    minimum_bytes: Mapping[str, int] | None = None,
) -> None:
    """Secrets left unset: an error naming them in production, the local value otherwise. In
    production a secret under its minimum, or set to the local value, is refused too."""
    missing = [name for name in local if getattr(settings, name) is None]
    if environment == "production":
        if missing:
            names = ", ".join(f"{prefix}{n.upper()}" for n in missing)
            raise ValueError(f"production needs these secrets set: {names}")
        refuse_weak_secrets(settings, prefix=prefix, minimum_bytes=minimum_bytes, local=local)
    for name in missing:
        setattr(settings, name, SecretStr(local[name]))


class InfraSettings(BaseSettings):
    """Addresses and credentials of the shared servers (env prefix `STUDIO_`)."""

    model_config = SettingsConfigDict(env_prefix="STUDIO_", env_file=".env", extra="ignore")

    environment: Environment = "development"
    mongo_url: str = "mongodb://127.0.0.1:27017"
    kafka_bootstrap: str = "127.0.0.1:9092"
    s3_endpoint_url: str = "http://127.0.0.1:7070"
    s3_region: str = "us-east-1"
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None
    images_bucket: str = "studio-images"
    deliveries_bucket: str = "studio-deliveries"
    # Put before every Kafka topic name (and consumer groups keep their own names): lets two
    # platforms share one cluster, e.g. the end-to-end test beside the other tests.
    topic_prefix: str = Field(default="", pattern=r"^[A-Za-z0-9._-]{0,100}$")
    log_level: str = "INFO"
    # A background process (consumers, render worker) touches this file while it runs and its
    # database answers, for a container's health check (`python -m kit.heartbeat <file>`).
    heartbeat_file: str | None = None
    # The secret the gateway and the services sign their calls to services with
    # (`kit.internal_auth`), and whether a service refuses unsigned calls: unset, it does in
    # production (where the secret is then required, 32 bytes at least).
    internal_secret: SecretStr | None = None
    internal_auth: bool | None = None

    @model_validator(mode="after")
    def _secrets(self) -> InfraSettings:
        fill_local_secrets(self, _LOCAL_SECRETS, environment=self.environment, prefix="STUDIO_")
        if self.checks_internal_calls:
            if self.internal_secret is None:
                raise ValueError(
                    "STUDIO_INTERNAL_SECRET is needed when services check internal calls "
                    "(STUDIO_INTERNAL_AUTH, on in production)"
                )
            refuse_weak_secrets(self, prefix="STUDIO_", minimum_bytes={"internal_secret": 32})
        return self

    @property
    def checks_internal_calls(self) -> bool:
        if self.internal_auth is None:
            return self.environment == "production"
        return self.internal_auth

    @property
    def internal_secret_value(self) -> str | None:
        return self.internal_secret.get_secret_value() if self.internal_secret else None

    @property
    def s3_access_key_value(self) -> str:
        assert self.s3_access_key is not None
        return self.s3_access_key.get_secret_value()

    @property
    def s3_secret_key_value(self) -> str:
        assert self.s3_secret_key is not None
        return self.s3_secret_key.get_secret_value()


class ServiceSettings(BaseSettings):
    """Base of each service's settings.

    Subclasses set `env_prefix` and the defaults of `service`, `port` and `database`.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    service: str
    host: str = "127.0.0.1"
    port: int
    database: str
    infra: InfraSettings = Field(default_factory=InfraSettings)
    # How often the outbox relay looks for unpublished events when nothing woke it.
    outbox_poll_seconds: float = 0.5
    # How long the relay gathers writers' hints before a pass, so a burst of writes is one
    # read and one mark-sent update (each a write competing with the writers'), not one each.
    outbox_gather_seconds: float = Field(default=0.05, ge=0, le=5)
    # Addresses or networks (comma-separated) whose `X-Forwarded-For`/`X-Forwarded-Proto` are
    # believed; from anyone else those headers are ignored. Empty: the peer is the client.
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = ()
    # Request limits (kit.limits): a query string; a JSON or form body; a body of files (a
    # route taking `UploadFile`s, or a multipart/octet body to a route reading it itself). A
    # route may set its own with `openapi_extra=body_limit(n)`.
    max_query_bytes: int = Field(default=60 * 1024, ge=1024)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_upload_bytes: int = Field(default=4 * 1024**3, ge=1024)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(item.strip() for item in value.split(",") if item.strip())
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"not an address or network: {item!r}") from None
        return value
