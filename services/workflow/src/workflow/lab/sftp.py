"""Send a production order to a photo lab over SFTP, so the lab never sees half an order.

What the lab finds in `<remote_folder>/<order_id>/`:

    <file> ...           each one uploaded as `.<file>.part`, its size checked on the server,
                         then renamed to its final name
    order-summary.pdf    optional, uploaded the same way
    MANIFEST.sha256      one `<sha256>  <name>` line per file, sorted by name (`sha256sum -c`)
    ORDER_COMPLETE       written last (temp + rename): the lab starts on this file, never before

Names with a leading dot belong to the sender: `.lock` makes concurrent senders of one order
exclusive (created with FXF_CREAT|FXF_EXCL, its mtime refreshed while it is held), and
`.sent.sha256` journals the files already renamed, so a later attempt skips them.

The server is trusted only through its pinned host key: there is no trust-on-first-use and no
`~/.ssh` (keys, agent, config or known_hosts) is ever read.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

import asyncssh
from pydantic import SecretStr

log = logging.getLogger(__name__)

MANIFEST_NAME = "MANIFEST.sha256"
COMPLETE_NAME = "ORDER_COMPLETE"
SUMMARY_NAME = "order-summary.pdf"
LOCK_NAME = ".lock"
JOURNAL_NAME = ".sent.sha256"
RESERVED_NAMES = frozenset({MANIFEST_NAME, COMPLETE_NAME, SUMMARY_NAME})

CHUNK = 1024 * 1024
KEEPALIVE_SECONDS = 15.0
LOCK_POLL_SECONDS = 0.2

_SHA256 = re.compile(r"[0-9a-f]{64}")
_WRITE_NEW = asyncssh.FXF_WRITE | asyncssh.FXF_CREAT | asyncssh.FXF_TRUNC
_CREATE_EXCLUSIVE = asyncssh.FXF_WRITE | asyncssh.FXF_CREAT | asyncssh.FXF_EXCL


class LabError(Exception):
    """Base of every failure to hand an order to a lab; the message is meant for the studio."""


class LabUnreachable(LabError):
    """The lab could not be reached or the connection dropped; sending again may work."""


class LabRefused(LabError):
    """The lab's server said no; sending again will not help until someone fixes the setup."""


class HostKeyMismatch(LabRefused):
    """The server did not prove it holds the pinned host key; nothing was sent."""


class AuthenticationFailed(LabRefused):
    """The lab's server refused the user name, password or key."""


class OrderConflict(LabError):
    """The order is already complete at the lab, with other files than the ones given now."""


class OrderBusy(LabError):
    """Another sender held the order's remote lock for longer than we were willing to wait."""


class SourceChanged(LabError):
    """A file's bytes did not match the size or SHA-256 it was declared with."""


def check_plain_name(name: str, what: str = "file name") -> None:
    """Refuse anything but a plain file name: no folders, no hidden names, no control chars."""
    if not name or name in (".", ".."):
        raise ValueError(f"The {what} {name!r} is empty or a folder reference.")
    if "/" in name or "\\" in name:
        raise ValueError(f"The {what} {name!r} contains a path separator.")
    if name.startswith("."):
        raise ValueError(f"The {what} {name!r} starts with a dot.")
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        raise ValueError(f"The {what} {name!r} contains a control character.")
    if len(name.encode()) > 255:
        raise ValueError(f"The {what} {name[:40]!r}... is longer than 255 bytes.")


@dataclass(frozen=True)
class SftpTarget:
    """Where a lab receives orders; `known_host_key` is the lab's public host key, one line in
    OpenSSH format (`ssh-ed25519 AAAA...`), and is required: we never connect unpinned."""

    host: str
    username: str
    known_host_key: str
    remote_folder: str
    port: int = 22
    password: SecretStr | None = None
    private_key: SecretStr | None = None
    connect_timeout: float = 15.0

    def __post_init__(self) -> None:
        if self.password is None and self.private_key is None:
            raise ValueError("An SFTP target needs a password or a private key.")
        if not 0 < self.port < 65536:
            raise ValueError(f"The port {self.port} is not a TCP port.")
        if not self.remote_folder or "\\" in self.remote_folder:
            raise ValueError(f"The remote folder {self.remote_folder!r} is not a posix path.")
        try:
            asyncssh.import_public_key(self.known_host_key.strip())
        except (asyncssh.KeyImportError, ValueError) as exc:
            raise ValueError(f"The pinned host key is not an OpenSSH public key: {exc}") from exc
        if self.private_key is not None:
            try:
                asyncssh.import_private_key(self.private_key.get_secret_value())
            except (asyncssh.KeyImportError, ValueError) as exc:
                raise ValueError(f"The private key cannot be read: {exc}") from exc

    @property
    def address(self) -> str:
        return f"{self.username}@{self.host}:{self.port}"


