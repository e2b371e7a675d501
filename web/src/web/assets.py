"""Static files under names that carry their content's hash, served with long cache headers.

`asset("css/app.css")` in a template gives `/static/css/app.<hash>.css`; a changed file gets a
new name, so browsers may keep each one for a year. Vendor libraries come from npm at pinned
versions (`web/package.json`), copied into `static/vendor/` by `make web-assets`.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

STATIC = Path(__file__).parent / "static"
_HASHED = re.compile(r"^(?P<stem>.+)\.(?P<hash>[0-9a-f]{12})(?P<suffix>\.[A-Za-z0-9]+)$")
_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


class Assets:
    def __init__(self, root: Path = STATIC) -> None:
        self.root = root
        self._hashes: dict[str, str] = {}
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                name = path.relative_to(root).as_posix()
                self._hashes[name] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]

    def url(self, name: str) -> str:
        digest = self._hashes.get(name)
        if digest is None:
            raise LookupError(f"no static file {name!r}; run `make web-assets` for vendor files")
        stem, dot, suffix = name.rpartition(".")
        return f"/static/{stem}.{digest}{dot}{suffix}"

    def router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)

        @router.get("/static/{name:path}")
        async def static_file(name: str) -> Response:
            match = _HASHED.match(name)
            plain = f"{match['stem']}{match['suffix']}" if match else name
            if plain not in self._hashes:
                return Response("Not found", status_code=404, media_type="text/plain")
            path = self.root / plain
            current = match is not None and self._hashes[plain] == match["hash"]
            cache = "public, max-age=31536000, immutable" if current else "no-cache"
            return FileResponse(
                path,
                media_type=_TYPES.get(path.suffix),
                headers={"Cache-Control": cache},
            )

        return router
