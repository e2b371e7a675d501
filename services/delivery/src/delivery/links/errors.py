"""Why a public link does not answer with files."""

from __future__ import annotations

from kit.errors import Forbidden, Gone, NotFound


class LinkNotFound(NotFound):
    code = "link_not_found"


class LinkGone(Gone):
    """Expired, revoked or exhausted: `detail.reason` says which."""

    code = "link_gone"


class PinRequired(Forbidden):
    code = "pin_required"


class WrongPin(Forbidden):
    """`detail.attempts_left` says how many tries remain before the link locks."""

    code = "wrong_pin"


class PinLocked(Forbidden):
    code = "pin_locked"
