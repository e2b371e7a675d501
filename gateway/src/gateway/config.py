"""Settings of the gateway (env prefix `GATEWAY_`; shared servers from `STUDIO_*`)."""

from __future__ import annotations

from pydantic import SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings, refuse_weak_secrets

# Only for the loopback servers of development and test; production must set its own.
_LOCAL_JWT_SECRET = "studio-local-gateway-jwt-secret-not-for-production"
# In production: the HS256 key at least SHA-256's size; the owner's password at least what
# `NewPassword` (users/schemas.py) asks of any password set through the API.
_JWT_SECRET_MINIMUM_BYTES = 32
_OWNER_PASSWORD_MINIMUM_CHARACTERS = 10


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", env_file=".env", extra="ignore")

    service: str = "gateway"
    port: int = 8000
    database: str = "gateway"
    booking_url: str = "http://127.0.0.1:8001"
    workflow_url: str = "http://127.0.0.1:8002"
    render_url: str = "http://127.0.0.1:8003"
    delivery_url: str = "http://127.0.0.1:8004"
    maps_url: str = "http://127.0.0.1:8005"
    notify_url: str = "http://127.0.0.1:8007"

    # Proxying: a service that does not connect in time answers 502, one that is silent 504.
    upstream_connect_timeout_seconds: float = 3.0
    upstream_read_timeout_seconds: float = 30.0
    # Extra attempts of an idempotent read (GET, HEAD, OPTIONS) that did not reach the service.
    read_retries: int = 2

    # Users and tokens. The first owner is created at start when no user has that email.
    jwt_secret: SecretStr | None = None
    access_token_seconds: int = 900
    refresh_token_days: int = 30
    owner_email: str | None = None
    owner_password: SecretStr | None = None

    # Rate limits: at most N attempts per window, per address and per account.
    login_window_seconds: int = 60
    login_per_address: int = 30
    login_per_account: int = 10
    # One account from one address (see the README's login policy); a client that logged in to
    # an account within `login_known_client_days` is not held by that account's limit.
    login_per_account_address: int = 10
    login_known_client_days: int = 30
    bootstrap_per_address: int = 5
    pin_window_seconds: int = 60
    pin_per_address: int = 20
    pin_per_link: int = 5
    booking_window_seconds: int = 60
    booking_per_address: int = 10
    booking_per_account: int = 5

    @model_validator(mode="after")
    def _secrets(self) -> GatewaySettings:
        if self.infra.environment == "production":
            missing = [
                f"GATEWAY_{name.upper()}"
                for name in ("jwt_secret", "owner_email", "owner_password")
                if getattr(self, name) is None
            ]
            if missing:
                raise ValueError(f"production needs these settings: {', '.join(missing)}")
            refuse_weak_secrets(
                self,
                prefix="GATEWAY_",
                minimum_bytes={"jwt_secret": _JWT_SECRET_MINIMUM_BYTES},
                local={"jwt_secret": _LOCAL_JWT_SECRET},
            )
            password = self.owner_password.get_secret_value() if self.owner_password else ""
            if len(password) < _OWNER_PASSWORD_MINIMUM_CHARACTERS:
                raise ValueError(
                    "production refuses weak secrets: GATEWAY_OWNER_PASSWORD is shorter than "
                    f"{_OWNER_PASSWORD_MINIMUM_CHARACTERS} characters"
                )
        if self.jwt_secret is None:
            self.jwt_secret = SecretStr(_LOCAL_JWT_SECRET)
        return self

    @property
    def jwt_secret_value(self) -> str:
        assert self.jwt_secret is not None
        return self.jwt_secret.get_secret_value()

    @property
    def upstreams(self) -> dict[str, str]:
        return {
            "booking": self.booking_url,
            "workflow": self.workflow_url,
            "render": self.render_url,
            "delivery": self.delivery_url,
            "maps": self.maps_url,
            "notify": self.notify_url,
        }
