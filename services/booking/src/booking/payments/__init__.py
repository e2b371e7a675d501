"""Payments: Stripe deposits and invoice payments, refunds, the verified webhook."""

from booking.features import Feature
from booking.payments.repository import INDEXES, PAYMENTS
from booking.payments.router import close_stripe, open_stripe, router

feature = Feature(
    routers=[router],
    indexes=INDEXES,
    outbox_collections=[PAYMENTS],
    on_start=[open_stripe],
    on_stop=[close_stripe],
)
