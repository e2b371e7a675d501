"""Settings of the delivery service (env prefix `DELIVERY_`; shared servers from `STUDIO_*`)."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings

MIB = 1024 * 1024


class DeliverySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DELIVERY_", env_file=".env", extra="ignore")

    service: str = "delivery"
    port: int = 8004
    database: str = "delivery"

    # What clients see: the studio's name on the download page, the base of every link URL
    # (the gateway's public address; it proxies /d/<token> unchanged).
    studio_name: str = "Our Studio"
    public_base_url: str = "http://127.0.0.1:8000"

    # Deliveries rendered through named profiles first: render's API (contract B).
    render_url: str = "http://127.0.0.1:8003"
    # A session's groups and selections: workflow's API (its render sets, contract A).
    workflow_url: str = "http://127.0.0.1:8002"

    # Links
    link_expiry_days: int = Field(default=30, ge=1, le=3650)
    # Each download answers with a fresh presigned URL of this life (S3 caps them at 7 days).
    # Short, because S3 honours a URL until it expires whatever happens to its link: this is
    # how long a URL handed out before a revoke can still start a transfer.
    presign_seconds: int = Field(default=60, ge=5, le=7 * 24 * 3600)
    # The S3 address clients reach (the URLs are signed for its host); empty: the one the
    # service itself uses (STUDIO_S3_ENDPOINT_URL).
    public_s3_endpoint_url: str = ""
    pin_max_attempts: int = Field(default=5, ge=1, le=20)
    # A client session of a link (the page's cookie): a file downloaded again or resumed in it
    # counts once. Clients without cookies are matched by address within the same time.
    visit_hours: int = Field(default=24, ge=1, le=24 * 30)

    # Packaging: ZIP archives are split so that none is larger than this cap.
    archive_cap_bytes: int = Field(default=4 * 1024 * MIB, ge=5 * MIB)
    # Multipart part size (S3's minimum is 5 MiB) and part uploads in flight: the ZIP's memory
    # is (concurrency + 1) part buffers, whatever the delivery's size. With the two source
    # reads and two server-side copies, 4 uploads keep within botocore's 10 pooled connections.
    upload_part_bytes: int = Field(default=8 * MIB, ge=5 * MIB, le=512 * MIB)
    upload_concurrency: int = Field(default=4, ge=1, le=32)
    # A packer holds its delivery for this long and renews the hold every third of it while
    # it works; a hold not renewed in time (the packer died) is taken over by another one.
    packaging_lease_seconds: int = Field(default=30, ge=3, le=600)
    # Multipart uploads in the deliveries bucket that no live packer owns are aborted this often.
    upload_sweep_seconds: float = Field(default=300.0, gt=0)

    # Background work in the API process: the packaging queue and the expiry sweep.
    background_work: bool = True
    packaging_poll_seconds: float = 2.0
    expiry_sweep_seconds: float = 60.0
    # A delivery `rendering` with no progress (render's run neither advancing nor ending) for
    # this long is re-asked of render once, then failed with the reason; swept this often.
    rendering_stall_seconds: float = Field(default=1800.0, ge=1)
    rendering_sweep_seconds: float = Field(default=60.0, gt=0)

    # Mail: links are emailed to their recipient when smtp_host is set, from the link's stored
    # state (an outbox): sent at once, else by a sweep in the API process every
    # `mail_sweep_seconds`; a send holds its link for `mail_lease_seconds`; a failed one is
    # retried after `mail_retry_seconds`, doubling, `mail_max_attempts` times in all.
    mail_sweep_seconds: float = Field(default=30.0, gt=0)
    mail_lease_seconds: float = Field(default=300.0, ge=1)
    mail_retry_seconds: float = Field(default=60.0, gt=0)
    mail_max_attempts: int = Field(default=8, ge=1, le=50)
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_sender: str = "deliveries@studio.invalid"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False

    @field_validator("public_s3_endpoint_url")
    @classmethod
    def _an_http_address(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        parts = urlsplit(value)
        if value and (parts.scheme not in ("http", "https") or not parts.netloc):
            raise ValueError("an http:// or https:// address, or empty")
        return value
