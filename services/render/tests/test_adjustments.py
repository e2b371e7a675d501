"""A recipe's adjustments and colorization on rendered pixels (pure Pillow, no servers)."""

from __future__ import annotations

from PIL import Image

from render.imaging.adjustments import apply_recipe, tone_table
from render.imaging.specs import Adjustments, Colorization, Levels, Recipe

MID = (120, 90, 60)


def after(recipe: Recipe, colour: tuple[int, int, int] = MID) -> tuple[int, int, int]:
    pixel = apply_recipe(Image.new("RGB", (8, 8), colour), recipe).getpixel((4, 4))
    assert isinstance(pixel, tuple)
    return (int(pixel[0]), int(pixel[1]), int(pixel[2]))


def test_no_adjustment_leaves_the_pixels_alone() -> None:
    assert tone_table(Adjustments()) is None
    assert after(Recipe(adjustments=Adjustments(), colorization=Colorization())) == MID


def test_each_adjustment_moves_the_tones_the_way_its_name_says() -> None:
    brighter = after(Recipe(adjustments=Adjustments(exposure=1)))
    assert all(b > m for b, m in zip(brighter, MID, strict=True))
    darker = after(Recipe(adjustments=Adjustments(brightness=-50)))
    assert all(d < m for d, m in zip(darker, MID, strict=True))
    flatter = after(Recipe(adjustments=Adjustments(contrast=-100)))
    assert flatter == (128, 128, 128)
    clipped = after(Recipe(adjustments=Adjustments(levels=Levels(black=60, white=120))))
    assert clipped == (255, 128, 0)
    grey = after(Recipe(adjustments=Adjustments(saturation=-100)))
    assert max(grey) - min(grey) <= 1


def test_black_and_white_sepia_and_a_half_strength_tint() -> None:
    bw = after(Recipe(colorization=Colorization(mode="black_and_white")))
    assert bw[0] == bw[1] == bw[2]
    sepia = after(Recipe(colorization=Colorization(mode="sepia")), (100, 100, 100))
    assert sepia[0] > sepia[1] > sepia[2]
    full = after(Recipe(colorization=Colorization(mode="tint", tint_color="#0000ff")), (128,) * 3)
    half = after(
        Recipe(colorization=Colorization(mode="tint", tint_color="#0000ff", strength=0.5)),
        (128, 128, 128),
    )
    assert full[2] > half[2] > 128 > half[0] > full[0]
