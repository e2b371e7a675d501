"""What the studio sends and reads about deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from delivery.links.schemas import LinkOut, LinkRequest, PromisedLink

DeliveryStatus = Literal["rendering", "pending", "packaging", "ready", "failed"]


class DeliveryRequest(BaseModel):
    """Deliver a set of a session's images (keys in the images bucket, or a whole folder)."""

    session_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    title: str | None = Field(default=None, max_length=200)
    include_invoices: bool = Field(
        default=False,
        description="the client may download the session's invoices (PDF, as workflow prints "
        "them) from the delivery page",
    )
    keys: list[str] | None = Field(default=None, min_length=1, max_length=10_000)
    folder: Literal["hires", "retouched"] | None = Field(
        default=None, description="every image of the session's folder, when `keys` is absent"
    )
    group_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="the images of this workflow group of the session, in the group's order "
        "(each as its retouched file when it has one), instead of `keys` or `folder`",
    )
    selection: Literal["selected", "not_selected", "undecided"] | None = Field(
        default=None,
        description="the session's images rated so in workflow (`selected`: the client's "
        "selection); with `group_id`, the group's images rated so",
    )
    min_stars: int | None = Field(
        default=None, ge=0, le=5, description="with `selection` or `group_id`, or alone"
    )
    profile_ids: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=10,
        description="render the images through these render profiles first (e.g. watermarked "
        "low-res) and deliver the renders; the delivery is `rendering` until the run ends",
    )
    recipients: list[LinkRequest] = Field(
        default_factory=lambda: [LinkRequest()], min_length=1, max_length=50
    )


class FileOut(BaseModel):
    index: int
    name: str
    bytes: int
    sha256: str


class ArchiveOut(BaseModel):
    index: int
    name: str
    bytes: int
    files: list[str]


class DeliveryOut(BaseModel):
    id: str
    session_id: str | None
    run_id: str | None
    title: str
    status: DeliveryStatus
    failure: str | None
    profile_ids: list[str] | None = None
    render_run_id: str | None = None
    include_invoices: bool = False
    file_count: int
    files: list[FileOut]
    archives: list[ArchiveOut]
    created_at: datetime
    ready_at: datetime | None
    links: list[LinkOut] = Field(default_factory=list)
    issued_links: list[PromisedLink] = Field(
        default_factory=list,
        description="in the answer that asks for the delivery only: each recipient's link with "
        "its URL (it works once the delivery is ready)",
    )
