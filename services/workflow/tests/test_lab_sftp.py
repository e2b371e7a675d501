"""Sending a production order to a photo lab over SFTP, against a real asyncssh server on
loopback chrooted to the test's folder."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
from pathlib import Path

import asyncssh
import pytest
from pydantic import SecretStr
from sftp_server import REMOTE_FOLDER, Lab, Misbehaviour, running_lab

from workflow.lab.sftp import (
    COMPLETE_NAME,
    MANIFEST_NAME,
    SUMMARY_NAME,
    AuthenticationFailed,
    HostKeyMismatch,
    LabRefused,
    LabUnreachable,
    OrderConflict,
    OrderFile,
    SourceChanged,
    manifest_of,
    send_order,
)

BIG = 8 * 1024 * 1024
SUMMARY = b"%PDF-1.7\n% order summary for the lab\n"


def an_order(big_size: int = BIG) -> list[OrderFile]:
    """Two small prints first, then a big one, so a drop in the big one follows completed files."""
    return [
        OrderFile.from_bytes("0001-portrait.jpg", os.urandom(200_000)),
        OrderFile.from_bytes("0002-family.tif", os.urandom(300_000)),
        OrderFile.from_bytes("0003-canvas-60x90.tif", os.urandom(big_size)),
    ]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def order_folder(lab: Lab, order_id: str) -> Path:
    return lab.folder / order_id


def assert_complete(lab: Lab, order_id: str, files: list[OrderFile]) -> None:
    """The folder holds exactly the order: every file intact, manifest, marker, nothing else."""
    folder = order_folder(lab, order_id)
    everything = [*files, OrderFile.from_bytes(SUMMARY_NAME, SUMMARY)]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*(f.name for f in everything), MANIFEST_NAME, COMPLETE_NAME]
    )
    for order_file in everything:
        assert sha256_of(folder / order_file.name) == order_file.sha256, order_file.name
    manifest = (folder / MANIFEST_NAME).read_bytes()
    assert manifest == manifest_of(everything)
    assert manifest.decode().splitlines()[0] == f"{files[0].sha256}  {files[0].name}"
    marker = (folder / COMPLETE_NAME).read_text()
    assert marker == f"{hashlib.sha256(manifest).hexdigest()}  {MANIFEST_NAME}\n"


async def test_a_complete_order_arrives_with_matching_checksums(tmp_path: Path) -> None:
    files = an_order()
    async with running_lab(tmp_path) as lab:
        key = lab.client_key.export_private_key().decode()
        target = lab.target(password=None, private_key=SecretStr(key))
        receipt = await send_order(target, "PO-1001", files, summary_pdf=SUMMARY)

    assert_complete(lab, "PO-1001", files)
    assert set(lab.log.logins) == {"key"}  # asyncssh asks twice: offer, then signature
    assert not receipt.already_complete
    assert receipt.sent == (*(f.name for f in files), SUMMARY_NAME)
    assert receipt.skipped == ()
    assert receipt.attempts == 1
    assert receipt.bytes_sent == sum(f.size for f in files) + len(SUMMARY)
    assert receipt.remote_path == f"{REMOTE_FOLDER}/PO-1001"
    # Every final name came from a rename of a temporary one, the marker last.
    assert lab.log.renames[-1] == (
        f"{REMOTE_FOLDER}/PO-1001/.{COMPLETE_NAME}.part",
        f"{REMOTE_FOLDER}/PO-1001/{COMPLETE_NAME}",
    )
    assert not any(name.endswith(f.name) for name in lab.log.opened_for_write for f in files)


async def test_a_dropped_upload_leaves_no_complete_looking_file_and_is_retried(
    tmp_path: Path,
) -> None:
    files = an_order()
    faults = Misbehaviour(drop_after_bytes=500_000 + BIG // 2)
    async with running_lab(tmp_path, faults) as lab:
        receipt = await send_order(
            lab.target(), "PO-1002", files, summary_pdf=SUMMARY, backoff_seconds=0.05
        )

    [at_drop] = lab.log.at_drop
    prefix = f"{REMOTE_FOLDER.lstrip('/')}/PO-1002"
    # When the connection died the big file existed only under its temporary name, short.
    assert f"{prefix}/{files[2].name}" not in at_drop
    assert at_drop[f"{prefix}/.{files[2].name}.part"] < BIG
    assert f"{prefix}/{MANIFEST_NAME}" not in at_drop
    assert f"{prefix}/{COMPLETE_NAME}" not in at_drop
    assert_complete(lab, "PO-1002", files)
    assert receipt.attempts == 2
    assert lab.log.connections == 2
    # The two small prints were complete before the drop: the retry did not send them again.
    part_opens = [n for n in lab.log.opened_for_write if n.endswith(".part")]
    assert part_opens.count(f"{REMOTE_FOLDER}/PO-1002/.{files[0].name}.part") == 1
    assert part_opens.count(f"{REMOTE_FOLDER}/PO-1002/.{files[2].name}.part") == 2


async def test_a_later_send_resumes_an_abandoned_order_after_its_lock_goes_stale(
    tmp_path: Path,
) -> None:
    files = an_order()
    faults = Misbehaviour(drop_after_bytes=500_000 + BIG // 2)
    async with running_lab(tmp_path, faults) as lab:
        with pytest.raises(LabUnreachable, match="after 1 attempt"):
            await send_order(lab.target(), "PO-1003", files, attempts=1)
        folder = order_folder(lab, "PO-1003")
        assert not (folder / files[2].name).exists()
        assert not (folder / COMPLETE_NAME).exists()
        assert (folder / ".lock").exists()

        receipt = await send_order(
            lab.target(), "PO-1003", files, summary_pdf=SUMMARY, stale_lock_seconds=1.0
        )

    assert_complete(lab, "PO-1003", files)
    assert receipt.skipped == (files[0].name, files[1].name)
    assert receipt.sent == (files[2].name, SUMMARY_NAME)


async def test_a_wrong_host_key_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    impostor = asyncssh.generate_private_key("ssh-ed25519").export_public_key("openssh")
    async with running_lab(tmp_path) as lab:
        target = lab.target(known_host_key=impostor.decode())
        with pytest.raises(HostKeyMismatch, match="did not present the pinned host key"):
            await send_order(target, "PO-1004", an_order(1000), backoff_seconds=0)

    assert lab.log.connections == 1  # refused once, not retried
    assert lab.log.logins == []
    assert lab.files() == {}


async def test_bad_credentials_are_refused_clearly_and_not_retried(tmp_path: Path) -> None:
    async with running_lab(tmp_path) as lab:
        target = lab.target(password=SecretStr("guess"))
        with pytest.raises(AuthenticationFailed, match="refused the login"):
            await send_order(target, "PO-1005", an_order(1000), backoff_seconds=0)

    assert lab.log.connections == 1
    assert lab.files() == {}


async def test_two_concurrent_senders_deliver_the_order_once(tmp_path: Path) -> None:
    files = an_order()
    # The first sender's big file waits until the second sender has been refused the lock.
    faults = Misbehaviour(hold_writes_to=f".{files[2].name}.part")
    async with running_lab(tmp_path, faults) as lab:

        async def release_when_contended() -> None:
            await lab.log.contended.wait()
            faults.release.set()

        async with asyncio.timeout(10), asyncio.TaskGroup() as senders:
            senders.create_task(release_when_contended())
            first = senders.create_task(
                send_order(lab.target(), "PO-1006", files, summary_pdf=SUMMARY)
            )
            second = senders.create_task(
                send_order(lab.target(), "PO-1006", files, summary_pdf=SUMMARY)
            )
        receipts = [first.result(), second.result()]

    assert_complete(lab, "PO-1006", files)
    assert sorted(r.already_complete for r in receipts) == [False, True]
    assert lab.log.exclusive_refused[0] == f"{REMOTE_FOLDER}/PO-1006/.lock"
    big_part = f"{REMOTE_FOLDER}/PO-1006/.{files[2].name}.part"
    assert lab.log.opened_for_write.count(big_part) == 1


async def test_sending_a_complete_order_again_sends_nothing(tmp_path: Path) -> None:
    files = an_order(1000)
    async with running_lab(tmp_path) as lab:
        await send_order(lab.target(), "PO-1007", files)
        writes = len(lab.log.opened_for_write)
        again = await send_order(lab.target(), "PO-1007", files)
        changed = [files[0], files[1], OrderFile.from_bytes(files[2].name, b"other")]
        with pytest.raises(OrderConflict, match="already complete"):
            await send_order(lab.target(), "PO-1007", changed)

    assert again.already_complete
    assert again.sent == ()
    assert len(lab.log.opened_for_write) == writes


@pytest.mark.parametrize(
    "name", ["prints/0001.jpg", "..\\0001.jpg", ".hidden.jpg", "..", "bad\x00name.jpg", ""]
)
def test_a_file_name_that_is_not_plain_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="file name"):
        OrderFile.from_bytes(name, b"x")


async def test_an_order_id_with_a_path_is_refused_before_connecting(tmp_path: Path) -> None:
    async with running_lab(tmp_path) as lab:
        with pytest.raises(ValueError, match="path separator"):
            await send_order(lab.target(), "../PO-1008", an_order(1000))

    assert lab.log.connections == 0


async def test_a_file_that_changed_since_it_was_hashed_is_not_delivered(tmp_path: Path) -> None:
    declared = OrderFile.from_bytes("0001.jpg", b"the bytes that were hashed")
    changed = OrderFile("0001.jpg", declared.size, declared.sha256, lambda: _stream(b"x" * 26))
    async with running_lab(tmp_path) as lab:
        with pytest.raises(SourceChanged, match="declared"):
            await send_order(lab.target(), "PO-1009", [changed])

    assert not (order_folder(lab, "PO-1009") / "0001.jpg").exists()
    assert sorted(order_folder(lab, "PO-1009").iterdir()) == []


async def test_a_missing_lab_folder_is_refused(tmp_path: Path) -> None:
    async with running_lab(tmp_path) as lab:
        with pytest.raises(LabRefused, match="does not exist"):
            await send_order(lab.target(remote_folder="/nowhere"), "PO-1010", an_order(1000))

    assert lab.log.connections == 1


def _stream(body: bytes) -> io.BytesIO:
    return io.BytesIO(body)
