"""HTML to PDF: the Jinja environment of the documents and WeasyPrint's call."""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from PIL import Image

from workflow.documents.engine import HTML, URLFetcher
from workflow.invoices.schemas import Crop

# Currencies without minor units (ISO 4217 exponent 0) among those a studio may bill in.
ZERO_DECIMAL = frozenset({"JPY", "KRW", "ISK", "CLP", "VND", "HUF"})
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$", "CHF": "CHF "}
# A thumbnail's long edge in pixels (about 300 dpi at the detail sheet's 38 mm).
THUMBNAIL_EDGE = 450


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("workflow.documents", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["percent"] = percent
    return env


def percent(value: Decimal) -> str:
    """8.2500 as 8.25 and 10 as 10 (not 1E+1)."""
    return f"{value.normalize():f}"


@cache
def stylesheet() -> str:
    return (resources.files("workflow.documents") / "templates" / "documents.css").read_text()


def money_formatter(currency: str) -> Any:
    code = currency.upper()
    digits = 0 if code in ZERO_DECIMAL else 2
    prefix = SYMBOLS.get(code, f"{code} ")

    def money(minor: int) -> str:
        sign = "-" if minor < 0 else ""
        value = abs(minor) / (10**digits)
        return f"{sign}{prefix}{value:,.{digits}f}"

    return money


def pdf_moment(moment: datetime) -> str:
    """A date as the PDF's `dcterms` metadata takes it (UTC, to the second)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_pdf(template: str, **context: Any) -> bytes:
    """The template rendered to HTML, then to PDF. Documents fetch nothing from anywhere: every
    image they show is inline (`data:` URLs), and a URL of any other kind fails the document."""
    html = environment().get_template(template).render(css=stylesheet(), **context)
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    pdf: bytes = HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf()
    return pdf


def crop_text(crop: Crop | None) -> str | None:
    if crop is None:
        return None
    text = (
        f"{crop.width * 100:.0f}% x {crop.height * 100:.0f}% from "
        f"{crop.x * 100:.0f}%, {crop.y * 100:.0f}%"
    )
    return text + (f", rotated {crop.rotation:g} degrees" if crop.rotation else "")


def thumbnail(preview: bytes, crop: Crop | None) -> str:
    """The preview cropped as the line will print, as a small JPEG `data:` URL."""
    with Image.open(io.BytesIO(preview)) as image:
        image.load()
        picture = image.convert("RGB")
    if crop is not None:
        width, height = picture.size
        box = (
            round(crop.x * width),
            round(crop.y * height),
            round((crop.x + crop.width) * width),
            round((crop.y + crop.height) * height),
        )
        picture = picture.crop(box)
        if crop.rotation:
            picture = picture.rotate(-crop.rotation, expand=True, fillcolor="white")
    picture.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE))
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=82, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()
