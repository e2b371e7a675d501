"""The rules a studio gets without setting anything; it may edit or disable them (not delete:
they would come back at the next start)."""

from __future__ import annotations

from datetime import time

from notify.rules.schemas import RuleFields

DEFAULT_RULES: dict[str, RuleFields] = {
    "booking-confirmation": RuleFields(
        name="Booking confirmation",
        trigger="session.booked",
        channel="email",
        fallbacks=["sms", "call"],
        subject="Your session with {{ studio.name }} is booked",
        body=(
            "Hello {{ client.first_name or client.name }},\n\n"
            "your session {{ session.number }} is booked for {{ session.starts_at }}"
            "{% if session.location %} at {{ session.location }}{% endif %}.\n\n"
            "We look forward to seeing you.\n{{ studio.name }}"
        ),
    ),
    "session-reminder": RuleFields(
        name="Reminder the day before the session",
        trigger="session.booked",
        anchor="session_start",
        offset_days=-1,
        at_local_time=time(9, 0),
        channel="email",
        fallbacks=["sms", "call"],
        subject="See you tomorrow at {{ session.time }}",
        body=(
            "Hello {{ client.first_name or client.name }},\n\n"
            "a reminder: your session is tomorrow, {{ session.starts_at }}"
            "{% if session.location %} at {{ session.location }}{% endif %}.\n\n"
            "{{ studio.name }}"
        ),
    ),
    "deposit-receipt": RuleFields(
        name="Deposit receipt",
        trigger="deposit.paid",
        channel="email",
        subject="Your deposit to {{ studio.name }}",
        body=(
            "Hello {{ client.first_name or client.name }},\n\n"
            "we received your deposit of {{ payment.amount }} for session "
            "{{ session.number }} on {{ session.date }}. Thank you.\n\n{{ studio.name }}"
        ),
    ),
    "invoice-receipt": RuleFields(
        name="Invoice receipt",
        trigger="invoice.paid",
        channel="email",
        attach_invoice=True,
        subject="Your payment to {{ studio.name }}",
        body=(
            "Hello {{ client.first_name or client.name }},\n\n"
            "we received your payment of {{ payment.amount }}. "
            "{% if invoice.amount_due %}Still due: {{ invoice.amount_due }}.{% endif %}\n\n"
            "Thank you.\n{{ studio.name }}"
        ),
    ),
    "delivery-ready": RuleFields(
        name="Your images are ready (delivery)",
        trigger="delivery.ready",
        channel="email",
        fallbacks=["call"],
        subject="{{ studio.name }}: your images are ready ({{ delivery.title }})",
        body=(
            "Hello {{ client.first_name or client.name }},\n\n"
            "your images are ready: {{ delivery.title }}.\n"
            "Download them here: {{ delivery.link_url }}\n\n"
            "The link works until {{ delivery.expires }}.\n{{ studio.name }}"
        ),
    ),
}
