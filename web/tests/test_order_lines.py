"""An invoice form's lines without a server: the crop a ratio makes, and what is refused."""

from __future__ import annotations

import pytest
from starlette.datastructures import FormData

from web.screens.orders.lines import (
    LineProblem,
    centred_crop,
    line_bodies,
    row_count,
    row_of_problem,
    typed_lines,
)


def test_a_ratio_takes_the_largest_centred_crop_of_either_orientation() -> None:
    assert centred_crop(6000, 4000, "1:1") == {
        "x": pytest.approx(1 / 6, abs=1e-6),
        "y": 0.0,
        "width": pytest.approx(2 / 3, abs=1e-6),
        "height": 1.0,
    }
    portrait = centred_crop(4000, 6000, "8:10")
    assert portrait["width"] == 1.0
    assert portrait["height"] == pytest.approx((4000 / 6000) / 0.8, abs=1e-6)
    assert portrait["y"] == pytest.approx((1 - portrait["height"]) / 2, abs=1e-6)


def test_a_ratio_over_images_of_different_shapes_is_refused_on_its_row() -> None:
    form = FormData(
        [
            ("line-0-product", "p"),
            ("line-0-images", "a"),
            ("line-0-images", "b"),
            ("line-0-crop", "5:7"),
        ]
    )
    images = {"a": {"width": 900, "height": 600}, "b": {"width": 600, "height": 900}}
    with pytest.raises(LineProblem) as refused:
        line_bodies(typed_lines(form, 1), images)
    assert refused.value.row == 0
    assert "differ in shape" in refused.value.message


def test_a_custom_crop_out_of_range_and_a_bad_price_are_refused_before_anything_is_sent() -> None:
    def body(**fields: str) -> list[dict[str, object]]:
        pairs = [("line-0-product", "p")] + [(f"line-0-{k}", v) for k, v in fields.items()]
        return line_bodies(typed_lines(FormData(pairs), 1), {})

    with pytest.raises(LineProblem, match="Crop width"):
        body(crop="custom", x="0", y="0", width="120", height="10")
    with pytest.raises(LineProblem, match="Crop x"):
        body(crop="custom", x="", y="0", width="10", height="10")
    with pytest.raises(LineProblem, match="Unit price"):
        body(price="4.555")
    assert body(price="4,50", notes=" crop tight ") == [
        {
            "product_id": "p",
            "quantity": 1,
            "image_ids": [],
            "unit_price_minor": 450,
            "retouch_notes": "crop tight",
        }
    ]


def test_rows_grow_by_one_when_asked_and_stay_bounded() -> None:
    assert row_count(FormData([])) == 3
    assert row_count(FormData([("line_rows", "5"), ("add_line", "1")])) == 6
    assert row_count(FormData([("line_rows", "100000")])) == 100
    assert row_count(FormData([("line_rows", "x")])) == 3
    assert row_of_problem(["body", "lines", 2, "crop", "width"]) == 2
    assert row_of_problem(["body", "tax_rate_percent"]) is None
