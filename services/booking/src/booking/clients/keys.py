"""Normalised look-up keys of a client: what "the same email / phone / name and ZIP" means.

The keys are stored in the client document so duplicate checks are indexed look-ups.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

PHONE_CHARACTERS = set("0123456789+-()./ ")
MIN_PHONE_DIGITS = 5
MAX_PHONE_DIGITS = 20


def normalise_email(email: str | None) -> str | None:
    if not email:
        return None
    return email.strip().lower() or None


def normalise_phone(number: str) -> str:
    """Digits only, keeping a leading `+` (country code); ValueError when it is no phone number."""
    text = number.strip()
    if not text:
        raise ValueError("the phone number is empty")
    if any(ch not in PHONE_CHARACTERS for ch in text):
        raise ValueError("a phone number holds digits, spaces, + - ( ) . / only")
    if "+" in text[1:]:
        raise ValueError("a + may only start a phone number")
    digits = "".join(ch for ch in text if ch.isdigit())
    if not MIN_PHONE_DIGITS <= len(digits) <= MAX_PHONE_DIGITS:
        raise ValueError(
            f"a phone number has {MIN_PHONE_DIGITS} to {MAX_PHONE_DIGITS} digits, not {len(digits)}"
        )
    return ("+" if text.startswith("+") else "") + digits


def _fold(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def normalise_postal_code(code: str | None) -> str:
    return "".join((code or "").split()).casefold()


def name_zip_key(
    first_name: str | None, last_name: str | None, postal_code: str | None
) -> str | None:
    name = _fold(f"{first_name or ''} {last_name or ''}")
    code = normalise_postal_code(postal_code)
    if not name or not code:
        return None
    return f"{name}|{code}"


@dataclass(frozen=True)
class DuplicateKeys:
    email: str | None
    phones: tuple[str, ...]
    name_zip: str | None

    @classmethod
    def of(cls, document: dict[str, Any]) -> DuplicateKeys:
        """The keys of a client document (or of the same shape before it is stored)."""
        address = document.get("address") or {}
        return cls(
            email=normalise_email(document.get("email")),
            phones=tuple(
                dict.fromkeys(normalise_phone(p["number"]) for p in document.get("phones") or [])
            ),
            name_zip=name_zip_key(
                document.get("first_name"), document.get("last_name"), address.get("postal_code")
            ),
        )

    def is_empty(self) -> bool:
        return self.email is None and not self.phones and self.name_zip is None

    def stored(self) -> dict[str, Any]:
        return {
            "email_key": self.email,
            "phone_keys": list(self.phones),
            "name_zip_key": self.name_zip,
        }

    def matched_on(self, other: DuplicateKeys) -> list[str]:
        reasons = []
        if self.email and self.email == other.email:
            reasons.append("email")
        if set(self.phones) & set(other.phones):
            reasons.append("phone")
        if self.name_zip and self.name_zip == other.name_zip:
            reasons.append("name_and_postal_code")
        return reasons

    @classmethod
    def from_stored(cls, document: dict[str, Any]) -> DuplicateKeys:
        return cls(
            email=document.get("email_key"),
            phones=tuple(document.get("phone_keys") or ()),
            name_zip=document.get("name_zip_key"),
        )


# Letters that are not a base letter plus accents, so NFKD leaves them whole.
_WHOLE_LETTERS = str.maketrans(
    {
        "ø": "o",
        "Ø": "o",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "Ð": "d",
        "ł": "l",
        "Ł": "l",
        "þ": "th",
        "Þ": "th",
        "\u0131": "i",  # dotless i
    }
)
# Bump when `fold_for_search` changes: clients whose keys have another version are refolded.
SEARCH_KEYS_VERSION = 1
SEARCH_FIELDS = ("first_name", "last_name", "organization", "email")


def fold_for_search(text: str | None) -> str:
    """Text as search compares it: accents dropped, case folded, spaces collapsed
    ("Zoë Müller" -> "zoe muller", "Straße" -> "strasse")."""
    decomposed = unicodedata.normalize("NFKD", (text or "").translate(_WHOLE_LETTERS))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def search_keys(document: dict[str, Any]) -> dict[str, Any]:
    """Accent- and case-folded copies of the searched text fields, stored as `search` (the
    MongoDB-wire server has no collation, so the folding is done once, on write)."""
    return {
        "v": SEARCH_KEYS_VERSION,
        **{name: fold_for_search(document.get(name)) for name in SEARCH_FIELDS},
    }


def sort_keys(document: dict[str, Any]) -> dict[str, str]:
    """Case-folded copies for case-insensitive search and sort."""
    address = document.get("address") or {}
    return {
        "first_name": _fold(document.get("first_name")),
        "last_name": _fold(document.get("last_name")),
        "organization": _fold(document.get("organization")),
        "email": normalise_email(document.get("email")) or "",
        "postal_code": normalise_postal_code(address.get("postal_code")),
    }
