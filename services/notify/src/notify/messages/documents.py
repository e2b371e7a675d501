"""Documents a message carries: the invoice PDF as workflow prints it, read through
workflow's API (never its database), with the SHA-256 workflow recorded for it, so the mail
can be matched to the document later."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import httpx

# notify reads invoices as the studio's staff would.
CALLER = {"X-User-Id": "notify", "X-User-Role": "staff"}


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    sha256: str


class DocumentUnavailable(Exception):
    """Workflow cannot print it now (away, slow, failing): a later try may."""


class DocumentMissing(Exception):
    """Workflow has no such invoice: no try will find it."""


class InvoiceDocuments:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def invoice(self, invoice_id: str) -> Attachment:
        try:
            answer = await self._client.get(f"/workflow/invoices/{invoice_id}/invoice.pdf")
        except httpx.HTTPError as exc:
            raise DocumentUnavailable(f"workflow unreachable: {type(exc).__name__}") from exc
        if answer.status_code == 404:
            raise DocumentMissing(f"workflow has no invoice {invoice_id}")
        if not answer.is_success:
            raise DocumentUnavailable(f"workflow answered {answer.status_code}")
        digest = hashlib.sha256(answer.content).hexdigest()
        recorded = answer.headers.get("X-Document-SHA256")
        if recorded is not None and recorded != digest:
            raise DocumentUnavailable("the invoice changed while it was read")
        return Attachment(f"invoice-{invoice_id}.pdf", answer.content, digest)

    async def aclose(self) -> None:
        await self._client.aclose()
