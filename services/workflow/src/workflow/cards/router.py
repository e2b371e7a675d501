"""QR session cards, and the bulk import of a memory card sorted by them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Response, UploadFile, status

from workflow.cards.schemas import (
    Card,
    CardDraft,
    CardsRequest,
    CommitRequest,
    CommitResult,
    Plan,
    StagingReport,
)
from workflow.cards.service import CardService
from workflow.context import ActorDep, ContextDep
from workflow.images.service import Upload

router = APIRouter(prefix="/workflow", tags=["memory cards"])


@router.post(
    "/session-cards.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
    summary="Print QR session cards (PDF, one page per session)",
)
async def print_session_cards(request: CardsRequest, context: ContextDep) -> Response:
    """Each page: the session number as a QR code (`studio-session:<number>`), the number, the
    client's name (from `client_names`, else as booking's session events named the client,
    else the client id) and the start time, as real PDF text."""
    pdf = await CardService(context).print_cards(request)
    return Response(pdf, media_type="application/pdf")


@router.post(
    "/memory-cards", status_code=status.HTTP_201_CREATED, summary="Start a memory card import"
)
async def create_memory_card(draft: CardDraft, context: ContextDep, actor: ActorDep) -> Card:
    return await CardService(context).create(draft, actor=actor)


@router.get("/memory-cards/{card_id}", summary="A memory card import: frames staged so far")
async def get_memory_card(card_id: str, context: ContextDep) -> Card:
    return await CardService(context).get(card_id)


@router.post("/memory-cards/{card_id}/frames", summary="Stage frames of the card (multipart)")
async def stage_frames(
    card_id: str,
    files: Annotated[list[UploadFile], File(description="frames, one part each")],
    context: ContextDep,
) -> StagingReport:
    """Validates, hashes and scans each frame for a session card; may be called repeatedly
    (a frame staged already is skipped, so an interrupted upload resumes)."""
    uploads = [Upload(name=f.filename or "", body=f.file) for f in files]
    return await CardService(context).stage(card_id, uploads)


@router.get("/memory-cards/{card_id}/plan", summary="Dry run: where every frame would go")
async def plan_memory_card(
    card_id: str,
    context: ContextDep,
    expect: Annotated[list[str] | None, Query(description="session numbers shot")] = None,
) -> Plan:
    """Per session its frames; frames before the first card; cards for unknown or cancelled
    sessions; sessions with no frames (also each `expect`ed number without a card); cards
    directly followed by cards; unreadable QR codes. Each warning names its files."""
    return await CardService(context).plan(card_id, expect or [])


@router.post(
    "/memory-cards/{card_id}/commit",
    summary="Import the card as planned",
    responses={409: {"description": "The card plans differently from the dry run seen"}},
)
async def commit_memory_card(
    card_id: str, request: CommitRequest, context: ContextDep, actor: ActorDep
) -> CommitResult:
    """Imports every assigned frame into its session (one import report per session), with
    `corrections` applied; card frames and unassigned frames are left out."""
    return await CardService(context).commit(card_id, request, actor=actor)
