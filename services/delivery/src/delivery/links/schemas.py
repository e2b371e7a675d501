"""What the studio sends and reads about links."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field, model_validator

LinkState = Literal["active", "expired", "revoked", "exhausted", "locked"]


class LinkRequest(BaseModel):
    """One recipient's link: the client or a guest."""

    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    name: str | None = Field(default=None, max_length=200)
    pin: str | None = Field(default=None, pattern=r"^\d{4}$", description="4 digits")
    download_limit: int | None = Field(default=None, ge=1, le=100_000)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)
    expires_in_hours: int | None = Field(
        default=None, ge=1, le=3650 * 24, description="instead of `expires_in_days`"
    )

    @model_validator(mode="after")
    def _one_expiry(self) -> LinkRequest:
        if self.expires_in_days is not None and self.expires_in_hours is not None:
            raise ValueError("Give expires_in_days or expires_in_hours, not both.")
        return self

    def lifetime(self) -> timedelta | None:
        """The link's life as asked (from when it is issued), or None for the default."""
        if self.expires_in_hours is not None:
            return timedelta(hours=self.expires_in_hours)
        if self.expires_in_days is not None:
            return timedelta(days=self.expires_in_days)
        return None


class RenewRequest(BaseModel):
    days: int | None = Field(default=None, ge=1, le=3650, description="default: the studio's")
    hours: int | None = Field(default=None, ge=1, le=3650 * 24, description="instead of `days`")

    @model_validator(mode="after")
    def _one_expiry(self) -> RenewRequest:
        if self.days is not None and self.hours is not None:
            raise ValueError("Give days or hours, not both.")
        return self


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


class PromisedLink(BaseModel):
    """A link of a delivery being made, shown when it is asked for: its URL works (and its
    life starts) once the delivery is ready. Shown this once, like any link's URL."""

    id: str
    url: str
    recipient_email: str | None
    recipient_name: str | None
    pin_required: bool
    download_limit: int | None
    lifetime_hours: float = Field(description="the link's life, counted from the delivery's ready")


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
