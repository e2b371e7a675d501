"""Sending a 500 MB production order over local SFTP with workflow's lab transport, next to
asyncssh's plain `put` of the same files to the same server, in the same run; and the sender's
peak memory.

    make bench-lab_sftp

The server is asyncssh's SFTP server on loopback, chrooted to a temporary folder, in this
process. Each send runs in a fresh child process (its peak RSS is its own): the transport
(`workflow.lab.sftp.send_order`: `.part` uploads, a size check and a rename per file, the
manifest and the marker, the remote lock and journal) or the anchor (`SFTPClient.put` of each
file, nothing else). The files are random bytes (they do not compress), five of 100 MB.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import peak_rss_mib, report, summary

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

FILES = 5
FILE_BYTES = 100 * 2**20
REPEATS = 3
USER, PASSWORD = "lab", "bench-password"


def _prepare(source: Path, root: Path) -> list[tuple[str, int, str]]:
    source.mkdir()
    root.mkdir()
    files = _make_files(source)
    (source / "files.json").write_text(json.dumps(files))
    return files


def _make_files(folder: Path) -> list[tuple[str, int, str]]:
    made = []
    for index in range(FILES):
        path = folder / f"IMG_{index:04d}.jpg"
        digest = hashlib.sha256()
        with path.open("wb") as out:
            for _ in range(FILE_BYTES // 2**20):
                chunk = os.urandom(2**20)
                digest.update(chunk)
                out.write(chunk)
        made.append((path.name, FILE_BYTES, digest.hexdigest()))
    return made


async def _serve(root: Path, ready: asyncio.Future[tuple[int, str]], stop: asyncio.Event) -> None:
    import asyncssh

    class _Login(asyncssh.SSHServer):
        def password_auth_supported(self) -> bool:
            return True

        def validate_password(self, username: str, password: str) -> bool:
            return username == USER and password == PASSWORD

    host_key = asyncssh.generate_private_key("ssh-ed25519")
    acceptor = await asyncssh.listen(
        "127.0.0.1",
        0,
        server_host_keys=[host_key],
        server_factory=_Login,
        sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=str(root).encode()),
        allow_scp=False,
        config=None,
    )
    ready.set_result((acceptor.get_port(), host_key.export_public_key().decode()))
    await stop.wait()
    acceptor.close()
    await acceptor.wait_closed()


def _send(args: list[str]) -> None:
    """In the child: one send of the files in `source` to the server; prints its figures."""
    mode, source, port, host_key, remote = args
    files = json.loads(Path(source, "files.json").read_text())

    async def transport() -> None:
        from pydantic import SecretStr

        from workflow.lab.sftp import OrderFile, SftpTarget, send_order

        target = SftpTarget(
            host="127.0.0.1",
            port=int(port),
            username=USER,
            password=SecretStr(PASSWORD),
            known_host_key=host_key,
            remote_folder="/",
        )
        order = [
            OrderFile(n, s, h, functools.partial(Path(source, n).open, "rb")) for n, s, h in files
        ]
        await send_order(target, remote, order, summary_pdf=b"%PDF-1.7 bench summary")

    async def plain() -> None:
        import asyncssh

        async with (
            asyncssh.connect(
                "127.0.0.1",
                int(port),
                username=USER,
                password=PASSWORD,
                known_hosts=([asyncssh.import_public_key(host_key)], [], []),
                client_keys=None,
                agent_path=None,
                config=None,
            ) as connection,
            connection.start_sftp_client() as sftp,
        ):
            await sftp.mkdir(remote)
            for name, _size, _sha in files:
                await sftp.put(str(Path(source, name)), f"{remote}/{name}")

    started = time.perf_counter()
    asyncio.run(transport() if mode == "transport" else plain())
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "peak_rss_mib": peak_rss_mib()}))


async def _main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-lab-") as temporary:
        source, root = Path(temporary, "source"), Path(temporary, "lab")
        files = await asyncio.to_thread(_prepare, source, root)
        ready: asyncio.Future[tuple[int, str]] = asyncio.get_running_loop().create_future()
        stop = asyncio.Event()
        server = asyncio.create_task(_serve(root, ready, stop))
        port, host_key = await ready
        runs: dict[str, list[dict[str, float]]] = {"plain": [], "transport": []}
        try:
            for repeat in range(REPEATS):
                for mode in ("plain", "transport"):  # alternating, so load hits both alike
                    remote = f"{mode}-{repeat}"
                    child = await asyncio.create_subprocess_exec(
                        sys.executable,
                        __file__,
                        "send",
                        mode,
                        str(source),
                        str(port),
                        host_key,
                        remote,
                        stdout=subprocess.PIPE,
                    )
                    out, _ = await child.communicate()
                    if child.returncode != 0:
                        raise RuntimeError(f"the {mode} send failed")
                    runs[mode].append(json.loads(out.decode().strip().splitlines()[-1]))
                    await asyncio.to_thread(_check, root / remote, files)
                    await asyncio.to_thread(shutil.rmtree, root / remote)
        finally:
            stop.set()
            await server
    megabytes = FILES * FILE_BYTES / 2**20
    plain = summary([megabytes / r["seconds"] for r in runs["plain"]])
    ours = summary([megabytes / r["seconds"] for r in runs["transport"]])
    ours_rss = max(r["peak_rss_mib"] for r in runs["transport"])
    plain_rss = max(r["peak_rss_mib"] for r in runs["plain"])
    rows = [
        ("measure", "median", "spread"),
        (
            f"asyncssh put, {FILES} x {FILE_BYTES // 2**20} MB (MB/s, anchor)",
            f"{plain['median']:.0f}",
            f"{plain['spread_pct']:.0f}%",
        ),
        ("workflow's lab transport (MB/s)", f"{ours['median']:.0f}", f"{ours['spread_pct']:.0f}%"),
        ("transport / anchor", f"{ours['median'] / plain['median']:.2f}", ""),
        ("sender peak RSS, transport / put (MiB)", f"{ours_rss:.0f} / {plain_rss:.0f}", ""),
    ]
    report(
        "lab_sftp",
        rows,
        {
            "files": FILES,
            "megabytes": megabytes,
            "plain_put_mb_per_s": round(plain["median"], 1),
            "transport_mb_per_s": round(ours["median"], 1),
            "transport_over_plain": round(ours["median"] / plain["median"], 3),
            "transport_peak_rss_mib": round(ours_rss, 1),
            "plain_peak_rss_mib": round(plain_rss, 1),
            "repeats": REPEATS,
        },
    )


def _check(folder: Path, files: list[tuple[str, int, str]]) -> None:
    """Every file arrived whole (the bench measures correct sends only)."""
    for name, size, _sha in files:
        if (folder / name).stat().st_size != size:
            raise RuntimeError(f"{name} arrived short")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "send":
        _send(sys.argv[2:])
    else:
        asyncio.run(_main())
