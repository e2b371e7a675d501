"""Archive a session's originals with a verified manifest, restore them, delete them.

Copies are verified by SHA-256 against the source; the manifest keeps the hashes, so a later
verification (or a restore) notices a corrupted or missing copy. Deleting originals needs a
verified archive (or an owner's explicit override) and a confirmation step; previews stay.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from kit.errors import Conflict, Forbidden, Gone, NotFound, Unprocessable
from kit.events.contracts.workflow import ImageRef, ImagesDeleted
from kit.events.envelope import Envelope, source_of
from kit.mongo import Document
from workflow.archive import objects
from workflow.archive.repository import DELETIONS, ArchiveRepository
from workflow.archive.schemas import (
    Archive,
    Deletion,
    DeletionPending,
    FileProblem,
    RestoreResult,
)
from workflow.context import Actor, WorkflowContext
from workflow.sessions.repository import SessionRepository
from workflow.tracking.service import StatusChanger


def archive_view(document: Document) -> Archive:
    return Archive.model_validate({**document, "archive_id": document["_id"]})


class ArchiveService:
    def __init__(self, context: WorkflowContext) -> None:
        self._context = context
        self._repository = ArchiveRepository(context.db)
        self._sessions = SessionRepository(context.db)
        self._changer = StatusChanger(context, "session")
        self._client = context.storage.client
        self._images = context.settings.infra.images_bucket
        self._bucket = context.settings.archive_bucket

    async def archive(self, session_id: str, *, by: str) -> Archive:
        session = await self._changer.load(session_id)
        found = await asyncio.to_thread(objects.originals, self._client, self._images, session_id)
        if not found:
            raise Unprocessable(
                f"Session {session_id} has no originals (raw, hires, retouched) to archive.",
                detail={"session_id": session_id},
            )
        archive_id = f"ar-{uuid.uuid4().hex[:12]}"
        prefix = f"{self._context.settings.archive_prefix}/sessions/{session_id}/{archive_id}/"
        files = await asyncio.to_thread(self._copy_all, found, prefix, session_id)
        problems = await asyncio.to_thread(self._check, files)
        now = datetime.now(UTC)
        manifest_key = f"{prefix}manifest.json"
        manifest = {
            "archive_id": archive_id,
            "created_at": now.isoformat(),
            "created_by": by,
            "session": {
                "session_id": session_id,
                "session_number": session.get("session_number"),
                "client_id": session.get("client_id"),
                "session_type_id": session.get("session_type_id"),
                "starts_at": session["starts_at"].isoformat() if session.get("starts_at") else None,
                "status": session.get("status_name"),
            },
            "files": files,
        }
        body = json.dumps(manifest, indent=2).encode()
        await asyncio.to_thread(objects.put_json, self._client, self._bucket, manifest_key, body)
        document = {
            "_id": archive_id,
            "session_id": session_id,
            "bucket": self._bucket,
            "prefix": prefix,
            "manifest_key": manifest_key,
            "files": files,
            "verified": not problems,
            "verified_at": now,
            "problems": problems,
            "created_at": now,
            "created_by": by,
        }
        await self._repository.insert_archive(document)
        if not problems:
            await self._sessions.set_fields(
                session_id, {"archive": {"archive_id": archive_id, "at": now}}
            )
        return archive_view(document)

    def _copy_all(
        self, found: list[tuple[str, objects.StoredObject]], prefix: str, session_id: str
    ) -> list[dict[str, Any]]:
        files = []
        source_prefix = f"sessions/{session_id}/"
        for folder, stored in found:
            digest = objects.sha256_of(self._client, self._images, stored.key)
            if digest is None:
                continue  # deleted meanwhile
            archive_key = prefix + stored.key.removeprefix(source_prefix)
            objects.copy(self._client, self._images, stored.key, self._bucket, archive_key)
            files.append(
                {
                    "folder": folder,
                    "source_key": stored.key,
                    "archive_key": archive_key,
                    "size": stored.size,
                    "sha256": digest,
                }
            )
        return files

    def _check(self, files: list[dict[str, Any]]) -> list[dict[str, Any]]:
        problems = []
        for file in files:
            actual = objects.sha256_of(self._client, self._bucket, file["archive_key"])
            if actual != file["sha256"]:
                problems.append(
                    FileProblem(
                        key=file["archive_key"],
                        expected_sha256=file["sha256"],
                        actual_sha256=actual,
                    ).model_dump()
                )
        return problems

    async def get(self, archive_id: str) -> Archive:
        return archive_view(await self._load(archive_id))

    async def _load(self, archive_id: str) -> Document:
        document = await self._repository.get_archive(archive_id)
        if document is None:
            raise NotFound(f"No archive {archive_id}.", detail={"archive_id": archive_id})
        return document

    async def of_session(self, session_id: str) -> list[Archive]:
        await self._changer.load(session_id)
        return [archive_view(d) for d in await self._repository.archives_of(session_id)]

    async def verify(self, archive_id: str) -> Archive:
        """Read every archived file again and compare it with the manifest's hash."""
        document = await self._load(archive_id)
        problems = await asyncio.to_thread(self._check, document["files"])
        updated = await self._repository.set_verification(
            archive_id,
            {"verified": not problems, "verified_at": datetime.now(UTC), "problems": problems},
        )
        return archive_view(updated or document)

    async def restore(self, archive_id: str) -> RestoreResult:
        """Copy the archived originals back; a file whose hash does not match stays out."""
        document = await self._load(archive_id)

        def restore_all() -> tuple[list[str], list[dict[str, Any]]]:
            restored, problems = [], []
            for file in document["files"]:
                actual = objects.sha256_of(self._client, document["bucket"], file["archive_key"])
                if actual != file["sha256"]:
                    problems.append(
                        FileProblem(
                            key=file["archive_key"],
                            expected_sha256=file["sha256"],
                            actual_sha256=actual,
                        ).model_dump()
                    )
                    continue
                objects.copy(
                    self._client,
                    document["bucket"],
                    file["archive_key"],
                    self._images,
                    file["source_key"],
                )
                if (
                    objects.sha256_of(self._client, self._images, file["source_key"])
                    != file["sha256"]
                ):
                    problems.append(
                        FileProblem(
                            key=file["source_key"],
                            expected_sha256=file["sha256"],
                            actual_sha256=None,
                        ).model_dump()
                    )
                    continue
                restored.append(file["source_key"])
            return restored, problems

        restored, problems = await asyncio.to_thread(restore_all)
        return RestoreResult(
            archive_id=archive_id,
            restored=restored,
            problems=[FileProblem.model_validate(p) for p in problems],
        )

    # Deleting originals -----------------------------------------------------------------

    async def request_deletion(
        self, session_id: str, *, override: bool, actor: Actor
    ) -> DeletionPending:
        await self._changer.load(session_id)
        await self._check_may_delete(session_id, override=override, actor=actor)
        found = await asyncio.to_thread(objects.originals, self._client, self._images, session_id)
        if not found:
            raise Unprocessable(
                f"Session {session_id} has no originals left to delete.",
                detail={"session_id": session_id},
            )
        token = secrets.token_urlsafe(24)
        expires_at = datetime.now(UTC) + timedelta(
            seconds=self._context.settings.delete_confirmation_seconds
        )
        keys = [stored.key for _, stored in found]
        await self._repository.insert_pending(
            {
                "_id": token,
                "session_id": session_id,
                "keys": keys,
                "expires_at": expires_at,
                "override": override,
                "requested_by": actor.user_id,
            }
        )
        return DeletionPending(
            confirmation_token=token,
            session_id=session_id,
            keys=keys,
            expires_at=expires_at,
            override=override,
        )

    async def confirm_deletion(self, session_id: str, token: str, *, actor: Actor) -> Deletion:
        pending = await self._repository.get_pending(token)
        if pending is None or pending["session_id"] != session_id:
            raise NotFound("No such deletion request for this session.", detail={"token": "?"})
        done = await self._repository.get_deletion(token)
        if done is not None:
            return Deletion.model_validate(done)
        if pending["expires_at"] < datetime.now(UTC):
            raise Gone("This deletion request expired; request a new one.")
        await self._check_may_delete(session_id, override=pending["override"], actor=actor)
        keys: list[str] = pending["keys"]
        # Delete first, then record: a retry after a crash deletes nothing new and records.
        await asyncio.to_thread(objects.delete_keys, self._client, self._images, keys)
        now = _millis(datetime.now(UTC))  # as BSON stores it, so a repeat answers the same
        event = Envelope.wrap(
            ImagesDeleted(
                session_id=session_id,
                images=[
                    ImageRef(image_id=key.rsplit("/", 1)[-1], key=key, folder=_folder(key))
                    for key in keys
                ],
            ),
            subject=session_id,
            source=source_of("workflow"),
        )
        document = {
            "_id": token,
            "session_id": session_id,
            "deleted_keys": keys,
            "deleted_at": now,
            "deleted_by": actor.user_id,
            "override": pending["override"],
        }
        if await self._repository.record_deletion(document, event):
            self._context.events_written(DELETIONS, token)
            await self._sessions.set_fields(session_id, {"images_deleted_at": now})
            return Deletion.model_validate(document)
        recorded = await self._repository.get_deletion(token)
        if recorded is None:
            raise Conflict("The deletion was recorded and then vanished; try again.")
        return Deletion.model_validate(recorded)

    async def _check_may_delete(self, session_id: str, *, override: bool, actor: Actor) -> None:
        if override:
            if not actor.is_owner:
                raise Forbidden("Only an owner may delete originals without a verified archive.")
            return
        if await self._repository.verified_archive(session_id) is None:
            raise Conflict(
                f"Session {session_id} has no verified archive; archive it first "
                "(or an owner may override).",
                detail={"session_id": session_id},
            )


def _millis(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _folder(key: str) -> Any:
    parts = key.split("/")
    return parts[2] if len(parts) > 3 else "raw"
