"""The policy table: which roles may use which route.

The studio's own people log in and carry one role; the studio's clients have no role and use
links (public routes). The owner may do everything, users included.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kit.errors import Forbidden


class Role(StrEnum):
    OWNER = "owner"
    STAFF = "staff"
    MARKETING = "marketing"


ALL_ROLES = frozenset(Role)
EVERY_METHOD = frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"})
READS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Rule:
    """Requests to `area` (a service, or "gateway") whose path starts with `prefix`; a `*`
    segment of the prefix stands for any one segment (an id)."""

    area: str
    prefix: str
    methods: frozenset[str]
    roles: frozenset[Role]

    def matches(self, area: str, path: str, method: str) -> bool:
        if area != self.area or method not in self.methods:
            return False
        if "*" not in self.prefix:
            return path == self.prefix or path.startswith(self.prefix.rstrip("/") + "/")
        wanted = self.prefix.strip("/").split("/")
        given = path.strip("/").split("/")
        if len(given) < len(wanted):
            return False
        return all((w == "*" and g != "") or w == g for w, g in zip(wanted, given, strict=False))


_OWNER = frozenset({Role.OWNER})
_STUDIO = frozenset({Role.OWNER, Role.STAFF})

# First match wins: the specific rules come before the rule of their whole service.
POLICY: tuple[Rule, ...] = (
    Rule("gateway", "/auth/me", READS, ALL_ROLES),
    Rule("gateway", "/users", EVERY_METHOD, _OWNER),
    Rule("booking", "/clients", READS, ALL_ROLES),
    # Marketing records a client's wish to hear no more (never consent: that is the studio's).
    Rule("booking", "/clients/*/unsubscribe", frozenset({"POST"}), ALL_ROLES),
    # The studio's own settings and its status pipelines: everyone of the studio reads them,
    # only the owner changes them.
    Rule("booking", "/scheduling-settings", EVERY_METHOD - READS, _OWNER),
    Rule("workflow", "/workflow/statuses", EVERY_METHOD - READS, _OWNER),
    # The labs and their credentials: staff see them, the owner sets them.
    Rule("workflow", "/workflow/vendors", EVERY_METHOD - READS, _OWNER),
    Rule("booking", "/", EVERY_METHOD, _STUDIO),
    Rule("workflow", "/", EVERY_METHOD, _STUDIO),
    Rule("render", "/", EVERY_METHOD, _STUDIO),
    Rule("delivery", "/", EVERY_METHOD, _STUDIO),
    Rule("maps", "/", EVERY_METHOD, frozenset({Role.OWNER, Role.MARKETING})),
    # What the studio sends on its own: the owner sets the rules; the studio reads them, the
    # message log, and works its tasks and calls.
    Rule("notify", "/notify/rules/*/preview", frozenset({"POST"}), _STUDIO),
    Rule("notify", "/notify/rules", EVERY_METHOD - READS, _OWNER),
    Rule("notify", "/", EVERY_METHOD, _STUDIO),
)


def roles_for(area: str, path: str, method: str) -> frozenset[Role]:
    """The roles that may send `method` to `path` of `area`; only the owner when no rule says."""
    for rule in POLICY:
        if rule.matches(area, path, method.upper()):
            return rule.roles
    return _OWNER


def authorize(role: Role, area: str, path: str, method: str) -> None:
    """403 unless `role` may send `method` to `path` of `area`."""
    if role not in roles_for(area, path, method):
        raise Forbidden(
            f"The {role.value} role may not use this route.",
            detail={"area": area, "path": path, "method": method.upper()},
        )