@dataclass(frozen=True)
class OrderFile:
    """One file of an order: `open` returns a fresh binary stream of exactly `size` bytes
    whose SHA-256 is `sha256`; it is called once per upload attempt, in a worker thread."""

    name: str
    size: int
    sha256: str
    open: Callable[[], BinaryIO] = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        check_plain_name(self.name)
        if self.size < 0:
            raise ValueError(f"The size of {self.name!r} is negative.")
        if not _SHA256.fullmatch(self.sha256):
            raise ValueError(f"The SHA-256 of {self.name!r} is not 64 lowercase hex digits.")

    @classmethod
    def from_bytes(cls, name: str, body: bytes) -> OrderFile:
        return cls(name, len(body), hashlib.sha256(body).hexdigest(), lambda: io.BytesIO(body))


@dataclass(frozen=True)
class SendReceipt:
    """What one `send_order` call did. `already_complete`: the lab had the order complete
    before this call sent anything. `bytes_sent` counts every byte written, retries included."""

    order_id: str
    remote_path: str
    already_complete: bool
    sent: tuple[str, ...]
    skipped: tuple[str, ...]
    removed: tuple[str, ...]
    attempts: int
    bytes_sent: int
    manifest_sha256: str


def manifest_of(files: Sequence[OrderFile]) -> bytes:
    """The `MANIFEST.sha256` body: `sha256sum` format, sorted by name, so it is deterministic."""
    return "".join(f"{f.sha256}  {f.name}\n" for f in sorted(files, key=lambda f: f.name)).encode()


@dataclass
class _Progress:
    """What this call has done so far, across its attempts."""

    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    bytes_sent: int = 0


async def send_order(
    target: SftpTarget,
    order_id: str,
    files: Sequence[OrderFile],
    *,
    summary_pdf: bytes | None = None,
    attempts: int = 3,
    backoff_seconds: float = 2.0,
    stale_lock_seconds: float = 300.0,
    lock_wait_seconds: float = 900.0,
) -> SendReceipt:
    """Upload an order into `<remote_folder>/<order_id>/` and mark it complete, or do nothing
    if the lab already has it complete with the same manifest.

    A dropped connection (`LabUnreachable`) is retried up to `attempts` times with exponential
    backoff; files already renamed with the right size and SHA-256 are skipped. A wrong host
    key, refused credentials or a server error (`LabRefused`) are not retried, nor are a
    conflicting complete order (`OrderConflict`) or a file that does not match its declared
    checksum (`SourceChanged`).

    The caller must hold a claim (a lease) on the production order while this runs: the
    remote `.lock` keeps two senders from interleaving, and a lock whose mtime is older than
    `stale_lock_seconds` is taken over as abandoned (two senders finding the same stale lock
    at the same instant could both take it; the lease is what excludes that). Idempotence
    lasts as long as the lab keeps the order folder: once the lab moves it away, calling
    again sends the order again, so the caller records the receipt.
    """
    check_plain_name(order_id, "order id")
    if attempts < 1:
        raise ValueError("attempts must be at least 1.")
    if not files:
        raise ValueError(f"Order {order_id} has no files to send.")
    names = [f.name for f in files]
    if len(set(names)) != len(names):
        raise ValueError(f"Order {order_id} names a file twice.")
    if reserved := RESERVED_NAMES.intersection(names):
        raise ValueError(f"Order {order_id} uses reserved names: {', '.join(sorted(reserved))}.")
    everything = list(files)
    if summary_pdf is not None:
        everything.append(OrderFile.from_bytes(SUMMARY_NAME, summary_pdf))

    manifest = manifest_of(everything)
    sender = _OrderSender(
        target,
        order_id,
        everything,
        manifest,
        token=secrets.token_hex(16),
        stale_lock_seconds=stale_lock_seconds,
        lock_wait_seconds=lock_wait_seconds,
    )
    for attempt in range(1, attempts + 1):
        try:
            return await sender.send(attempt)
        except LabUnreachable as exc:
            if attempt == attempts:
                raise LabUnreachable(
                    f"Order {order_id} could not be sent to {target.address} "
                    f"after {attempts} attempt(s): {exc}"
                ) from exc
            delay = backoff_seconds * 2 ** (attempt - 1)
            log.warning(
                "order %s to %s: attempt %d failed (%s), retrying in %.1f s",
                order_id,
                target.address,
                attempt,
                exc,
                delay,
            )
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


