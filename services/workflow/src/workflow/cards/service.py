"""Bulk import of a memory card sorted by QR session cards: stage, dry run, commit.

Frames are staged (validated, hashed, scanned for a card, copied to `cards/<card id>/`) and may
be sent in several requests; the dry run says where every file would go and warns about what
desktop suites misfile silently; the commit files them as planned (or corrected) through the
one-session import, so dedupe, naming and events are the same.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime

from kit.errors import Conflict, NotFound, Unprocessable
from kit.mongo import Document
from workflow.cards import qr
from workflow.cards.plan import plan_card
from workflow.cards.repository import CardRepository, frame_id
from workflow.cards.schemas import (
    Card,
    CardDraft,
    CardsRequest,
    CommitRequest,
    CommitResult,
    Plan,
    StagedFrame,
    StagingReport,
)
from workflow.context import Actor, WorkflowContext
from workflow.images import naming
from workflow.images.decode_budget import budget_of
from workflow.images.schemas import ImportReport
from workflow.images.service import Accepted, ImageService, Upload
from workflow.images.validation import DECODED, Checked, Rejected, check_file
from workflow.sessions.repository import SessionRepository


class CardService:
    def __init__(self, context: WorkflowContext) -> None:
        self._context = context
        self._repository = CardRepository(context.db)
        self._sessions = SessionRepository(context.db)
        self._images = ImageService(context)
        self._bucket = context.settings.infra.images_bucket

    async def print_cards(self, request: CardsRequest) -> bytes:
        pages = []
        for session_id in request.session_ids:
            session = await self._sessions.get(session_id)
            if session is None:
                raise Unprocessable(
                    f"No session {session_id} to print a card for.",
                    detail={"session_id": session_id},
                )
            client_id = str(session.get("client_id") or "")
            starts = session.get("starts_at")
            pages.append(
                qr.CardPage(
                    session_number=str(session.get("session_number") or session_id),
                    client=request.client_names.get(client_id)
                    or session.get("client_name")
                    or client_id,
                    starts_at=starts.strftime("%Y-%m-%d %H:%M") if starts else "",
                )
            )
        return await asyncio.to_thread(qr.cards_pdf, pages)

    async def create(self, draft: CardDraft, *, actor: Actor) -> Card:
        now = datetime.now(UTC)
        card_id = f"cd-{uuid.uuid4().hex[:12]}"
        document = {
            "_id": card_id,
            "label": draft.label,
            "created_at": now.replace(microsecond=now.microsecond // 1000 * 1000),
            "created_by": actor.user_id,
        }
        await self._repository.insert_card(document)
        return await self.get(card_id)

    async def _card(self, card_id: str) -> Document:
        card = await self._repository.get_card(card_id)
        if card is None:
            raise NotFound(f"No memory card {card_id}.", detail={"card_id": card_id})
        return card

    async def get(self, card_id: str) -> Card:
        card = await self._card(card_id)
        frames = await self._repository.frames_of(card_id)
        return Card(
            card_id=card_id,
            label=card.get("label"),
            created_at=card["created_at"],
            frames=len(frames),
            bytes=sum(f["size"] for f in frames),
        )

    async def stage(self, card_id: str, uploads: list[Upload]) -> StagingReport:
        await self._card(card_id)
        if not uploads:
            raise Unprocessable("Send at least one frame.")
        files: list[StagedFrame] = []
        scanning = 0.0
        scanned = 0
        for upload in uploads:
            staged, seconds = await self._stage_one(card_id, upload)
            files.append(staged)
            if seconds is not None:
                scanning += seconds
                scanned += 1
        return StagingReport(
            card_id=card_id,
            staged=sum(f.outcome == "staged" for f in files),
            skipped=sum(f.outcome == "skipped" for f in files),
            rejected=sum(f.outcome == "rejected" for f in files),
            files=files,
            seconds_scanning=round(scanning, 4),
            frames_per_second=round(scanned / scanning, 1) if scanning > 0 else None,
        )

    async def _stage_one(self, card_id: str, upload: Upload) -> tuple[StagedFrame, float | None]:
        reason = naming.unsafe_name_reason(upload.name)
        stem, extension = naming.split_name(upload.name)
        checked: Checked | None = None
        if reason is None:
            try:
                checked = await asyncio.to_thread(
                    check_file,
                    upload.body,
                    extension,
                    max_pixels=self._context.settings.max_image_pixels,
                    budget=budget_of(self._context.settings.decode_budget_pixels),
                )
            except Rejected as rejected:
                reason = str(rejected)
        if checked is None:
            return StagedFrame(name=upload.name, outcome="rejected", reason=reason, size=0), None
        existing = await self._repository.get_frame(card_id, upload.name)
        if existing is not None:
            same = existing["sha256"] == checked.sha256
            return StagedFrame(
                name=upload.name,
                outcome="skipped" if same else "rejected",
                reason="already staged" if same else "another file with this name is staged",
                size=checked.size,
                sha256=checked.sha256,
                card_session_number=existing.get("card_session_number"),
            ), None
        scan: qr.Scan | None = None
        seconds: float | None = None
        if checked.kind == "image":
            started = time.perf_counter()
            scan = await asyncio.to_thread(qr.scan_frame, upload.body, DECODED[extension][0])
            seconds = time.perf_counter() - started
        key = f"cards/{card_id}/{upload.name}"
        if scan is None or scan.session_number is None:
            # Card frames are never imported, so only real frames are kept.
            upload.body.seek(0)
            await self._context.storage.put(
                self._bucket, key, upload.body, content_type=checked.content_type
            )
        document = {
            "_id": frame_id(card_id, upload.name),
            "card_id": card_id,
            "name": upload.name,
            "stem": stem,
            "kind": checked.kind,
            "content_type": checked.content_type,
            "sha256": checked.sha256,
            "size": checked.size,
            "width": checked.width,
            "height": checked.height,
            "staged_key": key,
            "capture_time": scan.capture_time if scan else None,
            "card_session_number": scan.session_number if scan else None,
            "unreadable_qr": scan.unreadable_qr if scan else False,
        }
        if not await self._repository.insert_frame(document):
            return StagedFrame(
                name=upload.name,
                outcome="skipped",
                reason="already staged",
                size=checked.size,
                sha256=checked.sha256,
            ), seconds
        return StagedFrame(
            name=upload.name,
            outcome="staged",
            size=checked.size,
            sha256=checked.sha256,
            card_session_number=document["card_session_number"],
        ), seconds

    async def plan(self, card_id: str, expected_numbers: list[str]) -> Plan:
        await self._card(card_id)
        frames = await self._repository.frames_of(card_id)
        return await self._plan(card_id, frames, expected_numbers)

    async def _plan(self, card_id: str, frames: list[Document], expected: list[str]) -> Plan:
        numbers = sorted({f["card_session_number"] for f in frames if f["card_session_number"]})
        sessions = {s["session_number"]: s for s in await self._sessions.numbered(numbers)}
        return plan_card(card_id, frames, sessions, expected)

    async def commit(self, card_id: str, request: CommitRequest, *, actor: Actor) -> CommitResult:
        """Import as the dry run planned, with `corrections` (file -> session id or null)."""
        await self._card(card_id)
        frames = await self._repository.frames_of(card_id)
        plan = await self._plan(card_id, frames, [])
        if request.plan_hash is not None and request.plan_hash != plan.plan_hash:
            raise Conflict(
                "The card plans differently from the dry run you saw (frames were added?); "
                "look at the plan again.",
                detail={"plan_hash": plan.plan_hash},
            )
        assignments = dict(plan.assignments)
        unknown_files = sorted(set(request.corrections) - set(assignments))
        if unknown_files:
            raise Unprocessable(
                "Corrections name files that are not frames of this card (or are cards).",
                detail={"unknown_files": unknown_files},
            )
        targets: dict[str, Document] = {}
        for target in {s for s in request.corrections.values() if s is not None}:
            session = await self._sessions.get(target)
            if session is None or session.get("cancelled"):
                raise Unprocessable(
                    f"Session {target} is unknown or cancelled.",
                    detail={"session_id": target},
                )
            targets[target] = session
        assignments.update(request.corrections)
        by_session: dict[str, list[Document]] = defaultdict(list)
        by_name = {f["name"]: f for f in frames}
        for name, assigned in assignments.items():
            if assigned is not None:
                by_session[assigned].append(by_name[name])
        imports: list[ImportReport] = []
        for session_id, chosen in by_session.items():
            session = targets.get(session_id) or await self._sessions.get(session_id)
            if session is None:
                continue  # vanished since the plan
            accepted = [
                (
                    index,
                    Accepted(
                        name=frame["name"],
                        stem=frame["stem"],
                        checked=Checked(
                            frame["kind"],
                            frame["content_type"],
                            frame["sha256"],
                            frame["size"],
                            frame.get("width"),
                            frame.get("height"),
                        ),
                        write=self._images.copier(self._bucket, frame["staged_key"]),
                    ),
                )
                for index, frame in enumerate(sorted(chosen, key=_frame_order(plan)))
            ]
            imports.append(
                await self._images.import_accepted(
                    session,
                    accepted,
                    {},
                    total=len(accepted),
                    options=request.options,
                    actor=actor,
                )
            )
        left_out = sorted(name for name, session_id in assignments.items() if session_id is None)
        await self._repository.set_card(
            card_id,
            {"committed_at": datetime.now(UTC), "import_ids": [i.import_id for i in imports]},
        )
        return CommitResult(card_id=card_id, imports=imports, left_out=left_out)


def _frame_order(plan: Plan) -> Callable[[Document], int]:
    position = {name: i for i, name in enumerate(plan.assignments)}

    def key(frame: Document) -> int:
        return position.get(frame["name"], len(position))

    return key
