"""Import files into a session: validate, dedupe by SHA-256, rename, store, announce.

Each file is judged on its own: a rejected or duplicate file is reported and the rest of the
import goes on. An image's record is inserted (claiming its `_id` and stored keys) before its
upload, so two imports of one content, or two files wanting one name, cannot both store. The
import's report and its `workflow.images.imported.v1` event are written in one insert.
"""

from __future__ import annotations

import asyncio
import logging
import re
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import IO, Any, cast

from kit.errors import Conflict, NotFound, Unprocessable
from kit.events.consumer import HandlerContext
from kit.events.contracts.render import PreviewsCreated
from kit.events.contracts.workflow import ImageRef, ImagesDeleted, ImagesImported
from kit.events.envelope import Envelope, source_of
from kit.mongo import Document
from workflow.archive import objects
from workflow.context import Actor, WorkflowContext
from workflow.images import naming
from workflow.images.decode_budget import budget_of
from workflow.images.repository import (
    IMAGES,
    IMPORTS,
    REMOVALS,
    ImageRepository,
    image_id_of,
)
from workflow.images.retouched_preview import preview_jpeg, preview_key
from workflow.images.schemas import (
    Image,
    ImportedFile,
    ImportOptions,
    ImportReport,
    PresignedUpload,
    UploadBatch,
    UploadedImport,
    UploadRequest,
)
from workflow.images.validation import Checked, Rejected, check_file
from workflow.sessions.repository import SessionRepository

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Upload:
    """One file of a request: its name as sent and its (spooled) body."""

    name: str
    body: IO[bytes]


Writer = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Accepted:
    """A file that passed its checks, and how to write it to a stored key."""

    name: str
    stem: str
    checked: Checked
    write: Writer


def _retouched_preview_key(session_id: str, retouched: Document) -> str:
    return preview_key(session_id, retouched["key"].rpartition("/")[2], retouched["sha256"])


def image_view(document: Document) -> Image:
    return Image.model_validate({**document, "image_id": document["_id"]})


