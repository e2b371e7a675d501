"""Vendor credentials at rest: Fernet (AES-128-CBC with HMAC-SHA256) under a key derived from
`WORKFLOW_SECRETS_KEY`, so a copy of the database alone does not hold a lab's password."""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken

from kit.errors import Unprocessable

# Binds the derived key to its use: another use of the same setting derives another key.
_PURPOSE = b"studio workflow vendor credentials v1\x00"


def _fernet(secret: str) -> Fernet:
    digest = hashlib.sha256(_PURPOSE + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(secret: str, values: dict[str, str]) -> str:
    return _fernet(secret).encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def unseal(secret: str, token: str) -> dict[str, str]:
    try:
        values: dict[str, str] = json.loads(_fernet(secret).decrypt(token.encode()))
    except InvalidToken as exc:
        raise Unprocessable(
            "The vendor's credentials cannot be read with this WORKFLOW_SECRETS_KEY (was the "
            "key changed?): set them again."
        ) from exc
    return values
