"""Message templates: the studio's subject and body, Jinja in a sandbox, with the record's
fields. The text part is the body as written; the HTML part is the same body escaped, its
paragraphs kept, with the unsubscribe link under it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

_LENIENT = SandboxedEnvironment(autoescape=False, undefined=jinja2.Undefined)
_STRICT = SandboxedEnvironment(autoescape=False, undefined=jinja2.StrictUndefined)

# What a template may name; the check at save renders with these sample values, so a typo is
# refused then and not at send time.
SAMPLE_FIELDS: dict[str, Any] = {
    "studio": {"name": "Our Studio"},
    "client": {"first_name": "Ada", "last_name": "Lovelace", "name": "Ada Lovelace"},
    "session": {
        "number": "S-1001",
        "starts_at": "Tuesday 8 December 2026 at 14:00",
        "date": "Tuesday 8 December 2026",
        "time": "14:00",
        "location": "Studio A",
    },
    "status": {"name": "Upload Pending", "due_date": "15 December 2026"},
    "invoice": {"id": "inv_1", "total": "120.00 USD", "amount_due": "60.00 USD"},
    "payment": {"amount": "60.00 USD"},
    "delivery": {
        "title": "Portraits",
        "link_url": "https://studio.example/d/abc",
        "expires": "7 January 2027",
        "file_count": 24,
    },
    "unsubscribe_url": "https://studio.example/u/token",
}


class TemplateInvalid(ValueError):
    """A template that does not parse, or names a field messages do not have."""


def check_template(source: str) -> None:
    """Raises TemplateInvalid with the reason (and line) when `source` cannot render."""
    try:
        _STRICT.from_string(source).render(SAMPLE_FIELDS)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateInvalid(f"line {exc.lineno}: {exc.message}") from exc
    except jinja2.UndefinedError as exc:
        raise TemplateInvalid(f"{exc.message}; known fields: {', '.join(SAMPLE_FIELDS)}") from exc
    except jinja2.TemplateError as exc:
        raise TemplateInvalid(str(exc)) from exc


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str


def render(subject: str, body: str, fields: dict[str, Any]) -> RenderedMessage:
    """The message for these fields (an unknown field renders empty: a record may lack one)."""
    subject_text = " ".join(_LENIENT.from_string(subject).render(fields).split())
    text = _LENIENT.from_string(body).render(fields).strip() + "\n"
    unsubscribe = fields.get("unsubscribe_url")
    if unsubscribe:
        text += f"\n--\nNo more news from {fields['studio']['name']}: {unsubscribe}\n"
    return RenderedMessage(subject_text, text, _html(body, fields))


def _html(body: str, fields: dict[str, Any]) -> str:
    text = _LENIENT.from_string(body).render(fields).strip()
    paragraphs = "".join(
        f"<p>{Markup('<br>').join(escape(line) for line in block.splitlines())}</p>"
        for block in text.split("\n\n")
        if block.strip()
    )
    footer = ""
    unsubscribe = fields.get("unsubscribe_url")
    if unsubscribe:
        footer = (
            f'<p style="color:#666;font-size:0.85em"><a href="{escape(unsubscribe)}">'
            f"No more news from {escape(fields['studio']['name'])}</a></p>"
        )
    body_style = "font-family:sans-serif"
    return f'<!doctype html><html><body style="{body_style}">{paragraphs}{footer}</body></html>'