class ImageService:
    def __init__(self, context: WorkflowContext) -> None:
        self._context = context
        self._repository = ImageRepository(context.db)
        self._sessions = SessionRepository(context.db)
        self._bucket = context.settings.infra.images_bucket

    async def _session(self, session_id: str) -> Document:
        session = await self._sessions.get(session_id)
        if session is None:
            raise NotFound(f"No session {session_id}.", detail={"session_id": session_id})
        return session

    async def import_files(
        self, session_id: str, uploads: list[Upload], options: ImportOptions, *, actor: Actor
    ) -> ImportReport:
        session = await self._session(session_id)
        if not uploads:
            raise Unprocessable("An import needs at least one file.")
        limit = self._context.settings.max_files_per_import
        if len(uploads) > limit:
            raise Unprocessable(
                f"An import takes at most {limit} files, not {len(uploads)}.",
                detail={"files": len(uploads), "max": limit},
            )
        report: dict[int, ImportedFile] = {}
        accepted: list[tuple[int, Accepted]] = []
        limit_checks = asyncio.Semaphore(self._context.settings.import_concurrency)

        async def check(upload: Upload) -> ImportedFile | Accepted:
            async with limit_checks:
                return await self._check(upload)

        # Decoding and hashing run in threads; several files at once keep the cores busy.
        checks = await asyncio.gather(*(check(upload) for upload in uploads))
        for index, checked in enumerate(checks):
            if isinstance(checked, ImportedFile):
                report[index] = checked
            else:
                accepted.append((index, checked))
        return await self.import_accepted(
            session, accepted, report, total=len(uploads), options=options, actor=actor
        )

    async def import_accepted(
        self,
        session: Document,
        accepted: list[tuple[int, Accepted]],
        report: dict[int, ImportedFile],
        *,
        total: int,
        options: ImportOptions,
        actor: Actor,
    ) -> ImportReport:
        """Store the accepted files (report positions given) beside those already judged."""
        session_id = session["_id"]
        import_id = f"im-{uuid.uuid4().hex[:16]}"
        now = datetime.now(UTC).replace(microsecond=0)
        # Renumbering follows the order sent; a RAW+JPEG pair (one stem) shares its number.
        sequence: dict[str, int] = {}
        for _, item in accepted:
            sequence.setdefault(item.stem, options.renumber_from + len(sequence))
        # The same content twice in one import: the first one sent is the one stored.
        first_of: dict[str, str] = {}
        unique: list[tuple[int, Accepted]] = []
        for index, item in accepted:
            earlier = first_of.setdefault(item.checked.sha256, item.name)
            if earlier == item.name:
                unique.append((index, item))
                continue
            report[index] = ImportedFile(
                original_name=item.name,
                outcome="skipped",
                reason=f"the same content (SHA-256) is already imported as {earlier}",
                image_id=image_id_of(session_id, item.checked.sha256),
                size=item.checked.size,
                sha256=item.checked.sha256,
            )
        limit_stores = asyncio.Semaphore(self._context.settings.import_concurrency)

        async def store(item: Accepted) -> tuple[ImportedFile, ImageRef | None]:
            async with limit_stores:
                return await self._store(
                    session,
                    item,
                    options,
                    sequence=sequence[item.stem],
                    import_id=import_id,
                    now=now,
                    actor=actor,
                )

        stored = await asyncio.gather(*(store(item) for _, item in unique))
        refs: list[ImageRef] = []
        for (index, _), (outcome, ref) in zip(unique, stored, strict=True):
            report[index] = outcome
            if ref is not None:
                refs.append(ref)
        files = [report[i] for i in range(total)]
        result = ImportReport(
            import_id=import_id,
            session_id=session_id,
            stored=sum(f.outcome == "stored" for f in files),
            skipped=sum(f.outcome == "skipped" for f in files),
            rejected=sum(f.outcome == "rejected" for f in files),
            bytes_stored=sum(f.size for f in files if f.outcome == "stored"),
            files=files,
        )
        event = (
            Envelope.wrap(
                ImagesImported(session_id=session_id, images=refs),
                subject=session_id,
                source=source_of("workflow"),
            )
            if refs
            else None
        )
        await self._repository.record_import(
            {
                "_id": import_id,
                **result.model_dump(exclude={"import_id"}),
                "options": options.model_dump(),
                "imported_at": now,
                "imported_by": actor.user_id,
            },
            event,
        )
        if event is not None and self._context.platform.relay is not None:
            self._context.platform.relay.notify(IMPORTS, import_id)
        return result

    # Presigned uploads -------------------------------------------------------------------

    def _staging(self, session_id: str, upload_id: str) -> str:
        return f"uploads/{session_id}/{upload_id}/"

    async def presign_uploads(self, session_id: str, request: UploadRequest) -> UploadBatch:
        """PUT URLs to a staging prefix; `import_uploaded` then checks and files them."""
        await self._session(session_id)
        upload_id = f"up-{uuid.uuid4().hex[:16]}"
        prefix = self._staging(session_id, upload_id)
        # Recorded before any URL exists, so every staged object has a batch the sweep finds.
        now = _now_ms()
        await self._repository.record_upload_batch(
            {
                "_id": upload_id,
                "session_id": session_id,
                "prefix": prefix,
                "names": request.names,
                "created_at": now,
                "expires_at": now + timedelta(seconds=request.expires_in),
            }
        )
        files = []
        for name in request.names:
            reason = naming.unsafe_name_reason(name)
            url = None
            if reason is None:
                # Signing is local computation, safe on the event loop.
                url = self._context.storage.client.generate_presigned_url(
                    "put_object",
                    Params={"Bucket": self._bucket, "Key": prefix + name},
                    ExpiresIn=request.expires_in,
                )
            files.append(PresignedUpload(name=name, url=url, reason=reason))
        return UploadBatch(
            upload_id=upload_id,
            session_id=session_id,
            expires_in=request.expires_in,
            files=files,
        )

    async def import_uploaded(
        self, session_id: str, request: UploadedImport, *, actor: Actor
    ) -> ImportReport:
        """Check and file what was uploaded under `upload_id` (read back in chunks into a
        spooled file, copied server-side to its place); the staged objects are removed."""
        session = await self._session(session_id)
        if not re.fullmatch(r"up-[0-9a-f]{16}", request.upload_id):
            raise NotFound(f"No upload {request.upload_id}.")
        prefix = self._staging(session_id, request.upload_id)
        client = self._context.storage.client
        staged = await asyncio.to_thread(objects.list_objects, client, self._bucket, prefix)
        if not staged:
            raise NotFound(
                f"Nothing was uploaded under {request.upload_id} (or it was imported already).",
                detail={"upload_id": request.upload_id},
            )
        report: dict[int, ImportedFile] = {}
        accepted: list[tuple[int, Accepted]] = []
        spooled: list[IO[bytes]] = []
        try:
            for index, stored in enumerate(staged):
                name = stored.key.removeprefix(prefix)
                body = await asyncio.to_thread(_download, client, self._bucket, stored.key)
                spooled.append(body)
                checked = await self._check(Upload(name=name, body=body))
                if isinstance(checked, ImportedFile):
                    report[index] = checked
                else:
                    accepted.append(
                        (index, replace(checked, write=self.copier(self._bucket, stored.key)))
                    )
            result = await self.import_accepted(
                session,
                accepted,
                report,
                total=len(staged),
                options=request.options,
                actor=actor,
            )
        finally:
            for body in spooled:
                body.close()
        await asyncio.to_thread(objects.delete_keys, client, self._bucket, [o.key for o in staged])
        return result

    async def sweep_staged_uploads(self, now: datetime | None = None, *, batch: int = 200) -> int:
        """Remove what is still staged under upload batches whose URLs expired more than the
        grace period ago (never imported, or partly: an import removes what it read, files
        may come after it). Returns how many staged objects were removed."""
        grace = timedelta(seconds=self._context.settings.upload_sweep_grace_seconds)
        cutoff = (now or datetime.now(UTC)) - grace
        client = self._context.storage.client
        removed = 0
        while True:
            due = await self._repository.upload_batches_expired(cutoff, batch)
            for upload in due:
                staged = await asyncio.to_thread(
                    objects.list_objects, client, self._bucket, upload["prefix"]
                )
                keys = [o.key for o in staged]
                if keys:
                    await asyncio.to_thread(objects.delete_keys, client, self._bucket, keys)
                    log.info("removed %d staged file(s) of upload %s", len(keys), upload["_id"])
                await self._repository.forget_upload_batch(upload["_id"])
                removed += len(keys)
            if len(due) < batch:
                return removed

    async def _check(self, upload: Upload) -> ImportedFile | Accepted:
        reason = naming.unsafe_name_reason(upload.name)
        stem, extension = naming.split_name(upload.name)
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
            else:
                return Accepted(upload.name, stem, checked, self._uploader(upload.body, checked))
        return ImportedFile(
            original_name=upload.name,
            outcome="rejected",
            reason=reason,
            size=await asyncio.to_thread(_size_of, upload.body),
        )

    async def _store(
        self,
        session: Document,
        item: Accepted,
        options: ImportOptions,
        *,
        sequence: int,
        import_id: str,
        now: datetime,
        actor: Actor,
    ) -> tuple[ImportedFile, ImageRef | None]:
        session_id = session["_id"]
        checked = item.checked
        name = naming.stored_name(
            item.name,
            options,
            session_number=str(session.get("session_number") or session_id),
            sequence=sequence,
        )
        number = (
            sequence if options.rename == "renumber" else naming.image_number(item.stem, options)
        )
        folders = options.image_folders if checked.kind == "image" else [options.raw_folder]
        keys = {folder: f"sessions/{session_id}/{folder}/{name}" for folder in folders}
        image_id = image_id_of(session_id, checked.sha256)
        base = ImportedFile(
            original_name=item.name,
            outcome="stored",
            image_id=image_id,
            number=number,
            size=checked.size,
            sha256=checked.sha256,
        )
        document = {
            "_id": image_id,
            "session_id": session_id,
            "original_name": item.name,
            "name": name,
            "stem": item.stem,
            "kind": checked.kind,
            "content_type": checked.content_type,
            "keys": keys,
            "number": number,
            "size": checked.size,
            "sha256": checked.sha256,
            "width": checked.width,
            "height": checked.height,
            "keywords": options.keywords,
            "import_id": import_id,
            "imported_at": now,
            "imported_by": actor.user_id,
        }
        refused = await self._repository.claim(document, list(keys.values()))
        if refused == "duplicate":
            existing = await self._repository.get(image_id)
            where = existing["name"] if existing else "another file"
            return base.model_copy(
                update={
                    "outcome": "skipped",
                    "reason": f"the same content (SHA-256) is already imported as {where}",
                    "stored_as": list(existing["keys"].values()) if existing else [],
                }
            ), None
        if refused == "name_taken":
            return base.model_copy(
                update={
                    "outcome": "rejected",
                    "reason": f"another file is already stored as {name}",
                    "image_id": None,
                }
            ), None
        first, *others = keys.values()
        try:
            await item.write(first)
            # The other folders get a server-side copy (boto3 closes an uploaded body).
            for key in others:
                await asyncio.to_thread(
                    self._context.storage.client.copy_object,
                    Bucket=self._bucket,
                    Key=key,
                    CopySource={"Bucket": self._bucket, "Key": first},
                )
        except Exception as exc:
            log.exception("storing %s of session %s failed", name, session_id)
            await self._repository.release(image_id, list(keys.values()))
            return base.model_copy(
                update={
                    "outcome": "rejected",
                    "reason": f"storing failed: {type(exc).__name__}",
                    "image_id": None,
                }
            ), None
        main_folder = "hires" if "hires" in keys else next(iter(keys))
        ref = ImageRef(
            image_id=image_id,
            key=keys[main_folder],
            folder=main_folder,
            content_type=checked.content_type,
        )
        return base.model_copy(update={"stored_as": list(keys.values())}), ref

    def _uploader(self, body: IO[bytes], checked: Checked) -> Writer:
        async def write(key: str) -> None:
            body.seek(0)
            await self._context.storage.put(
                self._bucket, key, body, content_type=checked.content_type
            )

        return write

    def copier(self, bucket: str, source_key: str) -> Writer:
        """A writer that copies an object already in storage (a staged card frame)."""

        async def write(key: str) -> None:
            await asyncio.to_thread(
                self._context.storage.client.copy_object,
                Bucket=self._bucket,
                Key=key,
                CopySource={"Bucket": bucket, "Key": source_key},
            )

        return write

    # Retouched versions ------------------------------------------------------------------

    async def store_retouched(self, image_id: str, upload: Upload, *, actor: Actor) -> Image:
        """Check and store a retouched version of the image; an earlier one is replaced."""
        document = await self._repository.get(image_id)
        if document is None:
            raise NotFound(f"No image {image_id}.", detail={"image_id": image_id})
        checked = await self._check(upload)
        if isinstance(checked, ImportedFile):
            raise Unprocessable(
                f"The retouched file cannot be stored: {checked.reason}.",
                detail={"name": upload.name, "reason": checked.reason},
            )
        if checked.checked.kind != "image":
            raise Unprocessable(
                "A retouched file is a JPEG, PNG or TIFF.", detail={"name": upload.name}
            )
        extension = upload.name.rpartition(".")[2]
        stem = document["name"].rpartition(".")[0] or document["name"]
        key = f"sessions/{document['session_id']}/retouched/{stem}.{extension}"
        if not await self._repository.claim_key(key, image_id):
            raise Conflict(
                f"Another image's retouched file is stored as {key}.", detail={"key": key}
            )
        await checked.write(key)
        retouched = {
            "key": key,
            "original_name": upload.name,
            "content_type": checked.checked.content_type,
            "size": checked.checked.size,
            "sha256": checked.checked.sha256,
            "width": checked.checked.width,
            "height": checked.checked.height,
            "uploaded_at": _now_ms(),
            "uploaded_by": actor.user_id,
        }
        await self._repository.set_fields(image_id, {"keys.retouched": key, "retouched": retouched})
        earlier: Document | None = document.get("retouched")
        if earlier is not None and earlier["sha256"] != retouched["sha256"]:
            stale = _retouched_preview_key(document["session_id"], earlier)
            await self._context.storage.delete(self._bucket, stale)
        if earlier is not None and earlier["key"] != key:
            client = self._context.storage.client
            await asyncio.to_thread(objects.delete_keys, client, self._bucket, [earlier["key"]])
            await self._repository.release_key(earlier["key"], image_id)
        return image_view(
            {**document, "keys": {**document["keys"], "retouched": key}, "retouched": retouched}
        )

    async def images_of(self, session_id: str) -> list[Image]:
        await self._session(session_id)
        return [image_view(d) for d in await self._repository.of_session(session_id)]

    async def get(self, image_id: str) -> Image:
        document = await self._repository.get(image_id)
        if document is None:
            raise NotFound(f"No image {image_id}.", detail={"image_id": image_id})
        return image_view(document)

    async def preview_bytes(self, image_id: str) -> bytes:
        """The image's preview JPEG (render makes it after the import); 404 until then."""
        image = await self.get(image_id)
        if image.preview is None:
            raise NotFound(f"Image {image_id} has no preview yet.", detail={"image_id": image_id})
        return await self._context.storage.get_bytes(self._bucket, image.preview.key)

    async def retouched_preview_bytes(self, image_id: str) -> bytes:
        """A small JPEG of the image's retouched version, made from it on the first ask and kept
        (named by its content); 404 when the image has no retouched version."""
        document = await self._repository.get(image_id)
        if document is None:
            raise NotFound(f"No image {image_id}.", detail={"image_id": image_id})
        retouched: Document | None = document.get("retouched")
        if retouched is None:
            raise NotFound(
                f"Image {image_id} has no retouched version.", detail={"image_id": image_id}
            )
        storage = self._context.storage
        key = _retouched_preview_key(document["session_id"], retouched)
        if await storage.exists(self._bucket, key):
            return await storage.get_bytes(self._bucket, key)
        original = await storage.get_bytes(self._bucket, retouched["key"])
        body = await asyncio.to_thread(
            preview_jpeg,
            original,
            max_pixels=self._context.settings.max_image_pixels,
            budget=budget_of(self._context.settings.decode_budget_pixels),
        )
        await storage.put(self._bucket, key, body, content_type="image/jpeg")
        return body

    async def get_import(self, import_id: str) -> ImportReport:
        document = await self._repository.get_import(import_id)
        if document is None:
            raise NotFound(f"No import {import_id}.", detail={"import_id": import_id})
        return ImportReport.model_validate({**document, "import_id": document["_id"]})

    async def delete(self, image_id: str, *, actor: Actor) -> None:
        """Permanently delete one image: its stored files (every folder, and its preview), its
        record, and announce `workflow.images.deleted.v1`. A retry after a crash finishes it."""
        document = await self._repository.get(image_id)
        if document is None:
            raise NotFound(f"No image {image_id}.", detail={"image_id": image_id})
        keys: dict[str, str] = dict(document["keys"])
        if document.get("preview"):
            keys["previews"] = document["preview"]["key"]
        if document.get("retouched"):
            keys["retouched-preview"] = _retouched_preview_key(
                document["session_id"], document["retouched"]
            )
        await asyncio.to_thread(
            objects.delete_keys, self._context.storage.client, self._bucket, list(keys.values())
        )
        session_id = document["session_id"]
        removal_id = f"rm-{uuid.uuid4().hex[:16]}"
        event = Envelope.wrap(
            ImagesDeleted(
                session_id=session_id,
                images=[
                    ImageRef(
                        image_id=image_id,
                        key=key,
                        folder=folder,
                        content_type=document.get("content_type"),
                    )
                    for folder, key in keys.items()
                    if folder in ("raw", "hires", "previews")
                ],
            ),
            subject=session_id,
            source=source_of("workflow"),
        )
        await self._repository.record_removal(
            {
                "_id": removal_id,
                "session_id": session_id,
                "image_id": image_id,
                "deleted_keys": list(keys.values()),
                "deleted_at": datetime.now(UTC),
                "deleted_by": actor.user_id,
            },
            event,
        )
        if self._context.platform.relay is not None:
            self._context.platform.relay.notify(REMOVALS, removal_id)
        await self._repository.release(image_id, list(document["keys"].values()))

    # Consumed events ----------------------------------------------------------------------

    async def previews_created(self, payload: PreviewsCreated, context: HandlerContext) -> None:
        """Attach each preview (or the reason there is none) to its image, once per event."""
        images = self._context.db[IMAGES]
        for preview in payload.previews:
            await context.apply_once(
                images,
                {"_id": preview.image_id, "session_id": payload.session_id},
                {
                    "$set": {
                        "preview": {
                            "key": preview.key,
                            "width": preview.width,
                            "height": preview.height,
                        },
                        "preview_failure": None,
                    }
                },
            )
        for failure in payload.failures:
            await context.apply_once(
                images,
                {"_id": failure.image_id, "session_id": payload.session_id},
                {"$set": {"preview_failure": failure.reason}},
            )


def _download(client: Any, bucket: str, key: str) -> IO[bytes]:
    """The object, read in chunks into a file that spills to disk past 8 MiB."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    response = client.get_object(Bucket=bucket, Key=key)["Body"]
    try:
        for chunk in iter(lambda: response.read(1024 * 1024), b""):
            spool.write(chunk)
    finally:
        response.close()
    spool.seek(0)
    return cast(IO[bytes], spool)


def _now_ms() -> datetime:
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _size_of(body: IO[bytes]) -> int:
    body.seek(0, 2)
    size = body.tell()
    body.seek(0)
    return size
