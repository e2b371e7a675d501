"""The photographer imports a folder and a memory card with the `studio` command, which talks
to a running workflow service; an interrupted import is resumed without sending files twice."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from image_factory import booked_session, frame, picture
from workflow_harness import Workflow

STUDIO = str(Path(sys.executable).with_name("studio"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def workflow_server(database: str) -> AsyncIterator[str]:
    """The workflow service as its own process on the test's database; yields its API base."""
    port = free_port()
    env = {**os.environ, "WORKFLOW_DATABASE": database, "WORKFLOW_PORT": str(port)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "workflow",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("the workflow service did not start")
        yield f"http://127.0.0.1:{port}/workflow"
    finally:
        process.terminate()
        await process.wait()


async def studio(api: str, config: Path, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        STUDIO,
        *args,
        env={**os.environ, "STUDIO_API": api, "STUDIO_CONFIG_DIR": str(config), "COLUMNS": "200"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


async def test_studio_import_uploads_a_folder_and_resumes_without_resending(
    workflow: Workflow, unique: str, tmp_path: Path
) -> None:
    session_id = await booked_session(workflow, f"cli-{unique}", number="S777")
    shoot = tmp_path / "shoot"
    shoot.mkdir()
    for n in range(1, 4):
        (shoot / f"IMG_{n:04d}.jpg").write_bytes(picture("JPEG", shade=n))
    (shoot / "notes.txt").write_text("not an image")
    async with workflow_server(workflow.db.name) as api:
        code, output = await studio(
            api, tmp_path, "import", str(shoot), "--session", session_id, "--keyword", "cli"
        )
        assert code == 3, output  # one file rejected
        assert "Stored 3, skipped 0, rejected 1." in output
        assert "unknown file type" in output
        # A new frame appears (as after an interrupted copy): only it is sent.
        (shoot / "IMG_0004.jpg").write_bytes(picture("JPEG", shade=4))
        (shoot / "notes.txt").unlink()
        code, output = await studio(api, tmp_path, "import", str(shoot), "--session", session_id)
        assert code == 0, output
        assert "3 file(s) are in the session already." in output
        assert "Stored 1, skipped 0, rejected 0." in output
    images = (await workflow.client.get(f"/workflow/sessions/{session_id}/images")).json()
    assert sorted(i["name"] for i in images) == [f"IMG_{n:04d}.jpg" for n in range(1, 5)]


async def test_studio_card_dry_runs_then_commits_a_memory_card(
    workflow: Workflow, unique: str, tmp_path: Path
) -> None:
    first = await booked_session(workflow, f"clic1-{unique}", number=f"P1{unique}")
    second = await booked_session(workflow, f"clic2-{unique}", number=f"P2{unique}")
    card = tmp_path / "DCIM"
    card.mkdir()
    start = datetime(2026, 7, 1, 9, tzinfo=UTC)
    shots = [f"P1{unique}", None, None, f"P2{unique}", None]
    for i, shown in enumerate(shots):
        (card / f"DSC_{i:04d}.jpg").write_bytes(
            frame(start + timedelta(seconds=i), card=shown, shade=i)
        )
    async with workflow_server(workflow.db.name) as api:
        code, output = await studio(api, tmp_path, "card", str(card), "--expect", f"P1{unique}")
        assert code == 0, output
        assert "Dry run only" in output
        assert (await workflow.client.get(f"/workflow/sessions/{first}/images")).json() == []
        code, output = await studio(
            api, tmp_path, "card", str(card), "--commit", "--yes", "--correct", "DSC_0004.jpg=-"
        )
        assert code == 0, output
        assert f"{first}: stored 2" in output
    one = (await workflow.client.get(f"/workflow/sessions/{first}/images")).json()
    assert sorted(i["name"] for i in one) == ["DSC_0001.jpg", "DSC_0002.jpg"]
    two = (await workflow.client.get(f"/workflow/sessions/{second}/images")).json()
    assert two == []
