"""Signed links for a client to cancel or reschedule their own session without logging in.

The token is an HMAC of the session id and the purpose under the service's link secret: it
works for that session and that action only, and is compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Literal

from kit.errors import Forbidden

Purpose = Literal["cancel", "reschedule"]


def link_token(secret: str, session_id: str, purpose: Purpose) -> str:
    mac = hmac.new(secret.encode(), f"{purpose}:{session_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def check_link_token(secret: str, session_id: str, purpose: Purpose, token: str) -> None:
    expected = link_token(secret, session_id, purpose)
    if not hmac.compare_digest(expected.encode(), token.encode()):
        raise Forbidden(f"This link does not allow to {purpose} this session.")
