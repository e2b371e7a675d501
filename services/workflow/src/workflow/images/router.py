"""Import images into a session and read their metadata."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile, status
from pydantic import ValidationError

from kit.errors import Unprocessable
from workflow.context import ActorDep, ContextDep
from workflow.images.schemas import (
    Image,
    ImportOptions,
    ImportReport,
    UploadBatch,
    UploadedImport,
    UploadRequest,
)
from workflow.images.service import ImageService, Upload

router = APIRouter(prefix="/workflow", tags=["images"])


def parse_options(raw: str | None) -> ImportOptions:
    if not raw:
        return ImportOptions()
    try:
        return ImportOptions.model_validate_json(raw)
    except ValidationError as exc:
        raise Unprocessable(
            "The import options are not valid.",
            detail=exc.errors(include_url=False, include_context=False, include_input=False),
        ) from None


@router.post(
    "/sessions/{session_id}/imports",
    status_code=status.HTTP_201_CREATED,
    summary="Import files into a session (multipart)",
)
async def import_images(
    session_id: str,
    files: Annotated[list[UploadFile], File(description="the files, one part each")],
    context: ContextDep,
    actor: ActorDep,
    options: Annotated[str | None, Form(description="ImportOptions as JSON")] = None,
) -> ImportReport:
    """Stores JPEG, PNG, TIFF (each proven to decode) and camera RAW files (as they are) under
    `sessions/<id>/<folder>/`, renamed and numbered as `options` say. A corrupt, truncated,
    oversized (decompression bomb), unknown or badly named file is rejected with its reason and
    content imported before is skipped; the rest is stored. Announces
    `workflow.images.imported.v1` for the stored images."""
    parsed = parse_options(options)
    uploads = [Upload(name=f.filename or "", body=f.file) for f in files]
    return await ImageService(context).import_files(session_id, uploads, parsed, actor=actor)


@router.post(
    "/sessions/{session_id}/uploads",
    status_code=status.HTTP_201_CREATED,
    summary="Presigned PUT URLs for uploading large files straight to storage",
)
async def presign_uploads(
    session_id: str, request: UploadRequest, context: ContextDep
) -> UploadBatch:
    """PUT each file to its URL, then import them with `POST .../imports/uploaded`. A name
    with a path separator gets no URL and says why."""
    return await ImageService(context).presign_uploads(session_id, request)


@router.post(
    "/sessions/{session_id}/imports/uploaded",
    status_code=status.HTTP_201_CREATED,
    summary="Import the files uploaded with presigned URLs",
)
async def import_uploaded(
    session_id: str, request: UploadedImport, context: ContextDep, actor: ActorDep
) -> ImportReport:
    """The same checks, rules and report as the multipart import."""
    return await ImageService(context).import_uploaded(session_id, request, actor=actor)


@router.get("/sessions/{session_id}/images", summary="A session's images, by number")
async def session_images(session_id: str, context: ContextDep) -> list[Image]:
    return await ImageService(context).images_of(session_id)


@router.get("/images/{image_id}", summary="One image's metadata")
async def get_image(image_id: str, context: ContextDep) -> Image:
    return await ImageService(context).get(image_id)


@router.get(
    "/images/{image_id}/preview",
    summary="One image's preview JPEG",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}}, "description": "The preview"},
        404: {"description": "No such image, or no preview yet"},
    },
)
async def get_preview(image_id: str, context: ContextDep) -> Response:
    """The low-resolution preview render made for the image (never the original), for the
    studio's screens; previews are small, so the body is sent whole."""
    body = await ImageService(context).preview_bytes(image_id)
    return Response(
        body, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"}
    )


@router.put("/images/{image_id}/retouched", summary="Store an image's retouched version")
async def put_retouched(
    image_id: str,
    file: Annotated[UploadFile, File(description="the retouched JPEG, PNG or TIFF")],
    context: ContextDep,
    actor: ActorDep,
) -> Image:
    """Stored as `sessions/<id>/retouched/<image's stored name, this file's extension>`,
    checked like an import (it must decode); replaces an earlier retouched version. Render
    sets then render from it instead of the original, which stays as it is."""
    upload = Upload(name=file.filename or "", body=file.file)
    return await ImageService(context).store_retouched(image_id, upload, actor=actor)


@router.get(
    "/images/{image_id}/retouched/preview",
    summary="A preview JPEG of an image's retouched version",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}}, "description": "The preview"},
        404: {"description": "No such image, or no retouched version"},
    },
)
async def get_retouched_preview(image_id: str, context: ContextDep) -> Response:
    """A small JPEG (1024 px long edge) of the retouched file, never the file itself: made from
    it on the first ask, kept, and deleted with the image or when the version is replaced."""
    body = await ImageService(context).retouched_preview_bytes(image_id)
    return Response(
        body, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"}
    )


@router.get("/imports/{import_id}", summary="An import's report")
async def get_import(import_id: str, context: ContextDep) -> ImportReport:
    return await ImageService(context).get_import(import_id)


@router.delete(
    "/images/{image_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Permanently delete one image",
)
async def delete_image(image_id: str, context: ContextDep, actor: ActorDep) -> Response:
    """Deletes the image's files in every folder (and its preview) and its record, and
    announces `workflow.images.deleted.v1`. This cannot be undone."""
    await ImageService(context).delete(image_id, actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
