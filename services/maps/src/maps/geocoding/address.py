"""Addresses as the geocoding cache knows them: one key for every spelling of one place.

The key is built from the country, the postal code and the street line; city and region
only count when there is no postal code, because within one postal code they are spelled
in many ways ("Rochester" and "Henrietta", "NY" and "New York") for the same place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kit.events.contracts.booking import PostalAddress

_COUNTRIES = {
    "US": "US",
    "USA": "US",
    "U S": "US",
    "U S A": "US",
    "UNITED STATES": "US",
    "UNITED STATES OF AMERICA": "US",
    "AMERICA": "US",
    "CA": "CA",
    "CANADA": "CA",
    "UK": "GB",
    "GB": "GB",
    "UNITED KINGDOM": "GB",
    "GREAT BRITAIN": "GB",
}

# USPS Publication 28 abbreviations for the words that are spelled out most often.
_WORDS = {
    "STREET": "ST",
    "STR": "ST",
    "AVENUE": "AVE",
    "AV": "AVE",
    "AVN": "AVE",
    "ROAD": "RD",
    "DRIVE": "DR",
    "BOULEVARD": "BLVD",
    "LANE": "LN",
    "COURT": "CT",
    "PLACE": "PL",
    "TERRACE": "TER",
    "CIRCLE": "CIR",
    "HIGHWAY": "HWY",
    "PARKWAY": "PKWY",
    "SQUARE": "SQ",
    "TRAIL": "TRL",
    "EXPRESSWAY": "EXPY",
    "CRESCENT": "CRES",
    "ROUTE": "RTE",
    "MOUNT": "MT",
    "SAINT": "ST",
    "FORT": "FT",
    "NORTH": "N",
    "SOUTH": "S",
    "EAST": "E",
    "WEST": "W",
    "NORTHEAST": "NE",
    "NORTHWEST": "NW",
    "SOUTHEAST": "SE",
    "SOUTHWEST": "SW",
    "APARTMENT": "APT",
    "#": "APT",
    "NO": "APT",
    "SUITE": "STE",
    "FLOOR": "FL",
    "BUILDING": "BLDG",
    "ROOM": "RM",
    "DEPARTMENT": "DEPT",
    "POST OFFICE BOX": "PO BOX",
    "P O BOX": "PO BOX",
}
_PHRASES = {k: v for k, v in _WORDS.items() if " " in k}


def _words(text: str | None) -> str:
    """Upper case, punctuation gone, '#' kept as a word of its own, whitespace collapsed."""
    if not text:
        return ""
    text = re.sub(r"['\u2019]", "", text.upper()).replace("#", " # ")
    text = re.sub(r"[^\w# ]+", " ", text)
    return " ".join(text.split())


def _street(text: str | None) -> str:
    line = _words(text)
    for phrase, short in _PHRASES.items():
        line = re.sub(rf"\b{phrase}\b", short, line)
    return " ".join(_WORDS.get(word, word) for word in line.split())


def normalise_country(text: str | None, default: str) -> str:
    words = _words(text)
    if not words:
        return default
    return _COUNTRIES.get(words, words)


def normalise_postal_code(text: str | None, country: str) -> str:
    words = _words(text)
    if country == "US":
        digits = re.sub(r"\D", "", words)
        if len(digits) == 9:  # ZIP+4
            return digits[:5]
        if 3 <= len(digits) < 5:  # a spreadsheet ate the leading zeros of "02134"
            return digits.zfill(5)
        return digits
    return words


@dataclass(frozen=True)
class NormalisedAddress:
    street: str
    city: str
    region: str
    postal_code: str
    country: str

    @property
    def is_blank(self) -> bool:
        return not (self.street or self.city or self.postal_code)

    @property
    def key(self) -> str:
        """The cache key: equal for two spellings of one address."""
        if self.postal_code:
            return f"{self.country}|{self.postal_code}|{self.street}"
        return f"{self.country}||{self.street}|{self.city}|{self.region}"

    @property
    def postal_code_key(self) -> str:
        """The cache key of the postal code alone (the pin of a postal-code map)."""
        return f"{self.country}|{self.postal_code}|"

    def postal_code_only(self) -> NormalisedAddress:
        return NormalisedAddress("", "", "", self.postal_code, self.country)


def normalise(address: PostalAddress | None, *, default_country: str) -> NormalisedAddress:
    if address is None:
        return NormalisedAddress("", "", "", "", default_country)
    country = normalise_country(address.country, default_country)
    return NormalisedAddress(
        street=_street(address.street),
        city=_words(address.city),
        region=_words(address.region),
        postal_code=normalise_postal_code(address.postal_code, country),
        country=country,
    )
