"""Choosing clients for a map: by a filter over the projection, or by explicit ids."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ClientFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tags: list[str] = Field(default_factory=list, description="The client has every one.")
    organization: str | None = Field(None, description="Exact name, case-insensitive.")
    session_type_ids: list[str] = Field(
        default_factory=list, description="The client booked a session of any of these types."
    )
    last_session_from: date | None = Field(None, description="Last session on or after.")
    last_session_to: date | None = Field(None, description="Last session on or before.")
    postal_code_prefix: str | None = Field(None, min_length=1, max_length=12)
    marketing_consent: bool | None = Field(
        None,
        description="true: only clients who agreed to marketing; false: only those who did "
        "not (or whose consent booking's events have not told yet).",
    )

    @model_validator(mode="after")
    def _ordered_dates(self) -> ClientFilter:
        if (
            self.last_session_from is not None
            and self.last_session_to is not None
            and self.last_session_from > self.last_session_to
        ):
            raise ValueError("last_session_from is after last_session_to")
        return self


class ClientSelection(BaseModel):
    """Exactly one of `client_ids` and `filter`."""

    model_config = ConfigDict(extra="forbid")

    client_ids: list[str] | None = None
    filter: ClientFilter | None = None

    @model_validator(mode="after")
    def _one_way(self) -> ClientSelection:
        if (self.client_ids is None) == (self.filter is None):
            raise ValueError("give either client_ids or filter, not both and not neither")
        return self


class ProjectedClient(BaseModel):
    """A client as maps knows it from booking's events."""

    client_id: str
    first_name: str | None = None
    last_name: str | None = None
    organization: str | None = None
    street: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    tags: list[str] = Field(default_factory=list)
    session_type_ids: list[str] = Field(default_factory=list)
    last_session_at: datetime | None = None
    marketing_consent: bool | None = Field(
        None, description="As booking's last client event said; null: it did not say"
    )

    @property
    def display_name(self) -> str:
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return name or self.organization or self.client_id
