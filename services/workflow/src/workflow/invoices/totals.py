"""Invoice arithmetic in integer minor units; percentages round half up, once per step."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from kit.errors import Unprocessable


def percent_of(amount_minor: int, percent: Decimal) -> int:
    return int((Decimal(amount_minor) * percent / 100).quantize(Decimal(1), ROUND_HALF_UP))


@dataclass(frozen=True)
class Discount:
    description: str
    percent: Decimal | None
    amount_minor: int | None


@dataclass(frozen=True)
class Totals:
    line_totals: list[int]
    discount_amounts: list[int]
    subtotal_minor: int
    discount_minor: int
    taxable_minor: int
    tax_minor: int
    total_minor: int


def compute_totals(
    lines: list[tuple[int, int]], discounts: list[Discount], tax_rate_percent: Decimal
) -> Totals:
    """`lines` are (quantity, unit price); discounts apply to the subtotal, tax to the rest."""
    line_totals = [quantity * unit_price for quantity, unit_price in lines]
    subtotal = sum(line_totals)
    amounts = [
        percent_of(subtotal, d.percent) if d.percent is not None else int(d.amount_minor or 0)
        for d in discounts
    ]
    discount = sum(amounts)
    if discount > subtotal:
        raise Unprocessable(
            f"The discounts ({discount}) exceed the subtotal ({subtotal}).",
            detail={"subtotal_minor": subtotal, "discount_minor": discount},
        )
    taxable = subtotal - discount
    tax = percent_of(taxable, tax_rate_percent)
    return Totals(line_totals, amounts, subtotal, discount, taxable, tax, taxable + tax)
