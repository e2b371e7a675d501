"""What the studio sends and reads about links."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

LinkState = Literal["active", "expired", "revoked", "exhausted", "locked"]


class LinkRequest(BaseModel):
    """One recipient's link: the client or a guest."""

    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    name: str | None = Field(default=None, max_length=200)
    pin: str | None = Field(default=None, pattern=r"^\d{4}$", description="4 digits")
    download_limit: int | None = Field(default=None, ge=1, le=100_000)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class RenewRequest(BaseModel):
    days: int | None = Field(default=None, ge=1, le=3650, description="default: the studio's")


class LinkOut(BaseModel):
    id: str
    delivery_id: str
    recipient_email: str | None
    recipient_name: str | None
    pin_required: bool
    download_limit: int | None
    downloads: int
    expires_at: datetime
    revoked_at: datetime | None
    state: LinkState


class IssuedLink(LinkOut):
    """A new link; its URL is shown this once (only a hash of its token is stored)."""

    url: str


class ResumeOut(BaseModel):
    at: datetime
    range: str | None = Field(description="the request's `Range` header, if it had one")


class DownloadOut(BaseModel):
    """One counted download: a file of a link, once per client session (visit) of the link."""

    link_id: str
    kind: Literal["file", "archive"]
    file_name: str
    bytes: int
    at: datetime
    client_hash: str
    resumes: int = Field(default=0, description="later requests of it in the same visit")
    last_resumed_at: datetime | None = None
    resumed: list[ResumeOut] = Field(default_factory=list, description="the latest resumes")
