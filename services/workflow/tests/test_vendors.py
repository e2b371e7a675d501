"""The studio records its labs and how each receives orders: SFTP with a pinned host key and a
password or key kept encrypted and never answered back, a hot folder inside the allowed root,
email, or by hand."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import asyncssh
import pytest
from pydantic import SecretStr, ValidationError
from workflow_harness import Workflow

from kit.errors import Unprocessable
from kit.settings import InfraSettings
from workflow.config import WorkflowSettings
from workflow.vendors.schemas import TransportIn, VendorUpdate
from workflow.vendors.service import VendorService

HOST_KEY = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
PASSWORD = "lab-password-4471"


def _sftp(**changes: Any) -> dict[str, Any]:
    return {
        "kind": "sftp",
        "sftp": {
            "host": "sftp.lab.example",
            "port": 2222,
            "username": "studio42",
            "remote_folder": "/incoming",
            "known_host_key": HOST_KEY,
            "auth": "password",
        },
        "password": PASSWORD,
        **changes,
    }


async def _vendor(workflow: Workflow, name: str, transport: dict[str, Any]) -> Any:
    return await workflow.client.post(
        "/workflow/vendors", json={"name": name, "transport": transport}
    )


async def test_an_sftp_lab_keeps_its_password_encrypted_and_never_answers_it(
    workflow: Workflow, unique: str
) -> None:
    made = await _vendor(workflow, f"Miller's {unique}", _sftp())
    assert made.status_code == 201, made.text
    vendor = made.json()
    assert vendor["transport"]["kind"] == "sftp"
    assert vendor["transport"]["credentials_set"] is True
    assert vendor["transport"]["sftp"]["known_host_key"] == HOST_KEY
    listed = await workflow.client.get("/workflow/vendors")
    read = await workflow.client.get(f"/workflow/vendors/{vendor['vendor_id']}")
    for answer in (made, listed, read):
        assert PASSWORD not in answer.text
    stored = await workflow.db["vendors"].find_one({"_id": vendor["vendor_id"]})
    assert PASSWORD not in json.dumps(stored, default=str)
    service = VendorService(workflow.context)
    assert await service.credentials(vendor["vendor_id"]) == {"password": PASSWORD}

    # A change of contact, or of the SFTP settings without a password, keeps the password.
    changed = await workflow.client.patch(
        f"/workflow/vendors/{vendor['vendor_id']}",
        json={"contact_email": "orders@lab.example", "expected_version": 1},
    )
    assert changed.status_code == 200, changed.text
    moved = _sftp()
    del moved["password"]
    moved["sftp"]["remote_folder"] = "/orders"
    kept = await workflow.client.patch(
        f"/workflow/vendors/{vendor['vendor_id']}", json={"transport": moved}
    )
    assert kept.status_code == 200, kept.text
    assert kept.json()["transport"]["sftp"]["remote_folder"] == "/orders"
    assert kept.json()["version"] == 3
    assert await service.credentials(vendor["vendor_id"]) == {"password": PASSWORD}
    # A stale version is refused and changes nothing.
    stale = await workflow.client.patch(
        f"/workflow/vendors/{vendor['vendor_id']}", json={"notes": "x", "expected_version": 1}
    )
    assert stale.status_code == 409
    # Handing orders over by hand from now on drops the credentials.
    manual = await workflow.client.patch(
        f"/workflow/vendors/{vendor['vendor_id']}", json={"transport": {"kind": "manual"}}
    )
    assert manual.json()["transport"] == {
        "kind": "manual",
        "sftp": None,
        "http_api": None,
        "hot_folder": None,
        "email": None,
        "credentials_set": False,
    }
    assert await service.credentials(vendor["vendor_id"]) == {}


async def test_a_lab_is_refused_without_a_pinned_key_or_its_credentials_and_names_are_unique(
    workflow: Workflow, unique: str
) -> None:
    bad_key = _sftp()
    bad_key["sftp"]["known_host_key"] = "ssh-ed25519 not-a-key-at-all"
    refused = await _vendor(workflow, f"A {unique}", bad_key)
    assert refused.status_code == 422
    assert refused.json()["detail"] == {"field": "transport.sftp.known_host_key"}
    keyless = _sftp()
    keyless["sftp"]["auth"] = "key"
    without = await _vendor(workflow, f"B {unique}", keyless)
    assert without.status_code == 422
    assert "private_key" in without.json()["message"]
    bad_private = await _vendor(workflow, f"C {unique}", {**keyless, "private_key": "nope"})
    assert bad_private.status_code == 422
    no_settings = await _vendor(workflow, f"D {unique}", {"kind": "sftp"})
    assert no_settings.status_code == 422
    # A key works, the name is unique whatever its case, hot folders are off unless allowed.
    key = asyncssh.generate_private_key("ssh-ed25519").export_private_key().decode()
    made = await _vendor(workflow, f"Key Lab {unique}", {**keyless, "private_key": key})
    assert made.status_code == 201, made.text
    again = await _vendor(workflow, f"KEY LAB {unique}", {"kind": "manual"})
    assert again.status_code == 409
    plain_http = await _vendor(
        workflow,
        f"F {unique}",
        {"kind": "http_api", "http_api": {"base_url": "http://lab.example/api"}, "api_key": "k"},
    )
    assert plain_http.status_code == 422
    assert plain_http.json()["detail"] == {"field": "transport.http_api.base_url"}
    no_key = await _vendor(
        workflow, f"G {unique}", {"kind": "http_api", "http_api": {"base_url": "https://a.b"}}
    )
    assert no_key.status_code == 422
    hot = await _vendor(workflow, f"E {unique}", {"kind": "hot_folder", "hot_folder": "printer"})
    assert hot.status_code == 422
    assert "WORKFLOW_HOT_FOLDER_ROOT" in hot.json()["message"]
    assert await workflow.db["vendors"].count_documents({"name": {"$regex": unique}}) == 1


async def test_a_hot_folder_stays_inside_the_allowed_root(
    workflow: Workflow, unique: str, tmp_path: Path
) -> None:
    settings = workflow.context.settings.model_copy(update={"hot_folder_root": str(tmp_path)})
    service = VendorService(dataclasses.replace(workflow.context, settings=settings))
    from workflow.vendors.schemas import VendorCreate

    made = await service.create(
        VendorCreate(
            name=f"Printer {unique}",
            transport=TransportIn(kind="hot_folder", hot_folder="epson/queue"),
        )
    )
    assert made.transport.hot_folder == "epson/queue"
    for escaping in ("../etc", "/etc", ".", "epson/../../x"):
        with pytest.raises(Unprocessable):
            await service.update(
                made.vendor_id,
                VendorUpdate(transport=TransportIn(kind="hot_folder", hot_folder=escaping)),
            )
    assert (await service.get(made.vendor_id)).transport.hot_folder == "epson/queue"


async def test_credentials_sealed_under_another_key_are_refused_readably(
    workflow: Workflow, unique: str
) -> None:
    made = (await _vendor(workflow, f"Rotated {unique}", _sftp())).json()
    other = workflow.context.settings.model_copy(
        update={"secrets_key": SecretStr("another key of at least thirty-two bytes")}
    )
    service = VendorService(dataclasses.replace(workflow.context, settings=other))
    with pytest.raises(Unprocessable, match="set them again"):
        await service.credentials(made["vendor_id"])


def test_production_needs_a_strong_secrets_key() -> None:
    production = InfraSettings(
        environment="production",
        internal_secret="i" * 40,
        s3_access_key="studio-access",
        s3_secret_key="s" * 40,
    )
    with pytest.raises(ValidationError, match="WORKFLOW_SECRETS_KEY"):
        WorkflowSettings(infra=production, secrets_key=None)
    with pytest.raises(ValidationError, match="WORKFLOW_SECRETS_KEY is shorter than 32 bytes"):
        WorkflowSettings(infra=production, secrets_key="short")
    strong = WorkflowSettings(infra=production, secrets_key="k" * 32)
    assert strong.secret("secrets_key") == "k" * 32
