"""Archive, verify and restore a session's originals; delete them after confirmation."""

from __future__ import annotations

from fastapi import APIRouter, status

from workflow.archive.schemas import (
    Archive,
    Deletion,
    DeletionPending,
    DeletionRequest,
    RestoreResult,
)
from workflow.archive.service import ArchiveService
from workflow.context import ActorDep, ContextDep

router = APIRouter(prefix="/workflow", tags=["archive"])


@router.post(
    "/sessions/{session_id}/archive",
    status_code=status.HTTP_201_CREATED,
    summary="Archive a session's originals",
)
async def archive_session(session_id: str, context: ContextDep, actor: ActorDep) -> Archive:
    """Copies raw, hires and retouched to the archive bucket with a manifest (session summary,
    files with SHA-256) and verifies every copy; `verified` says whether they all matched."""
    return await ArchiveService(context).archive(session_id, by=actor.user_id)


@router.get("/sessions/{session_id}/archives", summary="A session's archives, newest first")
async def session_archives(session_id: str, context: ContextDep) -> list[Archive]:
    return await ArchiveService(context).of_session(session_id)


@router.get("/archives/{archive_id}", summary="One archive")
async def get_archive(archive_id: str, context: ContextDep) -> Archive:
    return await ArchiveService(context).get(archive_id)


@router.post("/archives/{archive_id}/verify", summary="Check every archived file again")
async def verify_archive(archive_id: str, context: ContextDep) -> Archive:
    return await ArchiveService(context).verify(archive_id)


@router.post("/archives/{archive_id}/restore", summary="Copy the archived originals back")
async def restore_archive(archive_id: str, context: ContextDep) -> RestoreResult:
    return await ArchiveService(context).restore(archive_id)


@router.post(
    "/sessions/{session_id}/image-deletions",
    status_code=status.HTTP_201_CREATED,
    summary="Ask to delete a session's originals (step 1 of 2)",
)
async def request_image_deletion(
    session_id: str, request: DeletionRequest, context: ContextDep, actor: ActorDep
) -> DeletionPending:
    """Lists what would be deleted and returns a confirmation token; deletes nothing. Needs a
    verified archive, or `override` by an owner (`X-User-Role: owner`)."""
    return await ArchiveService(context).request_deletion(
        session_id, override=request.override, actor=actor
    )


@router.post(
    "/sessions/{session_id}/image-deletions/{token}/confirm",
    summary="Permanently delete a session's originals (step 2 of 2)",
)
async def confirm_image_deletion(
    session_id: str, token: str, context: ContextDep, actor: ActorDep
) -> Deletion:
    """Deletes raw, hires and retouched (previews stay) and announces
    `workflow.images.deleted.v1`. Confirming twice answers the first result."""
    return await ArchiveService(context).confirm_deletion(session_id, token, actor=actor)
