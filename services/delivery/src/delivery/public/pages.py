"""The small HTML pages the studio's clients see (no scripts, no external assets)."""

from __future__ import annotations

from html import escape
from typing import Any

from kit.mongo import Document

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}"
    "li{margin:.3rem 0}.size{color:#666}"
)


def _page(studio: str, title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<meta name=robots content=noindex><title>{escape(title)} - {escape(studio)}</title>"
        f"<style>{_STYLE}</style></head><body><header><strong>{escape(studio)}</strong></header>"
        f"<h1>{escape(title)}</h1>{body}</body></html>"
    )


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def delivery_page(
    studio: str,
    token: str,
    delivery: Document,
    invoices: list[dict[str, Any]] | None = None,
) -> str:
    base = f"/d/{escape(token)}"
    archives = "".join(
        f'<li><a href="{base}/archives/{a["index"]}">{escape(a["name"])}</a> '
        f"<span class=size>{human_size(a['bytes'])}</span></li>"
        for a in delivery["archives"]
    )
    files = "".join(
        f'<li><a href="{base}/files/{i}">{escape(f["name"])}</a> '
        f"<span class=size>{human_size(f['bytes'])}</span></li>"
        for i, f in enumerate(delivery["files"], start=1)
    )
    body = (
        f"<h2>Download all</h2><ul class=archives>{archives}</ul>"
        f"<h2>Files</h2><ul class=files>{files}</ul>"
        "<p>Interrupted downloads can be resumed.</p>"
    )
    if invoices is None:
        body += "<h2>Invoices</h2><p>Your invoices cannot be shown right now; try again later.</p>"
    elif invoices:
        items = "".join(
            f'<li><a href="{base}/invoices/{escape(i["invoice_id"])}.pdf">Invoice '
            f"{escape(i['invoice_id'])}</a> <span class=size>{escape(i['created_at'])}</span></li>"
            for i in invoices
        )
        body += f"<h2>Invoices</h2><ul class=invoices>{items}</ul>"
    return _page(studio, delivery["title"], body)


def pin_page(studio: str, token: str, message: str | None) -> str:
    note = f"<p role=alert>{escape(message)}</p>" if message else ""
    body = (
        f'{note}<form method=post action="/d/{escape(token)}/pin">'
        '<label>PIN <input name=pin inputmode=numeric pattern="[0-9]{4}" maxlength=4 '
        "autocomplete=off required></label> <button>Open</button></form>"
    )
    return _page(studio, "This delivery is protected by a PIN", body)


def message_page(studio: str, title: str, message: str) -> str:
    return _page(studio, title, f"<p>{escape(message)}</p>")
