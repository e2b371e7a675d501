"""Recipient links: unguessable tokens, expiry, PINs with limited attempts, download limits,
revocation, the download log and the expiry sweep."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from delivery.context import DeliveryContext
from delivery.deliveries.repository import DeliveryRepository
from delivery.links.errors import LinkGone, LinkNotFound, PinLocked, PinRequired, WrongPin
from delivery.links.repository import DOWNLOADS, LINKS, LinkRepository
from delivery.links.schemas import (
    DownloadOut,
    IssuedLink,
    LinkOut,
    LinkRequest,
    LinkState,
    RenewRequest,
    ResumeOut,
)
from delivery.notifications.outbox import pending_mail_fields, send_link_mails
from kit.errors import InvalidTransition, NotFound
from kit.events.contracts.delivery import DeliveryDownloaded, DeliveryExpired, DeliveryReady
from kit.events.envelope import Envelope
from kit.mongo import Document

TOKEN_BYTES = 32  # 256 bits
GONE_MESSAGES = {
    "expired": "This download link has expired.",
    "revoked": "This download link was withdrawn by the studio.",
    "exhausted": "This download link has reached its download limit.",
}


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _pin_hash(salt: str, pin: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), 100_000).hex()


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_link_id() -> str:
    return f"lnk_{uuid.uuid4().hex}"


def lifetime_of(ctx: DeliveryContext, delivery: Document, request: LinkRequest) -> timedelta:
    """A link's life: as asked (days or hours), else the delivery's, else the studio's."""
    return request.lifetime() or timedelta(
        days=delivery.get("link_expiry_days") or ctx.settings.link_expiry_days
    )


def new_link(
    ctx: DeliveryContext,
    delivery: Document,
    request: LinkRequest,
    now: datetime,
    *,
    token: str | None = None,
    link_id: str | None = None,
) -> tuple[Document, str]:
    """A link document (only the token's hash is kept) and its token, shown once; the token
    and id are the ones promised when the delivery was asked for, if it was."""
    token = token or new_token()
    salt = secrets.token_hex(16)
    document: Document = {
        "_id": link_id or new_link_id(),
        "delivery_id": delivery["_id"],
        "session_id": delivery.get("session_id"),
        "token_hash": _hash(token),
        "recipient_email": request.email,
        "recipient_name": request.name,
        "pin_salt": salt,
        "pin_hash": _pin_hash(salt, request.pin) if request.pin else None,
        "grants": [],
        "download_limit": request.download_limit,
        "expires_at": now + lifetime_of(ctx, delivery, request),
        "revoked_at": None,
        "expired_notified": False,
        "created_at": now,
        **pending_mail_fields(ctx, request.email, link_url(ctx, token)),
    }
    return document, token


def link_url(ctx: DeliveryContext, token: str) -> str:
    return f"{ctx.settings.public_base_url.rstrip('/')}/d/{token}"


def ready_event(ctx: DeliveryContext, delivery: Document, link: Document, token: str) -> Envelope:
    return ctx.event(
        DeliveryReady(
            delivery_id=delivery["_id"],
            session_id=delivery.get("session_id"),
            link_id=link["_id"],
            link_url=link_url(ctx, token),
            recipient_email=link["recipient_email"],
            expires_at=link["expires_at"],
            recipient_name=link["recipient_name"],
            run_id=delivery.get("run_id"),
            pin_required=link["pin_hash"] is not None,
            file_count=len(delivery.get("files", [])),
            total_bytes=sum(f["bytes"] for f in delivery.get("files", [])),
            title=delivery.get("title"),
        ),
        delivery_id=delivery["_id"],
    )


def state_of(link: Document, now: datetime, max_attempts: int) -> LinkState:
    if link["revoked_at"] is not None:
        return "revoked"
    if link["expires_at"] <= now:
        return "expired"
    limit = link["download_limit"]
    if limit is not None and link.get("downloads", 0) >= limit:
        return "exhausted"
    if link["pin_hash"] is not None and link.get("pin_failures", 0) >= max_attempts:
        return "locked"
    return "active"