class _OrderSender:
    """One order's upload; `send` is one attempt on a fresh connection."""

    def __init__(
        self,
        target: SftpTarget,
        order_id: str,
        files: list[OrderFile],
        manifest: bytes,
        *,
        token: str,
        stale_lock_seconds: float,
        lock_wait_seconds: float,
    ) -> None:
        self._target = target
        self._order_id = order_id
        self._files = files
        self._manifest = manifest
        self._token = token
        self._stale = stale_lock_seconds
        self._lock_wait = lock_wait_seconds
        self._folder = f"{target.remote_folder.rstrip('/') or '/'}/{order_id}".replace("//", "/")
        self._progress = _Progress()
        self._last_refresh = 0.0

    def _path(self, name: str) -> str:
        return f"{self._folder}/{name}"

    def _receipt(self, attempt: int, *, already_complete: bool) -> SendReceipt:
        progress = self._progress
        return SendReceipt(
            order_id=self._order_id,
            remote_path=self._folder,
            already_complete=already_complete,
            sent=tuple(progress.sent),
            skipped=tuple(progress.skipped),
            removed=tuple(progress.removed),
            attempts=attempt,
            bytes_sent=progress.bytes_sent,
            manifest_sha256=hashlib.sha256(self._manifest).hexdigest(),
        )

    async def send(self, attempt: int) -> SendReceipt:
        async with _session(self._target) as sftp:
            root = self._target.remote_folder
            if not await sftp.isdir(root):
                raise LabRefused(
                    f"The folder {root!r} does not exist on {self._target.address}; "
                    "the lab has to create it."
                )
            await _ensure_folder(sftp, self._folder)
            if not await self._complete_at_lab(sftp):
                async with self._lock(sftp):
                    if not await self._complete_at_lab(sftp):
                        await self._upload_all(sftp)
                        return self._receipt(attempt, already_complete=False)
            # A sender that dropped right after the marker may have left its journal.
            with contextlib.suppress(asyncssh.SFTPNoSuchFile):
                await sftp.remove(self._path(JOURNAL_NAME))
            sent = set(self._progress.sent)
            self._progress.skipped = [f.name for f in self._files if f.name not in sent]
            # Complete thanks to an earlier attempt of this very call is not "already there".
            return self._receipt(attempt, already_complete=not sent)

    async def _complete_at_lab(self, sftp: asyncssh.SFTPClient) -> bool:
        if not await sftp.exists(self._path(COMPLETE_NAME)):
            return False
        try:
            remote = await _read(sftp, self._path(MANIFEST_NAME))
        except asyncssh.SFTPNoSuchFile:
            remote = b""
        if remote != self._manifest:
            raise OrderConflict(
                f"Order {self._order_id} is already complete at {self._target.address} "
                "with other files; ask the lab before sending it again."
            )
        return True

    async def _upload_all(self, sftp: asyncssh.SFTPClient) -> None:
        journal = await self._read_journal(sftp)
        for order_file in self._files:
            if await self._already_sent(sftp, order_file, journal):
                if order_file.name not in self._progress.sent:
                    self._progress.skipped.append(order_file.name)
                continue
            await self._upload(sftp, order_file)
            self._progress.sent.append(order_file.name)
            journal[order_file.name] = order_file.sha256
            body = "".join(f"{sha}  {name}\n" for name, sha in journal.items()).encode()
            await self._write_small(sftp, JOURNAL_NAME, body)
        await self._remove_strays(sftp)
        await self._write_small(sftp, MANIFEST_NAME, self._manifest)
        marker = f"{hashlib.sha256(self._manifest).hexdigest()}  {MANIFEST_NAME}\n".encode()
        await self._write_small(sftp, COMPLETE_NAME, marker)
        await sftp.remove(self._path(JOURNAL_NAME))

    async def _already_sent(
        self, sftp: asyncssh.SFTPClient, order_file: OrderFile, journal: dict[str, str]
    ) -> bool:
        if journal.get(order_file.name) != order_file.sha256:
            return False
        return await _size_of(sftp, self._path(order_file.name)) == order_file.size

    async def _read_journal(self, sftp: asyncssh.SFTPClient) -> dict[str, str]:
        try:
            body = await _read(sftp, self._path(JOURNAL_NAME))
        except asyncssh.SFTPNoSuchFile:
            return {}
        journal: dict[str, str] = {}
        for line in body.decode(errors="replace").splitlines():
            sha, _, name = line.partition("  ")
            if _SHA256.fullmatch(sha) and name:
                journal[name] = sha
        return journal

    async def _upload(self, sftp: asyncssh.SFTPClient, order_file: OrderFile) -> None:
        part = self._path(f".{order_file.name}.part")
        digest = hashlib.sha256()
        written = 0
        stream = await asyncio.to_thread(order_file.open)
        try:
            async with sftp.open(part, _WRITE_NEW, encoding=None) as remote:
                while chunk := await asyncio.to_thread(_read_chunk, stream, digest):
                    await remote.write(chunk, written)
                    written += len(chunk)
                    self._progress.bytes_sent += len(chunk)
                    await self._refresh_lock(sftp)
        finally:
            await asyncio.to_thread(stream.close)
        if written != order_file.size or digest.hexdigest() != order_file.sha256:
            await sftp.remove(part)
            raise SourceChanged(
                f"{order_file.name} of order {self._order_id} read as {written} bytes with "
                f"SHA-256 {digest.hexdigest()}, not the {order_file.size} bytes and "
                f"{order_file.sha256} it was declared with; nothing was renamed."
            )
        await self._commit(sftp, part, order_file.name, order_file.size)

    async def _write_small(self, sftp: asyncssh.SFTPClient, name: str, body: bytes) -> None:
        part = self._path(f".{name}.part")
        async with sftp.open(part, _WRITE_NEW, encoding=None) as remote:
            await remote.write(body, 0)
        await self._commit(sftp, part, name, len(body))

    async def _commit(self, sftp: asyncssh.SFTPClient, part: str, name: str, size: int) -> None:
        stored = (await sftp.stat(part)).size
        if stored != size:
            raise LabUnreachable(
                f"the lab stored {stored} of the {size} bytes of {name}; it will be sent again"
            )
        await _replace(sftp, part, self._path(name))

    async def _remove_strays(self, sftp: asyncssh.SFTPClient) -> None:
        """Leave the folder holding exactly the order: leftovers of an earlier version of it
        (a file dropped from the order, a `.part` of an attempt that died) go."""
        expected = {f.name for f in self._files} | {MANIFEST_NAME, COMPLETE_NAME}
        ours = {LOCK_NAME, JOURNAL_NAME}
        for entry in await sftp.readdir(self._folder):
            name = str(entry.filename)
            if name in expected or name in ours or name in (".", ".."):
                continue
            if entry.attrs.type != asyncssh.FILEXFER_TYPE_REGULAR:
                continue
            await sftp.remove(self._path(name))
            if not name.startswith("."):
                self._progress.removed.append(name)
                log.warning("order %s: removed stray %s at the lab", self._order_id, name)

    @contextlib.asynccontextmanager
    async def _lock(self, sftp: asyncssh.SFTPClient) -> AsyncIterator[None]:
        path = self._path(LOCK_NAME)
        deadline = time.monotonic() + self._lock_wait
        while not await self._try_lock(sftp, path):
            try:
                holder = await _read(sftp, path)
                age = time.time() - ((await sftp.stat(path)).mtime or 0)
            except asyncssh.SFTPNoSuchFile:
                continue  # released between our attempt and our look
            if holder == self._token.encode():
                # Ours, left by an attempt of this call whose connection dropped.
                await sftp.utime(path, (time.time(), time.time()))
                break
            if age > self._stale:
                log.warning(
                    "order %s: taking over a lock untouched for %.0f s", self._order_id, age
                )
                with contextlib.suppress(asyncssh.SFTPNoSuchFile):
                    await sftp.remove(path)
                continue
            if time.monotonic() > deadline:
                raise OrderBusy(
                    f"Order {self._order_id} is being sent by another worker to "
                    f"{self._target.address} for longer than {self._lock_wait:.0f} s."
                )
            await asyncio.sleep(LOCK_POLL_SECONDS)
        self._last_refresh = time.monotonic()
        try:
            yield
        finally:
            # After a dropped connection the lock stays; a retry of this call reclaims it by
            # its token, anyone else once it is stale.
            with contextlib.suppress(asyncssh.Error, OSError):
                await sftp.remove(path)

    async def _try_lock(self, sftp: asyncssh.SFTPClient, path: str) -> bool:
        try:
            async with sftp.open(path, _CREATE_EXCLUSIVE, encoding=None) as remote:
                await remote.write(self._token.encode(), 0)
        except asyncssh.SFTPError:
            # SFTP v3 has no "already exists" status: servers answer a generic failure.
            if await sftp.exists(path):
                return False
            raise
        now = time.time()
        # Our clock, not the server's, so every sender measures staleness the same way
        # (SFTP v3 keeps whole seconds: staleness is judged within a second).
        await sftp.utime(path, (now, now))
        return True

    async def _refresh_lock(self, sftp: asyncssh.SFTPClient) -> None:
        if time.monotonic() - self._last_refresh < self._stale / 4:
            return
        now = time.time()
        await sftp.utime(self._path(LOCK_NAME), (now, now))
        self._last_refresh = time.monotonic()


