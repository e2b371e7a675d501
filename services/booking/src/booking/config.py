"""Settings of the booking service (env prefix `BOOKING_`; shared servers from `STUDIO_*`)."""

from __future__ import annotations

from pydantic import SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings, fill_local_secrets

# Only good against stripe-mock and loopback; refused in production.
_LOCAL_SECRETS = {
    "stripe_api_key": "sk_test_local",
    "stripe_webhook_secret": "whsec_local_test_secret",
    "link_secret": "local-link-secret-not-for-production",
}
# HMAC keys: in production at least this many bytes (32 is SHA-256's own size).
_MINIMUM_BYTES = {"link_secret": 32}


class BookingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BOOKING_", env_file=".env", extra="ignore")

    service: str = "booking"
    port: int = 8001
    database: str = "booking"

    # Opening hours are entered in the studio's local time.
    timezone: str = "UTC"
    # Online bookings with a deposit are held this long for the payment, then freed.
    hold_minutes: int = 30
    # How far ahead of now the earliest online start may be.
    online_lead_minutes: int = 60
    # Where clients reach the public routes (through the gateway); used in signed links.
    public_base_url: str = "http://127.0.0.1:8000"
    stripe_api_base: str | None = None  # None: Stripe itself; stripe-mock locally
    stripe_api_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    link_secret: SecretStr | None = None
    # The consumer process (`python -m booking.consumers`): workflow's invoices, to be paid.
    workflow_topic: str = "workflow.events"
    # Clients who used an unsubscribe link (notify's events) lose marketing consent here.
    notify_topic: str = "notify.events"
    consumer_group: str = "booking"

    @model_validator(mode="after")
    def _secrets(self) -> BookingSettings:
        fill_local_secrets(
            self,
            _LOCAL_SECRETS,
            environment=self.infra.environment,
            prefix="BOOKING_",
            minimum_bytes=_MINIMUM_BYTES,
        )
        if self.stripe_api_base is None and self.infra.environment != "production":
            self.stripe_api_base = "http://127.0.0.1:12111"
        return self

    def secret(self, name: str) -> str:
        value: SecretStr | None = getattr(self, name)
        assert value is not None
        return value.get_secret_value()
