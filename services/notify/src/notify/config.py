"""Settings of the notify service (env prefix `NOTIFY_`; shared servers from `STUDIO_*`)."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings, fill_local_secrets

# Unset in development and tests: this; production refuses it and anything shorter.
_LOCAL_SECRETS = {"unsubscribe_secret": "local-notify-unsubscribe-key-not-for-production"}
_MINIMUM_BYTES = {"unsubscribe_secret": 32}


class NotifySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFY_", env_file=".env", extra="ignore")

    service: str = "notify"
    port: int = 8007
    database: str = "notify"

    consumer_group: str = "notify"
    booking_topic: str = "booking.events"
    workflow_topic: str = "workflow.events"
    delivery_topic: str = "delivery.events"

    # What clients see: the studio's name in messages, the gateway's public address (the
    # unsubscribe links are public routes of it).
    studio_name: str = "Our Studio"
    public_base_url: str = "http://127.0.0.1:8000"
    # Invoice PDFs attached to messages: workflow's API.
    workflow_url: str = "http://127.0.0.1:8002"
    # Schedules are computed in the studio's zone ("09:00 the day before" is local time).
    time_zone: str = "UTC"
    # Quiet hours per channel, local time ("21:00-08:00"); a message due inside them waits
    # until they end. Empty: none.
    quiet_hours_email: str = ""
    quiet_hours_sms: str = "21:00-08:00"

    # Unsubscribe links are signed with this key (changing it breaks the links already sent).
    unsubscribe_secret: SecretStr | None = None

    # Email (SMTP). No host: emails fall back as a rule says (to a call record by default).
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_sender: str = "studio@studio.invalid"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)

    # SMS through an HTTP provider (see messages/sms.py). No URL: SMS falls back.
    sms_url: str | None = None
    sms_api_key: SecretStr | None = None
    sms_sender: str = "Studio"

    # The dispatcher: due actions are looked for this often (and at once when the consumer
    # schedules one due now); a claimed action is another process's for `claim_seconds`.
    dispatch_seconds: float = Field(default=1.0, gt=0)
    claim_seconds: int = Field(default=60, ge=5)
    max_attempts: int = Field(default=5, ge=1, le=50)
    retry_seconds: float = Field(default=30.0, gt=0)
    # A process that was down sends what fell due within this window and marks older ones
    # missed (shown to staff), never sending them late without saying so.
    catch_up_hours: float = Field(default=6.0, ge=0)
    # The API process runs no dispatcher; the consumer process does (tests run their own).
    dispatcher: bool = True

    @field_validator(
        "unsubscribe_secret",
        "sms_api_key",
        "smtp_password",
        "smtp_username",
        "smtp_host",
        "sms_url",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _secrets(self) -> NotifySettings:
        fill_local_secrets(
            self,
            _LOCAL_SECRETS,
            environment=self.infra.environment,
            prefix="NOTIFY_",
            minimum_bytes=_MINIMUM_BYTES,
        )
        return self

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)
