"""The pure render function: size and fit, DPI, bleed, watermark, colour, formats, bad input."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from PIL import Image, ImageStat

from render.imaging.pipeline import SRGB_ICC, SourceImageError, open_source, render
from render.imaging.specs import (
    Bleed,
    Crop,
    FileFormat,
    OutputSize,
    PrintSize,
    Recipe,
    RenderSpec,
    Sharpening,
    Watermark,
)


def test_a_proof_has_the_long_edge_asked_for_and_keeps_the_aspect_ratio(
    make_photo: Callable[..., bytes],
) -> None:
    out = render(make_photo(1500, 1000), RenderSpec(size=OutputSize(long_edge_px=600), dpi=72))
    image = open_source(out.body)
    assert image.format == "JPEG"
    assert image.size == (600, 400) == (out.width, out.height)
    assert image.info["dpi"] == pytest.approx((72, 72))
    assert image.info["icc_profile"] == SRGB_ICC


def test_a_portrait_print_of_a_landscape_photo_turns_the_print_size(
    make_photo: Callable[..., bytes],
) -> None:
    spec = RenderSpec(
        size=OutputSize(print_size=PrintSize(width_in=4, height_in=6), fit="cover"), dpi=100
    )
    image = open_source(render(make_photo(1500, 1000), spec).body)
    assert image.size == (600, 400)


def test_contain_fits_inside_the_print_and_cover_fills_it(make_photo: Callable[..., bytes]) -> None:
    box = PrintSize(width_in=10, height_in=8)
    contain = render(make_photo(1200, 1200), RenderSpec(size=OutputSize(print_size=box), dpi=50))
    cover = render(
        make_photo(1200, 1200), RenderSpec(size=OutputSize(print_size=box, fit="cover"), dpi=50)
    )
    assert (contain.width, contain.height) == (400, 400)
    assert (cover.width, cover.height) == (500, 400)


def test_a_print_with_bleed_grows_each_side_and_fills_it_from_the_edge(
    make_photo: Callable[..., bytes],
) -> None:
    # Left half black, right half white: an edge-filled bleed stays black on the left.
    source = Image.new("RGB", (1000, 800), "white")
    source.paste((0, 0, 0), (0, 0, 500, 800))
    buffer = io.BytesIO()
    source.save(buffer, "PNG")
    spec = RenderSpec(
        size=OutputSize(print_size=PrintSize(width_in=10, height_in=8)),
        dpi=100,
        bleed=Bleed(amount=6.35, unit="mm"),  # 1/4 in = 25 px at 100 DPI
        format=FileFormat(kind="png"),
    )
    out = render(buffer.getvalue(), spec)
    image = open_source(out.body)
    assert image.size == (1000 + 50, 800 + 50)
    assert image.format == "PNG"
    assert image.info["dpi"] == pytest.approx((100, 100), abs=0.01)
    assert image.getpixel((2, 2)) == (0, 0, 0)
    assert image.getpixel((1047, 400)) == (255, 255, 255)


def test_a_mirrored_bleed_reflects_the_picture_at_the_edge(
    make_photo: Callable[..., bytes],
) -> None:
    source = Image.new("RGB", (400, 400), "white")
    source.paste((255, 0, 0), (0, 0, 10, 400))  # a red stripe 10 px wide at the left edge
    buffer = io.BytesIO()
    source.save(buffer, "PNG")
    spec = RenderSpec(
        size=OutputSize(long_edge_px=400),
        dpi=100,
        bleed=Bleed(amount=0.2, fill="mirror"),  # 20 px
        format=FileFormat(kind="png"),
    )
    image = open_source(render(buffer.getvalue(), spec).body)
    assert image.size == (440, 440)
    assert image.getpixel((15, 200)) == (255, 0, 0)  # the stripe, mirrored into the bleed
    assert image.getpixel((2, 200)) == (255, 255, 255)  # beyond it, the white that follows


def test_the_recipe_crop_is_applied_before_sizing(make_photo: Callable[..., bytes]) -> None:
    source = Image.new("RGB", (1000, 1000), "white")
    source.paste((0, 0, 255), (500, 0, 1000, 1000))
    buffer = io.BytesIO()
    source.save(buffer, "PNG")
    crop = Recipe(version=3, crop=Crop(x=0.5, y=0.0, width=0.5, height=0.5))
    spec = RenderSpec(size=OutputSize(long_edge_px=100), format=FileFormat(kind="png"))
    image = open_source(render(buffer.getvalue(), spec, crop).body)
    assert image.size == (100, 100)
    assert ImageStat.Stat(image).mean == pytest.approx([0, 0, 255], abs=1)


def test_a_watermark_marks_the_chosen_corner_only(make_photo: Callable[..., bytes]) -> None:
    grey = Image.new("RGB", (800, 600), (60, 60, 60))
    buffer = io.BytesIO()
    grey.save(buffer, "PNG")
    spec = RenderSpec(
        size=OutputSize(long_edge_px=800),
        watermark=Watermark(text="PROOF", opacity=0.8, position="bottom_right", scale=0.3),
        format=FileFormat(kind="png"),
    )
    image = open_source(render(buffer.getvalue(), spec).body)
    corner = ImageStat.Stat(image.crop((500, 450, 800, 600))).extrema[0][1]
    elsewhere = ImageStat.Stat(image.crop((0, 0, 400, 300))).extrema[0][1]
    assert corner > 150
    assert elsewhere == 60


def test_a_tiled_watermark_covers_the_whole_picture(make_photo: Callable[..., bytes]) -> None:
    grey = Image.new("RGB", (800, 600), (60, 60, 60))
    buffer = io.BytesIO()
    grey.save(buffer, "PNG")
    spec = RenderSpec(
        size=OutputSize(long_edge_px=800),
        watermark=Watermark(text="PROOF", opacity=0.8, position="tiled", scale=0.2),
        format=FileFormat(kind="png"),
    )
    image = open_source(render(buffer.getvalue(), spec).body)
    for quarter in ((0, 0, 400, 300), (400, 300, 800, 600)):
        assert ImageStat.Stat(image.crop(quarter)).extrema[0][1] > 150


def test_a_non_srgb_source_is_converted_with_its_embedded_profile(adobe_rgb: bytes) -> None:
    # A muted Adobe RGB green is a stronger one in sRGB: its red channel drops to zero.
    tagged = Image.new("RGB", (300, 200), (40, 160, 60))
    buffer = io.BytesIO()
    tagged.save(buffer, "JPEG", quality=95, subsampling=0, icc_profile=adobe_rgb)
    out = render(buffer.getvalue(), RenderSpec(size=OutputSize(long_edge_px=300)))
    image = open_source(out.body)
    assert image.info["icc_profile"] == SRGB_ICC
    assert ImageStat.Stat(image).mean == pytest.approx([0, 161, 47], abs=4)
    as_is = render(
        buffer.getvalue(), RenderSpec(size=OutputSize(long_edge_px=300), convert_to_srgb=False)
    )
    assert ImageStat.Stat(open_source(as_is.body)).mean == pytest.approx([40, 160, 60], abs=4)


def test_tiff_and_jpeg_options_are_written_into_the_file(make_photo: Callable[..., bytes]) -> None:
    tiff = render(
        make_photo(),
        RenderSpec(size=OutputSize(long_edge_px=300), dpi=240, format=FileFormat(kind="tiff")),
    )
    image = open_source(tiff.body)
    assert image.format == "TIFF"
    assert image.info["dpi"] == pytest.approx((240, 240))
    assert image.info["icc_profile"] == SRGB_ICC
    fine = render(
        make_photo(),
        RenderSpec(
            size=OutputSize(long_edge_px=300),
            sharpening=Sharpening(amount=150, radius=1.5, threshold=0),
            format=FileFormat(quality=95, subsampling="4:4:4"),
        ),
    )
    coarse = render(
        make_photo(), RenderSpec(size=OutputSize(long_edge_px=300), format=FileFormat(quality=40))
    )
    assert len(fine.body) > len(coarse.body)
    assert open_source(fine.body).layers == 3


def test_a_corrupt_source_is_refused_with_a_reason(make_photo: Callable[..., bytes]) -> None:
    truncated = make_photo()[:2000]
    with pytest.raises(SourceImageError, match=r"could not be decoded|not a readable"):
        render(truncated, RenderSpec(size=OutputSize(long_edge_px=100)))
    with pytest.raises(SourceImageError, match="not a readable"):
        render(b"GIF89a not a photo", RenderSpec(size=OutputSize(long_edge_px=100)))


def test_a_photo_shot_upright_is_rendered_upright_from_its_exif_orientation() -> None:
    stored = Image.new("RGB", (1500, 1000), "white")
    stored.paste((255, 0, 0), (0, 0, 750, 1000))  # red on the stored left = the upright top
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to show
    buffer = io.BytesIO()
    stored.save(buffer, "JPEG", quality=95, exif=exif)
    out = render(buffer.getvalue(), RenderSpec(size=OutputSize(long_edge_px=300)))
    image = open_source(out.body)
    assert image.size == (200, 300)
    assert image.getpixel((100, 20))[0] > 200
    assert image.getpixel((100, 20))[1] < 60
    assert image.getpixel((100, 280)) == pytest.approx((255, 255, 255), abs=8)
