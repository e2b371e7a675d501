"""Factories for the render tests: seeded photos, the service in-process on its own database."""

from __future__ import annotations

import contextlib
import functools
import io
import random
import struct
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from PIL import Image
from pymongo import AsyncMongoClient

from kit.mongo import Document
from kit.settings import InfraSettings
from kit.testing import build_app, running
from render.context import RenderContext, context_of


def photo(
    width: int = 1200, height: int = 800, *, seed: int = 1, icc: bytes | None = None
) -> bytes:
    """A seeded JPEG 'photo' (gradients and noise), optionally tagged with an ICC profile."""
    rng = random.Random(seed)
    base = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 40 + rng.randint(0, 20))
    image = Image.merge("RGB", (base, noise, base.rotate(180)))
    buffer = io.BytesIO()
    extra: dict[str, Any] = {"icc_profile": icc} if icc else {}
    image.save(buffer, "JPEG", quality=90, **extra)
    return buffer.getvalue()


def adobe_rgb_icc() -> bytes:
    """A minimal ICC v2 matrix/TRC profile with Adobe RGB (1998) primaries: a real non-sRGB
    RGB profile (Pillow can author only sRGB, and the machine has no ICC files)."""

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ " + bytes(4) + s15(x) + s15(y) + s15(z)

    name = b"Adobe RGB (1998) compatible\0"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(name)) + name + bytes(4 + 4 + 2 + 1 + 67)
    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, 563) + bytes(2)  # gamma 563/256 = 2.2
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.6097, 0.3111, 0.0195)),
        (b"gXYZ", xyz(0.2053, 0.6257, 0.0609)),
        (b"bXYZ", xyz(0.1492, 0.0632, 0.7446)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        body += bytes(-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = (
        struct.pack(">I", size)
        + bytes(4)
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + bytes(12)
        + b"acsp"
        + bytes(4 + 4 + 4 + 4 + 8 + 4)
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + bytes(4 + 44)
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


def open_output(body: bytes) -> Image.Image:
    return Image.open(io.BytesIO(body))


PhotoFactory = Callable[..., bytes]


@pytest.fixture
def make_photo() -> PhotoFactory:
    """`make_photo(width, height, seed=...)`: a seeded JPEG photo."""
    return photo


@pytest.fixture
def adobe_rgb() -> bytes:
    return adobe_rgb_icc()


@dataclass
class Service:
    http: httpx.AsyncClient
    ctx: RenderContext
    infra: InfraSettings

    async def profile(self, **overrides: Any) -> Document:
        body = {"name": "Web proof", "purpose": "proof", "size": {"long_edge_px": 400}}
        answer = await self.http.post("/profiles", json={**body, **overrides})
        assert answer.status_code == 201, answer.text
        created: Document = answer.json()
        return created

    async def upload(self, key: str, body: bytes) -> None:
        await self.ctx.storage.put(self.infra.images_bucket, key, body, content_type="image/jpeg")


ServiceFactory = Callable[..., contextlib.AbstractAsyncContextManager[Service]]


@pytest.fixture
def render_service(unique: str) -> ServiceFactory:
    """`async with render_service(**setting_overrides) as service: ...`"""
    return functools.partial(open_render_service, unique)


@contextlib.asynccontextmanager
async def open_render_service(unique: str, **overrides: Any) -> AsyncIterator[Service]:
    infra = InfraSettings(environment="test", images_bucket=f"t-{unique}-images")
    app = build_app("render", database=f"t_{unique}", infra=infra, **overrides)
    try:
        async with running(app) as http:
            yield Service(http, context_of(app.state.platform), infra)
    finally:
        client: AsyncMongoClient[Document] = AsyncMongoClient(infra.mongo_url)
        await client.drop_database(f"t_{unique}")
        await client.close()
