"""Booking's settings in production: the signed-link key must be at least 32 bytes and not
the local development key; each refusal names the setting."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from booking.config import BookingSettings


@pytest.fixture(autouse=True)
def production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_ENVIRONMENT", "production")
    monkeypatch.setenv("STUDIO_S3_ACCESS_KEY", "production-access-key")
    monkeypatch.setenv("STUDIO_S3_SECRET_KEY", "production-secret-key")
    monkeypatch.setenv("STUDIO_INTERNAL_SECRET", "i" * 32)
    monkeypatch.setenv("BOOKING_STRIPE_API_KEY", "sk_live_production")
    monkeypatch.setenv("BOOKING_STRIPE_WEBHOOK_SECRET", "whsec_production")
    monkeypatch.setenv("BOOKING_LINK_SECRET", "l" * 32)


def test_a_short_link_secret_stops_booking_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BOOKING_LINK_SECRET", "x")

    with pytest.raises(ValidationError, match="BOOKING_LINK_SECRET is shorter than 32 bytes"):
        BookingSettings(_env_file=None)  # type: ignore[call-arg]


def test_the_local_link_secret_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOKING_LINK_SECRET", "local-link-secret-not-for-production")

    with pytest.raises(ValidationError, match="BOOKING_LINK_SECRET is the local servers' value"):
        BookingSettings(_env_file=None)  # type: ignore[call-arg]


def test_a_32_byte_link_secret_is_taken() -> None:
    assert BookingSettings(_env_file=None).secret("link_secret") == "l" * 32  # type: ignore[call-arg]