def link_out(ctx: DeliveryContext, link: Document, now: datetime) -> LinkOut:
    return LinkOut(
        id=link["_id"],
        delivery_id=link["delivery_id"],
        recipient_email=link["recipient_email"],
        recipient_name=link["recipient_name"],
        pin_required=link["pin_hash"] is not None,
        download_limit=link["download_limit"],
        downloads=link.get("downloads", 0),
        expires_at=link["expires_at"],
        revoked_at=link["revoked_at"],
        state=state_of(link, now, ctx.settings.pin_max_attempts),
    )


def issued(ctx: DeliveryContext, link: Document, token: str, now: datetime) -> IssuedLink:
    return IssuedLink(**link_out(ctx, link, now).model_dump(), url=link_url(ctx, token))


async def issue_link(ctx: DeliveryContext, delivery: Document, request: LinkRequest) -> IssuedLink:
    """A further link to a ready delivery; announced with `delivery.delivery.ready.v1`."""
    if delivery["status"] != "ready":
        raise InvalidTransition(
            f"Links are issued once the delivery is ready; it is {delivery['status']}.",
            detail={"status": delivery["status"]},
        )
    now = datetime.now(UTC)
    link, token = new_link(ctx, delivery, request, now)
    await LinkRepository(ctx.db).insert(link, [ready_event(ctx, delivery, link, token)])
    ctx.events_written(LINKS, link["_id"])
    if link["mail_pending"]:
        await send_link_mails(ctx, [link["_id"]])
    return issued(ctx, link, token, now)


async def links_of(ctx: DeliveryContext, delivery_id: str) -> list[LinkOut]:
    now = datetime.now(UTC)
    return [
        link_out(ctx, link, now) for link in await LinkRepository(ctx.db).for_delivery(delivery_id)
    ]


async def _studio_link(ctx: DeliveryContext, delivery_id: str, link_id: str) -> Document:
    link = await LinkRepository(ctx.db).get(delivery_id, link_id)
    if link is None:
        raise NotFound("No such link for this delivery.", detail={"link_id": link_id})
    return link


async def revoke_link(ctx: DeliveryContext, delivery_id: str, link_id: str) -> LinkOut:
    """Withdraw a link at once; later requests answer 410. Revoking twice is harmless."""
    link = await _studio_link(ctx, delivery_id, link_id)
    now = datetime.now(UTC)
    updated = await LinkRepository(ctx.db).set_fields(
        link["_id"], {"revoked_at": None}, {"revoked_at": now}
    )
    return link_out(ctx, updated or await _studio_link(ctx, delivery_id, link_id), now)


async def renew_link(
    ctx: DeliveryContext, delivery_id: str, link_id: str, request: RenewRequest
) -> LinkOut:
    """A new expiry counted from now (days or hours); a revoked link stays revoked."""
    link = await _studio_link(ctx, delivery_id, link_id)
    if link["revoked_at"] is not None:
        raise InvalidTransition("A revoked link cannot be renewed; issue a new one.")
    now = datetime.now(UTC)
    if request.hours is not None:
        expires = now + timedelta(hours=request.hours)
    else:
        expires = now + timedelta(days=request.days or ctx.settings.link_expiry_days)
    updated = await LinkRepository(ctx.db).set_fields(
        link["_id"], {"revoked_at": None}, {"expires_at": expires, "expired_notified": False}
    )
    if updated is None:
        raise InvalidTransition("The link was revoked meanwhile.")
    return link_out(ctx, updated, now)


async def downloads_of(ctx: DeliveryContext, delivery_id: str, limit: int) -> list[DownloadOut]:
    return [
        DownloadOut(
            link_id=d["link_id"],
            kind=d["kind"],
            file_name=d["file_name"],
            bytes=d["bytes"],
            at=d["at"],
            client_hash=d["client_hash"],
            resumes=d.get("resumes", 0),
            last_resumed_at=d.get("last_resumed_at"),
            resumed=[ResumeOut(at=r["at"], range=r.get("range")) for r in d.get("resumed", [])],
        )
        for d in await LinkRepository(ctx.db).downloads_of(delivery_id, limit)
    ]


