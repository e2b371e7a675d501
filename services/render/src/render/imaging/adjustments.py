"""A recipe's tone edits and colorization, applied to the rendered pixels.

They run after the resize and the conversion to sRGB, so they cost the output's pixels only:
exposure, levels, contrast and brightness fold into one 256-entry table per channel (a single
`point` pass), saturation is one `ImageEnhance.Color` blend, and colorization is a luminance
conversion or a colour matrix (`convert("RGB", matrix)`), blended in at its strength.
Blocking CPU work, like the rest of the pipeline.
"""

from __future__ import annotations

from PIL import Image, ImageEnhance, ImageOps

from render.imaging.specs import Adjustments, Colorization, Recipe

# Exposure is a gain on linear light; sRGB is close enough to a 2.2 power curve for it.
GAMMA = 2.2
# The classic sepia colour matrix (rows: output R, G, B from input R, G, B; no offsets).
SEPIA = (
    *(0.393, 0.769, 0.189, 0.0),
    *(0.349, 0.686, 0.168, 0.0),
    *(0.272, 0.534, 0.131, 0.0),
)


def apply_recipe(image: Image.Image, recipe: Recipe) -> Image.Image:
    """`image` (RGB) with the recipe's adjustments, then its colorization."""
    if recipe.adjustments is not None:
        image = adjust(image, recipe.adjustments)
    if recipe.colorization is not None:
        image = colorize(image, recipe.colorization)
    return image


def tone_table(adjustments: Adjustments) -> list[int] | None:
    """One channel's lookup table for levels, exposure, contrast and brightness (None: all
    unchanged). Order: levels, exposure (linear light), contrast about mid grey, brightness."""
    levels = adjustments.levels
    identity = (
        adjustments.exposure == 0
        and adjustments.contrast == 0
        and adjustments.brightness == 0
        and (levels.black, levels.white, levels.gamma) == (0, 255, 1.0)
    )
    if identity:
        return None
    gain = 2.0**adjustments.exposure
    contrast = 1 + adjustments.contrast / 100
    offset = adjustments.brightness / 100 * 0.5
    span = levels.white - levels.black
    table = []
    for value in range(256):
        v = min(1.0, max(0.0, (value - levels.black) / span)) ** (1 / levels.gamma)
        v = min(1.0, (v**GAMMA) * gain) ** (1 / GAMMA)
        v = (v - 0.5) * contrast + 0.5 + offset
        table.append(round(min(1.0, max(0.0, v)) * 255))
    return table


def adjust(image: Image.Image, adjustments: Adjustments) -> Image.Image:
    table = tone_table(adjustments)
    if table is not None:
        image = image.point(table * len(image.getbands()))
    if adjustments.saturation != 0:
        image = ImageEnhance.Color(image).enhance(1 + adjustments.saturation / 100)
    return image


def colorize(image: Image.Image, colorization: Colorization) -> Image.Image:
    if colorization.mode == "none" or colorization.strength == 0:
        return image
    if colorization.mode == "sepia":
        toned = image.convert("RGB", SEPIA)
    else:
        grey = image.convert("L")
        if colorization.mode == "black_and_white":
            toned = grey.convert("RGB")
        else:
            assert colorization.tint_color is not None
            toned = ImageOps.colorize(
                grey, black="#000000", white="#ffffff", mid=colorization.tint_color
            )
    if colorization.strength >= 1:
        return toned
    return Image.blend(image, toned, colorization.strength)
