"""`studio`: the studio platform from the command line.

    studio login --gateway https://studio.example --email me@example.com
    studio import ./shoot --session <session id> --rename renumber --keyword wedding
    studio card ./DCIM --expect S10001 --expect S10002          # dry run
    studio card ./DCIM --commit --correct IMG_0042.jpg=<session id>

Imports and card uploads are resumable: files already in the session (same SHA-256) or
already staged on the card are not sent again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from workflow.cli.client import Api, ApiError, Credentials, login
from workflow.cli.transfer import batches, folder_files, progress_bar, sha256_of, upload_batch

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
console = Console()
CARD_STATE = ".studio-card.json"

FolderArg = Annotated[
    Path, typer.Argument(exists=True, file_okay=False, dir_okay=True, resolve_path=True)
]


def _api() -> Api:
    try:
        return Api(Credentials.load())
    except RuntimeError as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(2) from None


@app.command("login")
def login_command(
    gateway: Annotated[str, typer.Option(help="the gateway's base URL")],
    email: Annotated[str, typer.Option()],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
) -> None:
    """Log in through the gateway; the tokens are kept in ~/.config/studio (mode 600)."""
    try:
        credentials = login(gateway, email, password)
    except ApiError as exc:
        console.print(f"[red]Login failed: {exc}")
        raise typer.Exit(1) from None
    console.print(f"Logged in to {credentials.gateway}.")


@app.command("import")
def import_command(
    folder: FolderArg,
    session: Annotated[str, typer.Option(help="the session id to import into")],
    rename: Annotated[str, typer.Option(help="keep | session_prefix | renumber")] = "keep",
    renumber_from: Annotated[int, typer.Option()] = 1,
    number_rule: Annotated[str, typer.Option(help="whole | first | last | from")] = "whole",
    number_n: Annotated[int, typer.Option()] = 1,
    keyword: Annotated[list[str] | None, typer.Option(help="repeat for several")] = None,
    raw_folder: Annotated[str, typer.Option(help="raw | hires")] = "raw",
    also_raw: Annotated[bool, typer.Option(help="JPEG/PNG/TIFF into raw as well")] = False,
    batch_files: Annotated[int, typer.Option()] = 20,
    batch_mb: Annotated[int, typer.Option()] = 200,
) -> None:
    """Import a folder into one session, with a progress bar; resumable."""
    options = {
        "rename": rename,
        "renumber_from": renumber_from,
        "number_rule": number_rule,
        "number_n": number_n,
        "keywords": keyword or [],
        "raw_folder": raw_folder,
        "image_folders": ["hires", "raw"] if also_raw else ["hires"],
    }
    api = _api()
    try:
        paths = folder_files(folder)
        present = {i["sha256"] for i in api.call("GET", f"/sessions/{session}/images")}
        todo = [p for p in paths if sha256_of(p) not in present]
        if len(todo) < len(paths):
            console.print(f"{len(paths) - len(todo)} file(s) are in the session already.")
        totals = {"stored": 0, "skipped": 0, "rejected": 0}
        problems: list[dict[str, Any]] = []
        with progress_bar() as progress:
            task = progress.add_task("importing", total=sum(p.stat().st_size for p in todo))
            done = 0
            for batch in batches(todo, max_files=batch_files, max_bytes=batch_mb * 1_000_000):
                report = upload_batch(
                    lambda files: api.call(
                        "POST",
                        f"/sessions/{session}/imports",
                        files=files,
                        data={"options": json.dumps(options)},
                    ),
                    batch,
                    progress,
                    task,
                )
                done += len(batch)
                progress.update(task, description=f"importing {done}/{len(todo)} files")
                for key in totals:
                    totals[key] += report[key]
                problems += [f for f in report["files"] if f["outcome"] != "stored"]
        _problems(problems)
        console.print(
            f"Stored {totals['stored']}, skipped {totals['skipped']}, "
            f"rejected {totals['rejected']}."
        )
    except ApiError as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(1) from None
    finally:
        api.close()
    if totals["rejected"]:
        raise typer.Exit(3)


@app.command("card")
def card_command(
    folder: FolderArg,
    expect: Annotated[list[str] | None, typer.Option(help="session numbers shot")] = None,
    commit: Annotated[bool, typer.Option(help="import as planned")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask before committing")] = False,
    correct: Annotated[
        list[str] | None, typer.Option(help="FILE=SESSION_ID, or FILE=- to leave it out")
    ] = None,
    batch_files: Annotated[int, typer.Option()] = 20,
) -> None:
    """Bulk-import a memory card sorted by QR session cards: dry run, then --commit."""
    api = _api()
    state_file = folder / CARD_STATE
    try:
        state = json.loads(state_file.read_text()) if state_file.exists() else {}
        if state.get("api") != api.base:
            card = api.call("POST", "/memory-cards", json={"label": folder.name})
            state = {"api": api.base, "card_id": card["card_id"], "staged": []}
        card_id = state["card_id"]
        staged = set(state["staged"])
        todo = [p for p in folder_files(folder) if p.name not in staged]
        rejected: list[dict[str, Any]] = []
        with progress_bar() as progress:
            task = progress.add_task("staging", total=sum(p.stat().st_size for p in todo))
            for batch in batches(todo, max_files=batch_files, max_bytes=200_000_000):
                report = upload_batch(
                    lambda files: api.call("POST", f"/memory-cards/{card_id}/frames", files=files),
                    batch,
                    progress,
                    task,
                )
                rejected += [f for f in report["files"] if f["outcome"] == "rejected"]
                state["staged"] += [
                    f["name"] for f in report["files"] if f["outcome"] != "rejected"
                ]
                state_file.write_text(json.dumps(state))
        _problems(rejected)
        plan = api.call("GET", f"/memory-cards/{card_id}/plan", params={"expect": expect or []})
        _show_plan(plan)
        if not commit:
            console.print("Dry run only: run again with --commit to import.")
            return
        corrections = _corrections(correct or [])
        if not yes and not typer.confirm("Import as shown (with the corrections)?"):
            raise typer.Exit(1)
        result = api.call(
            "POST",
            f"/memory-cards/{card_id}/commit",
            json={"corrections": corrections, "plan_hash": plan["plan_hash"]},
        )
        for report in result["imports"]:
            console.print(
                f"{report['session_id']}: stored {report['stored']}, skipped "
                f"{report['skipped']}, rejected {report['rejected']}"
            )
        console.print(f"Left out: {len(result['left_out'])} file(s).")
    except ApiError as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(1) from None
    finally:
        api.close()


def _corrections(pairs: list[str]) -> dict[str, str | None]:
    corrections: dict[str, str | None] = {}
    for pair in pairs:
        name, sep, target = pair.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"{pair!r} is not FILE=SESSION_ID or FILE=-")
        corrections[name] = None if target in ("", "-") else target
    return corrections


def _problems(files: list[dict[str, Any]]) -> None:
    if not files:
        return
    table = Table("file", "outcome", "reason")
    for file in files:
        table.add_row(
            file.get("original_name") or file.get("name"), file["outcome"], file["reason"]
        )
    console.print(table)


def _show_plan(plan: dict[str, Any]) -> None:
    table = Table("session", "number", "frames", "files", title=f"Card {plan['card_id']}")
    for session in plan["sessions"]:
        table.add_row(
            session["session_id"],
            session["session_number"],
            str(session["frames"]),
            str(len(session["files"])),
        )
    table.add_row("(unassigned)", "", "", str(len(plan["unassigned"])))
    console.print(table)
    for warning in plan["warnings"]:
        files = ", ".join(warning["files"][:10]) + (" ..." if len(warning["files"]) > 10 else "")
        console.print(f"[yellow]{warning['kind']}[/]: {warning['message']} {files}")
