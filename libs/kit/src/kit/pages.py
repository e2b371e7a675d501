"""Security headers of the HTML pages a service serves itself (delivery's client pages, the
map pages): a Content-Security-Policy that lets a page run and style only what it carries (its
own inline blocks, by hash) and what the platform serves (`'self'`), `X-Content-Type-Options`,
and frame protection.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from typing import Literal

_BLOCK = {
    tag: re.compile(rf"<{tag}(?P<attrs>[^>]*)>(?P<body>.*?)</{tag}\s*>", re.S | re.I)
    for tag in ("script", "style")
}
_SRC = re.compile(r"\bsrc\s*=", re.I)


def inline_hashes(html: str, tag: Literal["script", "style"]) -> list[str]:
    """The CSP hash sources (`'sha256-...'`) of the page's inline `<script>` or `<style>`
    blocks, in order, each once."""
    hashes: list[str] = []
    for block in _BLOCK[tag].finditer(html):
        if tag == "script" and _SRC.search(block.group("attrs")):
            continue
        digest = hashlib.sha256(block.group("body").encode()).digest()
        source = f"'sha256-{base64.b64encode(digest).decode()}'"
        if source not in hashes:
            hashes.append(source)
    return hashes


def page_headers(
    html: str,
    *,
    scripts: bool,
    images: Sequence[str] = (),
    frame_ancestors: Literal["'none'", "'self'"] = "'none'",
) -> dict[str, str]:
    """The headers of one HTML page. `scripts`: the page may run scripts the platform serves
    and its own inline ones (else none at all); `images`: origins beyond the platform's own
    (map tiles); `frame_ancestors`: who may frame it (none, or the platform's own pages)."""
    script_src = " ".join(["'self'", *inline_hashes(html, "script")]) if scripts else "'none'"
    style_src = " ".join(["'self'", *inline_hashes(html, "style")])
    policy = [
        "default-src 'none'",
        f"script-src {script_src}",
        f"style-src {style_src}",
        " ".join(["img-src 'self' data:", *images]),
        "font-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        f"frame-ancestors {frame_ancestors}",
    ]
    return {
        "Content-Security-Policy": "; ".join(policy),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY" if frame_ancestors == "'none'" else "SAMEORIGIN",
    }
