"""Unsubscribe links: the client's id signed with the studio's key, so a link names one client
and cannot be made up for another. Public (no login), used by the client or their mail
program (RFC 8058 one-click: a POST to the same address)."""

from __future__ import annotations

import base64
import hashlib
import hmac


def _mac(secret: bytes, client_id: str) -> str:
    digest = hmac.new(secret, f"unsubscribe:{client_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def unsubscribe_token(secret: bytes, client_id: str) -> str:
    encoded = base64.urlsafe_b64encode(client_id.encode()).decode().rstrip("=")
    return f"{encoded}.{_mac(secret, client_id)}"


def client_of(secret: bytes, token: str) -> str | None:
    """The client a token was made for; None for a token this key did not sign."""
    encoded, _, mac = token.partition(".")
    try:
        client_id = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    if not client_id or not hmac.compare_digest(mac, _mac(secret, client_id)):
        return None
    return client_id