@contextlib.asynccontextmanager
async def _session(target: SftpTarget) -> AsyncIterator[asyncssh.SFTPClient]:
    """An SFTP session to a pinned server; asyncssh's errors become ours."""
    pinned = asyncssh.import_public_key(target.known_host_key.strip())
    client_keys = (
        [asyncssh.import_private_key(target.private_key.get_secret_value())]
        if target.private_key is not None
        else None
    )
    try:
        async with (
            asyncssh.connect(
                target.host,
                target.port,
                username=target.username,
                password=target.password.get_secret_value() if target.password else None,
                client_keys=client_keys,
                known_hosts=([pinned], [], []),
                agent_path=None,
                config=None,
                gss_host=None,
                connect_timeout=target.connect_timeout,
                login_timeout=target.connect_timeout,
                keepalive_interval=KEEPALIVE_SECONDS,
                keepalive_count_max=3,
            ) as connection,
            connection.start_sftp_client() as sftp,
        ):
            yield sftp
    except asyncssh.HostKeyNotVerifiable as exc:
        raise HostKeyMismatch(
            f"{target.host}:{target.port} did not present the pinned host key "
            f"({pinned.get_fingerprint()}); nothing was sent. If the lab changed its server "
            "key, confirm the new one with the lab before pinning it."
        ) from exc
    except asyncssh.PermissionDenied as exc:
        raise AuthenticationFailed(
            f"{target.address} refused the login; check the user name, password or key."
        ) from exc
    except (asyncssh.KeyExchangeFailed, asyncssh.ProtocolNotSupported) as exc:
        raise LabRefused(f"{target.address} and we share no SSH algorithm: {exc.reason}") from exc
    except asyncssh.ChannelOpenError as exc:
        raise LabRefused(f"{target.address} does not offer SFTP: {exc.reason}") from exc
    except (asyncssh.ConnectionLost, asyncssh.SFTPConnectionLost, asyncssh.SFTPNoConnection) as exc:
        raise LabUnreachable(f"the connection to {target.address} dropped: {exc.reason}") from exc
    except asyncssh.DisconnectError as exc:
        raise LabUnreachable(f"{target.address} disconnected: {exc.reason}") from exc
    except asyncssh.SFTPError as exc:
        raise LabRefused(f"{target.address} refused an SFTP request: {exc.reason}") from exc
    except (OSError, TimeoutError) as exc:
        raise LabUnreachable(f"{target.address} cannot be reached: {exc}") from exc


