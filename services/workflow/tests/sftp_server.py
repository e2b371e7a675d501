"""A real SFTP server for the lab transport tests: asyncssh in-process on loopback, chrooted to
a temporary folder, which records what clients did and can misbehave on request."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh
from pydantic import SecretStr

from workflow.lab.sftp import SftpTarget

USER = "lab"
PASSWORD = "prints-please"
REMOTE_FOLDER = "/incoming"


@dataclass
class LabLog:
    """What the server saw, in order."""

    connections: int = 0
    logins: list[str] = field(default_factory=list)
    opened_for_write: list[str] = field(default_factory=list)
    exclusive_refused: list[str] = field(default_factory=list)
    contended: asyncio.Event = field(default_factory=asyncio.Event)
    renames: list[tuple[str, str]] = field(default_factory=list)
    # The chroot's files (relative path -> size) at the moment the connection was dropped.
    at_drop: list[dict[str, int]] = field(default_factory=list)
    live: list[asyncssh.SSHServerConnection] = field(default_factory=list, repr=False)


@dataclass
class Misbehaviour:
    """Faults to inject: drop the connection once `drop_after_bytes` have been written in it
    (for the next `drops` connections), or hold writes to `hold_writes_to` until `release`."""

    drop_after_bytes: int | None = None
    drops: int = 1
    hold_writes_to: str | None = None
    release: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Lab:
    root: Path
    port: int
    host_key: asyncssh.SSHKey
    client_key: asyncssh.SSHKey
    log: LabLog
    faults: Misbehaviour

    @property
    def folder(self) -> Path:
        return self.root / REMOTE_FOLDER.lstrip("/")

    def files(self) -> dict[str, int]:
        return snapshot(self.root)

    def target(self, **changes: Any) -> SftpTarget:
        values: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.port,
            "username": USER,
            "password": SecretStr(PASSWORD),
            "known_host_key": self.host_key.export_public_key("openssh").decode(),
            "remote_folder": REMOTE_FOLDER,
            "connect_timeout": 5.0,
        }
        values.update(changes)
        return SftpTarget(**values)


def snapshot(root: Path) -> dict[str, int]:
    return {
        str(path.relative_to(root)): path.stat().st_size
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


class _Auth(asyncssh.SSHServer):
    def __init__(self, lab_log: LabLog, client_key: asyncssh.SSHKey) -> None:
        self._log = lab_log
        self._client_key = client_key

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._log.connections += 1
        self._log.live.append(conn)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        ok = username == USER and password == PASSWORD
        if ok:
            self._log.logins.append("password")
        return ok

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        ok = username == USER and key.public_data == self._client_key.public_data
        if ok:
            self._log.logins.append("key")
        return ok


class _RecordingSFTP(asyncssh.SFTPServer):
    def __init__(
        self, chan: asyncssh.SSHServerChannel, root: Path, lab_log: LabLog, faults: Misbehaviour
    ) -> None:
        super().__init__(chan, chroot=str(root).encode())
        self._root = root
        self._log = lab_log
        self._faults = faults
        self._written = 0
        self._handles: dict[int, str] = {}

    def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
        name = path.decode()
        if pflags & asyncssh.FXF_WRITE:
            self._log.opened_for_write.append(name)
        try:
            handle = super().open(path, pflags, attrs)
        except FileExistsError:
            self._log.exclusive_refused.append(name)
            self._log.contended.set()
            raise
        self._handles[id(handle)] = name
        return handle

    async def write(self, file_obj: object, offset: int, data: bytes) -> int:
        faults = self._faults
        name = self._handles.get(id(file_obj), "")
        if faults.hold_writes_to is not None and name.endswith(faults.hold_writes_to):
            try:
                await asyncio.wait_for(faults.release.wait(), timeout=5)
            except TimeoutError:
                raise asyncssh.SFTPFailure("the test never released this write") from None
        limit = faults.drop_after_bytes
        if limit is not None and faults.drops > 0 and self._written + len(data) > limit:
            faults.drops -= 1
            self._log.at_drop.append(snapshot(self._root))
            self.connection.abort()
            return 0
        self._written += len(data)
        result = super().write(file_obj, offset, data)
        assert isinstance(result, int)
        return result

    def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        self._log.renames.append((oldpath.decode(), newpath.decode()))
        super().posix_rename(oldpath, newpath)


@contextlib.asynccontextmanager
async def running_lab(root: Path, faults: Misbehaviour | None = None) -> AsyncIterator[Lab]:
    """An SFTP server on 127.0.0.1 (a free port) whose `/` is `root`; `/incoming` exists."""
    (root / REMOTE_FOLDER.lstrip("/")).mkdir(parents=True, exist_ok=True)
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    lab_log = LabLog()
    faults = faults or Misbehaviour()
    acceptor = await asyncssh.listen(
        "127.0.0.1",
        0,
        server_host_keys=[host_key],
        server_factory=lambda: _Auth(lab_log, client_key),
        sftp_factory=lambda chan: _RecordingSFTP(chan, root, lab_log, faults),
        allow_scp=False,
        config=None,
    )
    try:
        yield Lab(root, acceptor.get_port(), host_key, client_key, lab_log, faults)
    finally:
        acceptor.close()
        for conn in lab_log.live:
            conn.abort()
        await acceptor.wait_closed()