# --- the public side: /d/<token> ---


@dataclass(frozen=True)
class OpenLink:
    link: Document
    delivery: Document
    unlocked: bool


async def open_link(
    ctx: DeliveryContext, token: str, grant: str | None, *, exhausted_ok: bool = False
) -> OpenLink:
    """The link behind `token` if it may still be used; raises LinkGone/LinkNotFound/PinLocked.

    `exhausted_ok`: a link at its download limit still opens (to resume what was counted)."""
    link = await LinkRepository(ctx.db).by_token_hash(_hash(token))
    if link is None:
        raise LinkNotFound("There is no delivery at this address.")
    now = datetime.now(UTC)
    state = state_of(link, now, ctx.settings.pin_max_attempts)
    if state == "exhausted" and exhausted_ok:
        pass
    elif state in GONE_MESSAGES:
        raise LinkGone(GONE_MESSAGES[state], detail={"reason": state})
    if state == "locked":
        raise PinLocked(
            "Too many wrong PINs: this link is locked. Ask the studio for a new one.",
            detail={"attempts_left": 0},
        )
    delivery = await DeliveryRepository(ctx.db).get(link["delivery_id"])
    if delivery is None or delivery["status"] != "ready":
        raise LinkNotFound("There is no delivery at this address.")
    unlocked = link["pin_hash"] is None or (
        grant is not None and _hash(grant) in link.get("grants", [])
    )
    return OpenLink(link, delivery, unlocked)


async def unlock(ctx: DeliveryContext, token: str, pin: str) -> str:
    """A grant (cookie value) for the right PIN; a wrong one costs an attempt, then locks."""
    opened = await open_link(ctx, token, None)
    link = opened.link
    repository = LinkRepository(ctx.db)
    if link["pin_hash"] is None:
        return ""  # nothing to unlock
    if hmac.compare_digest(_pin_hash(link["pin_salt"], pin), link["pin_hash"]):
        grant = secrets.token_urlsafe(24)
        await repository.add_grant(link["_id"], _hash(grant))
        return grant
    maximum = ctx.settings.pin_max_attempts
    attempt = await repository.take_slot(link["_id"], "wrong_pin", maximum)
    left = 0 if attempt is None else maximum - attempt
    if left == 0:
        raise PinLocked(
            "Too many wrong PINs: this link is locked. Ask the studio for a new one.",
            detail={"attempts_left": 0},
        )
    raise WrongPin(
        f"Wrong PIN; {left} attempt{'s' if left != 1 else ''} left.",
        detail={"attempts_left": left},
    )


VISIT_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
RANGE_START = re.compile(r"^\s*bytes\s*=\s*(\d+)\s*-")


def new_visit() -> str:
    """A client session of a link (the page sets it as a cookie): downloads count once in it."""
    return secrets.token_urlsafe(18)


def valid_visit(value: str | None) -> str | None:
    return value if value is not None and VISIT_PATTERN.match(value) else None


def resumes_midway(byte_range: str | None) -> bool:
    """A `Range` that starts past the first byte: the rest of a download begun before."""
    found = RANGE_START.match(byte_range or "")
    return found is not None and int(found.group(1)) > 0


