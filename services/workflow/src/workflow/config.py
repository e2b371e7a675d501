"""Settings of the workflow service (env prefix `WORKFLOW_`; shared servers from `STUDIO_*`)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings, fill_local_secrets

# Unset in development and tests: these; production refuses them and anything shorter.
_LOCAL_SECRETS = {"secrets_key": "local-workflow-secrets-key-not-for-production"}
_MINIMUM_BYTES = {"secrets_key": 32}


class WorkflowSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WORKFLOW_", env_file=".env", extra="ignore")

    service: str = "workflow"
    port: int = 8002
    database: str = "workflow"
    # The studio's work week (0 = Monday ... 6 = Sunday): due dates count only these days.
    work_week: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4])
    # Where archived originals and their manifests go (bucket, then a prefix inside it).
    archive_bucket: str = "studio-archive"
    archive_prefix: str = "archive"
    # How long a delete-images confirmation token stays valid.
    delete_confirmation_seconds: int = Field(default=600, ge=10, le=86_400)
    # Images above this many pixels are refused as decompression bombs (medium format: ~150 MP).
    max_image_pixels: int = Field(default=200_000_000, ge=1)
    # Decoded pixels the process holds at once while checking imports (all imports together):
    # about 3 bytes each for RGB, so the default bounds decoding at about 1 GB; a file larger
    # than this decodes alone.
    decode_budget_pixels: int = Field(default=300_000_000, ge=1_000_000)
    # The studio as its printed documents (invoices, detail sheets) name it.
    studio_name: str = Field(default="Our Studio", max_length=200)
    studio_address: str = Field(default="", max_length=1000)
    document_terms: str = Field(
        default="Payment is due on receipt. Orders are produced once paid in full.",
        max_length=4000,
    )
    # `{studio}` is the studio's name.
    document_copyright: str = Field(
        default=(
            "All images are copyright {studio}. Prints and files are for the client's personal "
            "use; they may not be copied, altered or published without the studio's permission."
        ),
        max_length=2000,
    )
    # How many files of one import are checked and stored at once.
    import_concurrency: int = Field(default=4, ge=1, le=32)
    # How many files one import request may carry.
    max_files_per_import: int = Field(default=500, ge=1, le=10_000)

    # Staged presigned uploads (`uploads/<session>/<upload id>/`) not imported are removed by a
    # sweep this often, once their URLs expired this long ago (an upload begun just before the
    # expiry may still be running).
    upload_sweep_seconds: float = Field(default=300.0, gt=0, le=86_400)
    upload_sweep_grace_seconds: int = Field(default=3600, ge=0, le=7 * 86_400)

    # Encrypts stored credentials (a lab's SFTP password or key); changing it makes them
    # unreadable, to be set again.
    secrets_key: SecretStr | None = None
    # Where vendors' hot folders may be (each one a folder inside it); unset: none allowed.
    hot_folder_root: str | None = None
    # Sending production orders to labs (in the API process): how often queued shipments are
    # looked for, the lease a sender holds (renewed every third of it), and the SFTP retries.
    lab_poll_seconds: float = Field(default=2.0, gt=0, le=300)
    lab_lease_seconds: float = Field(default=120.0, ge=3, le=3600)
    lab_attempts: int = Field(default=3, ge=1, le=10)
    lab_backoff_seconds: float = Field(default=2.0, ge=0, le=300)
    lab_connect_timeout_seconds: float = Field(default=15.0, gt=0, le=120)

    @model_validator(mode="after")
    def _secrets(self) -> WorkflowSettings:
        fill_local_secrets(
            self,
            _LOCAL_SECRETS,
            environment=self.infra.environment,
            prefix="WORKFLOW_",
            minimum_bytes=_MINIMUM_BYTES,
        )
        return self

    def secret(self, name: str) -> str:
        value: SecretStr | None = getattr(self, name)
        assert value is not None
        return value.get_secret_value()

    @field_validator("work_week")
    @classmethod
    def _work_week(cls, days: list[int]) -> list[int]:
        if not days or any(not 0 <= d <= 6 for d in days):
            raise ValueError("the work week needs at least one day, each 0 (Mon) to 6 (Sun)")
        return sorted(set(days))
