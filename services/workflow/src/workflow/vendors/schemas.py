"""Vendors as the API takes and answers them; credentials are write-only."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

TransportKind = Literal["manual", "sftp", "http_api", "hot_folder", "email"]
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class SftpSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9.\-\[\]:]+$")
    port: int = Field(default=22, ge=1, le=65535)
    username: str = Field(min_length=1, max_length=100)
    remote_folder: str = Field(default="/", min_length=1, max_length=500, pattern=r"^/[^\\\x00]*$")
    # The lab's public host key, one OpenSSH line (`ssh-ed25519 AAAA...`): always pinned.
    known_host_key: str = Field(min_length=16, max_length=4000)
    auth: Literal["password", "key"] = "password"


class HttpApiSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The lab's API root (https, or http on loopback only), e.g. https://api.lab.example/v1.
    base_url: str = Field(min_length=8, max_length=500)


class TransportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: TransportKind = "manual"
    sftp: SftpSettings | None = None
    http_api: HttpApiSettings | None = None
    # A folder under WORKFLOW_HOT_FOLDER_ROOT, relative to it.
    hot_folder: str | None = Field(default=None, min_length=1, max_length=300)
    email: str | None = Field(default=None, max_length=254, pattern=EMAIL)
    # Write-only secrets: kept encrypted, never answered back; omitted on a change: kept.
    password: SecretStr | None = Field(default=None, max_length=1000)
    private_key: SecretStr | None = Field(default=None, max_length=20_000)
    api_key: SecretStr | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        needs = {
            "sftp": self.sftp,
            "http_api": self.http_api,
            "hot_folder": self.hot_folder,
            "email": self.email,
        }
        if self.kind in needs and needs[self.kind] is None:
            raise ValueError(f"a {self.kind} transport needs its `{self.kind}` settings")
        return self


class TransportOut(BaseModel):
    kind: TransportKind
    sftp: SftpSettings | None
    http_api: HttpApiSettings | None = None
    hot_folder: str | None
    email: str | None
    credentials_set: bool


class VendorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    contact_email: str | None = Field(default=None, max_length=254, pattern=EMAIL)
    notes: str | None = Field(default=None, max_length=4000)
    transport: TransportIn = Field(default_factory=TransportIn)


class VendorUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_email: str | None = Field(default=None, max_length=254, pattern=EMAIL)
    notes: str | None = Field(default=None, max_length=4000)
    transport: TransportIn | None = None
    expected_version: int | None = Field(default=None, ge=1)


class Vendor(BaseModel):
    vendor_id: str
    name: str
    contact_email: str | None
    notes: str | None
    transport: TransportOut
    created_at: datetime
    updated_at: datetime
    version: int


class ConnectionCheck(BaseModel):
    ok: bool
    message: str