async def download(
    ctx: DeliveryContext,
    token: str,
    grant: str | None,
    *,
    kind: Literal["file", "archive"],
    index: int,
    client_address: str,
    visit: str | None = None,
    byte_range: str | None = None,
) -> str:
    """A fresh short-lived presigned URL for one file, after counting the download.

    A download counts (and is charged to the link's limit, logged and announced) once per
    file per client session of the link: the visit the page's cookie names. A later request
    for the same file in that visit (a resume with `Range`, or the file asked again) is
    logged on that download as a resume and costs nothing. A client that keeps no cookies
    (a download manager, curl) resuming with a `Range` past byte 0 is matched to its own
    download of that file by its address within `DELIVERY_VISIT_HOURS`. A link at its
    limit still resumes what it counted.
    """
    opened = await open_link(ctx, token, grant, exhausted_ok=True)
    if not opened.unlocked:
        raise PinRequired("This delivery is protected by a PIN.")
    entries = opened.delivery["files" if kind == "file" else "archives"]
    if not 1 <= index <= len(entries):
        raise NotFound(f"This delivery has no {kind} number {index}.")
    entry = entries[index - 1]
    repository = LinkRepository(ctx.db)
    link = opened.link
    now = datetime.now(UTC)
    # Salted with the link id: a log can be matched per link, not reversed into addresses.
    client_hash = _hash(f"{link['_id']}:{client_address}")[:32]
    visit = valid_visit(visit)
    download_id = (
        "dl_" + _hash(f"{link['_id']}:{kind}:{index}:{visit or 'anon:' + new_visit()}")[:32]
    )
    resume = {"at": now, "range": (byte_range or "")[:100] or None}
    earlier: Document | None = None
    if visit is not None:
        earlier = await repository.download(download_id)
    elif resumes_midway(byte_range):
        earlier = await repository.last_download_by(
            link["_id"],
            kind,
            entry["name"],
            client_hash,
            since=now - timedelta(hours=ctx.settings.visit_hours),
        )
    if earlier is not None:
        await repository.record_resume(earlier["_id"], resume)
        return _presigned(ctx, entry)
    limit = link["download_limit"]
    slot = None
    if limit is not None:
        slot = await repository.take_slot(link["_id"], "download", limit)
        if slot is None:
            raise LinkGone(GONE_MESSAGES["exhausted"], detail={"reason": "exhausted"})
    event = ctx.event(
        DeliveryDownloaded(
            delivery_id=link["delivery_id"],
            link_id=link["_id"],
            file_name=entry["name"],
            bytes=entry["bytes"],
            downloaded_at=now,
            session_id=link.get("session_id"),
            kind=kind,
        ),
        delivery_id=link["delivery_id"],
    )
    counted = await repository.log_download(
        {
            "_id": download_id,
            "delivery_id": link["delivery_id"],
            "link_id": link["_id"],
            "kind": kind,
            "index": index,
            "file_name": entry["name"],
            "key": entry["key"],
            "bytes": entry["bytes"],
            "at": now,
            "client_hash": client_hash,
            "visit_hash": _hash(visit)[:32] if visit is not None else None,
            "resumes": 0,
            "resumed": [],
            "last_resumed_at": None,
        },
        [event],
    )
    if counted:
        ctx.events_written(DOWNLOADS, download_id)
    else:
        # The same visit asked twice at once: the other request counted it; this is a resume.
        if slot is not None:
            await repository.release_slot(link["_id"], "download", slot)
        await repository.record_resume(download_id, resume)
    return _presigned(ctx, entry)


def _presigned(ctx: DeliveryContext, entry: Document) -> str:
    return ctx.presigner.presign_get(
        ctx.settings.infra.deliveries_bucket,
        entry["key"],
        expires_in=ctx.settings.presign_seconds,
        download_name=entry["name"],
    )


async def sweep_expired(ctx: DeliveryContext, *, batch: int = 500) -> int:
    """Announce every link that has lapsed since the last sweep, once each."""
    repository = LinkRepository(ctx.db)
    now = datetime.now(UTC)
    announced: list[str] = []
    while True:
        due = await repository.due_for_expiry(now, batch)
        for link in due:
            event = ctx.event(
                DeliveryExpired(
                    delivery_id=link["delivery_id"],
                    link_id=link["_id"],
                    expired_at=link["expires_at"],
                    session_id=link.get("session_id"),
                ),
                delivery_id=link["delivery_id"],
            )
            if await repository.mark_expired(link, now, [event]):
                announced.append(link["_id"])
        if len(due) < batch:
            break
    if announced:
        ctx.events_written(LINKS, *announced)
    return len(announced)