async def _ensure_folder(sftp: asyncssh.SFTPClient, path: str) -> None:
    try:
        await sftp.mkdir(path)
    except asyncssh.SFTPError:
        # Another sender may have made it a moment ago; anything else shows up here.
        if not await sftp.isdir(path):
            raise


async def _read(sftp: asyncssh.SFTPClient, path: str) -> bytes:
    async with sftp.open(path, asyncssh.FXF_READ, encoding=None) as remote:
        body = await remote.read()
    return body if isinstance(body, bytes) else body.encode()


async def _size_of(sftp: asyncssh.SFTPClient, path: str) -> int | None:
    try:
        return (await sftp.stat(path)).size
    except asyncssh.SFTPNoSuchFile:
        return None


async def _replace(sftp: asyncssh.SFTPClient, source: str, target: str) -> None:
    """Rename over an existing file: atomic with posix-rename@openssh.com, else remove first."""
    try:
        await sftp.posix_rename(source, target)
    except asyncssh.SFTPOpUnsupported:
        with contextlib.suppress(asyncssh.SFTPNoSuchFile):
            await sftp.remove(target)
        await sftp.rename(source, target)


def _read_chunk(stream: BinaryIO, digest: hashlib._Hash) -> bytes:
    chunk = stream.read(CHUNK)
    digest.update(chunk)
    return chunk
