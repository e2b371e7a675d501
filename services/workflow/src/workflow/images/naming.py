"""Rename rules and the image-number rule, as pure functions of a file's name."""

from __future__ import annotations

import re

from workflow.images.schemas import ImportOptions

_SAFE_NAME = re.compile(r"^[^/\\\x00-\x1f]+$")


def unsafe_name_reason(name: str) -> str | None:
    """Why a file name cannot be stored as given, or None when it can."""
    if not name or not name.strip():
        return "the file has no name"
    if len(name) > 255:
        return "the file name is longer than 255 characters"
    if not _SAFE_NAME.match(name):
        return "the file name holds a path separator or a control character"
    if name in (".", "..") or name.startswith("."):
        return "the file name starts with a dot"
    return None


def split_name(name: str) -> tuple[str, str]:
    """(stem, extension with its dot, lower case)."""
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        return name, ""
    return stem, f".{extension.lower()}"


def image_number(stem: str, options: ImportOptions) -> int | None:
    """The number the rule reads from the name: `013-S10001` with first 3 -> 13."""
    n = options.number_n
    if options.number_rule == "first":
        part = stem[:n]
    elif options.number_rule == "last":
        part = stem[-n:]
    elif options.number_rule == "from":
        part = stem[n - 1 :]
    else:
        part = stem
    digits = "".join(c for c in part if c.isdigit())
    return int(digits) if digits else None


def stored_name(
    original: str, options: ImportOptions, *, session_number: str, sequence: int | None
) -> str:
    """The name a file is stored under (the extension keeps its original spelling)."""
    stem, _, extension = original.rpartition(".")
    suffix = f".{extension}" if stem else ""
    prefix = _safe_prefix(session_number)
    if options.rename == "session_prefix":
        return f"{prefix}-{original}"
    if options.rename == "renumber" and sequence is not None:
        return f"{prefix}-{sequence:0{options.renumber_digits}d}{suffix}"
    return original


def _safe_prefix(session_number: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", session_number) or "session"
