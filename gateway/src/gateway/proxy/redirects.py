"""Redirects of the services, told in the gateway's own public paths.

A service knows only its own address: its redirects (FastAPI's trailing-slash 307, a 303 after
a form) name `http://<service address>/<path>` or `/<path>`. Passed on as they are, they would
send the caller to an address it must never see (one that answers without a token) or to a
gateway path that does not exist. So a `Location` that points at a service becomes the public
path that reaches the same place through the gateway (`/api/<service>/<path>`, or the public
route's own path); any other address (a presigned storage URL, another site) is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import SplitResult, urlsplit, urlunsplit

# Headers whose value is a URL the caller follows or records.
LOCATION_HEADERS = frozenset({"location", "content-location"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(parts: SplitResult, scheme: str) -> tuple[str, str, int | None] | None:
    try:
        port = parts.port
    except ValueError:
        return None
    scheme = (parts.scheme or scheme).lower()
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme)


class PublicLocations:
    """Maps the services' redirect targets onto the gateway's paths; one per gateway."""

    def __init__(self, upstreams: Mapping[str, str]) -> None:
        self._bases = {service: urlsplit(base) for service, base in upstreams.items()}

    def _service_at(
        self, origin: tuple[str, str, int | None], preferred: str
    ) -> tuple[str, str] | None:
        """The service (and its base path) listening at `origin`, `preferred` first."""
        for service in sorted(self._bases, key=lambda name: name != preferred):
            base = self._bases[service]
            if _origin(base, base.scheme) == origin:
                return service, base.path.rstrip("/")
        return None

    def rewrite(self, location: str, service: str, public_prefix: str) -> str:
        """`location` as `service` sent it, for a caller that reached `service` under
        `public_prefix` (`/api/<service>`, or empty for the public routes)."""
        parts = urlsplit(location.strip())
        base = self._bases.get(service)
        if base is None:
            return location
        if parts.netloc:
            origin = _origin(parts, base.scheme)
            target = self._service_at(origin, service) if origin is not None else None
            if target is None:
                return location  # somewhere else altogether: not a service's address
            target_service, base_path = target
            prefix = public_prefix if target_service == service else f"/api/{target_service}"
        elif parts.path.startswith("/") and not parts.scheme:
            base_path, prefix = base.path.rstrip("/"), public_prefix
        else:
            return location  # relative to the caller's own URL, which is already public
        path = parts.path or "/"
        if base_path and (path == base_path or path.startswith(base_path + "/")):
            path = path[len(base_path) :] or "/"
        # One leading slash: `//host/...` would be read as another site's address.
        path = "/" + path.lstrip("/")
        return urlunsplit(("", "", prefix + path, parts.query, parts.fragment))
