"""The path a request is forwarded to, exactly as the caller encoded it, checked first.

The policy table judges the decoded path; the service must see the very same path. Dot segments
would let the two differ (`/clients/../sessions` is judged as a client read, then normalized into
a session route on the way out), so they are refused.
"""

from __future__ import annotations

from urllib.parse import unquote

from fastapi import Request

from kit.errors import BadRequest


def forwarded_path(request: Request, *, drop_segments: int = 0) -> tuple[str, bytes]:
    """The decoded and the raw path of `request` without its first `drop_segments` segments."""
    raw: bytes = request.scope.get("raw_path") or request.scope["path"].encode()
    raw = raw.split(b"?", 1)[0]
    segments = raw.split(b"/")[1 + drop_segments :]
    raw_rest = b"/" + b"/".join(segments)
    decoded = unquote(raw_rest.decode("latin-1"), encoding="utf-8", errors="replace")
    if any(segment in (".", "..") for segment in decoded.split("/")):
        raise BadRequest("A path may not contain '.' or '..' segments.", detail={"path": decoded})
    return decoded, raw_rest
