"""The HTTP SMS provider against a real (fake) SMS gateway on loopback."""

from __future__ import annotations

import socket
from contextlib import aclosing

import pytest
from fake_sms_gateway import Misbehaviour, ReceivedSms, running_sms_gateway
from pydantic import SecretStr

from notify.config import NotifySettings
from notify.messages.sms import HttpSmsProvider, SmsRefused, SmsUnavailable, sms_provider

REMINDER = "Your session at Our Studio is tomorrow at 14:00."


async def test_a_message_sent_arrives_with_sender_number_and_text() -> None:
    async with running_sms_gateway() as gateway, aclosing(gateway.provider()) as sms:
        message_id = await sms.send(to="+4915112345678", text=REMINDER, idempotency_key="k-1")

    assert gateway.messages == [
        ReceivedSms(message_id, "Studio", "+4915112345678", REMINDER, "k-1")
    ]


async def test_numbers_with_spaces_dashes_and_parentheses_are_normalised() -> None:
    async with running_sms_gateway() as gateway, aclosing(gateway.provider()) as sms:
        await sms.send(to=" +49 (151) 123-456 78 ", text=REMINDER, idempotency_key="k-1")

    assert [m.to for m in gateway.messages] == ["+4915112345678"]


async def test_a_wrong_api_key_is_refused() -> None:
    async with (
        running_sms_gateway() as gateway,
        aclosing(gateway.provider(api_key="not-the-key")) as sms,
    ):
        with pytest.raises(SmsRefused, match="API key") as refused:
            await sms.send(to="+4915112345678", text=REMINDER, idempotency_key="k-1")

    assert refused.value.status == 401
    assert gateway.messages == []


@pytest.mark.parametrize("status", [503, 429, 408])
async def test_a_busy_provider_is_unavailable_with_the_wait_it_asks_for(status: int) -> None:
    busy = Misbehaviour(unavailable=1, unavailable_status=status, retry_after="7")
    async with running_sms_gateway(misbehave=busy) as gateway, aclosing(gateway.provider()) as sms:
        with pytest.raises(SmsUnavailable, match=str(status)) as unavailable:
            await sms.send(to="+4915112345678", text=REMINDER, idempotency_key="k-1")
        await sms.send(to="+4915112345678", text=REMINDER, idempotency_key="k-1")

    assert unavailable.value.retry_after == 7.0
    assert len(gateway.messages) == 1


async def test_a_busy_provider_without_retry_after_leaves_the_wait_to_us() -> None:
    busy = Misbehaviour(unavailable=1, retry_after=None)
    async with running_sms_gateway(misbehave=busy) as gateway, aclosing(gateway.provider()) as sms:
        with pytest.raises(SmsUnavailable) as unavailable:
            await sms.send(to="+4915112345678", text=REMINDER, idempotency_key="k-1")

    assert unavailable.value.retry_after is None


async def test_a_dropped_connection_is_unavailable() -> None:
    async with (
        running_sms_gateway(misbehave=Misbehaviour(drops=1)) as gateway,
        aclosing(gateway.provider()) as sms,
    ):
        with pytest.raises(SmsUnavailable, match="could not be reached"):
            await sms.send(to="+4915112345678", text=REMINDER, idempotency_key="k-1")


async def test_a_retry_after_a_lost_answer_stores_the_message_once() -> None:
    async with (
        running_sms_gateway(misbehave=Misbehaviour(drops=1)) as gateway,
        aclosing(gateway.provider()) as sms,
    ):
        with pytest.raises(SmsUnavailable):
            await sms.send(to="+4915112345678", text=REMINDER, idempotency_key="k-1")
        message_id = await sms.send(to="+4915112345678", text=REMINDER, idempotency_key="k-1")

    assert [m.id for m in gateway.messages] == [message_id]
    assert gateway.requests == 2


async def test_the_same_key_twice_is_one_message_with_one_id() -> None:
    async with running_sms_gateway() as gateway, aclosing(gateway.provider()) as sms:
        first = await sms.send(to="+4915112345678", text=REMINDER, idempotency_key="k-1")
        again = await sms.send(to="+4915112345678", text=REMINDER, idempotency_key="k-1")
        other = await sms.send(to="+4915112345678", text=REMINDER, idempotency_key="k-2")

    assert first == again != other
    assert [m.idempotency_key for m in gateway.messages] == ["k-1", "k-2"]


@pytest.mark.parametrize(
    "number", ["015112345678", "+49 151 abc", "+0123456789", "+1234567", "+1234567890123456", ""]
)
async def test_an_invalid_number_is_refused_without_asking_the_provider(number: str) -> None:
    async with running_sms_gateway() as gateway, aclosing(gateway.provider()) as sms:
        with pytest.raises(SmsRefused, match="international form") as refused:
            await sms.send(to=number, text=REMINDER, idempotency_key="k-1")

    assert refused.value.status is None
    assert gateway.requests == 0


async def test_a_number_the_provider_refuses_carries_its_reason() -> None:
    refusing = Misbehaviour(refused_numbers={"+4915112345678"})
    async with (
        running_sms_gateway(misbehave=refusing) as gateway,
        aclosing(gateway.provider()) as sms,
    ):
        with pytest.raises(SmsRefused, match="not a valid mobile number") as refused:
            await sms.send(to="+4915112345678", text=REMINDER, idempotency_key="k-1")

    assert refused.value.status == 422
    assert "invalid_number" in str(refused.value)


async def test_a_text_over_1600_characters_is_refused_without_asking_the_provider() -> None:
    async with running_sms_gateway() as gateway, aclosing(gateway.provider()) as sms:
        await sms.send(to="+4915112345678", text="x" * 1600, idempotency_key="k-1")
        with pytest.raises(SmsRefused, match="1601 characters"):
            await sms.send(to="+4915112345678", text="x" * 1601, idempotency_key="k-2")

    assert gateway.requests == 1


async def test_a_provider_slower_than_the_timeout_is_unavailable() -> None:
    slow = Misbehaviour(delay_seconds=0.5)
    async with (
        running_sms_gateway(misbehave=slow) as gateway,
        aclosing(gateway.provider(timeout_seconds=0.1)) as sms,
    ):
        with pytest.raises(SmsUnavailable, match="ReadTimeout"):
            await sms.send(to="+4915112345678", text=REMINDER, idempotency_key="k-1")


async def test_a_provider_nobody_answers_at_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # a port bound but not listening: connections are refused
        port = sock.getsockname()[1]
        async with aclosing(HttpSmsProvider(f"http://127.0.0.1:{port}", "key", "Studio")) as sms:
            with pytest.raises(SmsUnavailable, match="ConnectError"):
                await sms.send(to="+4915112345678", text=REMINDER, idempotency_key="k-1")


def test_a_provider_url_in_the_clear_outside_loopback_is_refused() -> None:
    with pytest.raises(ValueError, match="https"):
        HttpSmsProvider("http://sms.example.com/v1", "key", "Studio")


async def test_settings_without_an_sms_url_make_no_provider() -> None:
    assert sms_provider(NotifySettings(sms_url=None)) is None


async def test_settings_with_an_sms_url_make_a_provider_that_sends() -> None:
    async with running_sms_gateway() as gateway:
        settings = NotifySettings(
            sms_url=gateway.url, sms_api_key=SecretStr(gateway.api_key), sms_sender="Lumen"
        )
        provider = sms_provider(settings)
        assert provider is not None
        async with aclosing(provider) as sms:
            await sms.send(to="+4915112345678", text=REMINDER, idempotency_key="k-1")

    assert [m.sender for m in gateway.messages] == ["Lumen"]


def test_settings_with_an_sms_url_but_no_key_are_an_error() -> None:
    with pytest.raises(ValueError, match="NOTIFY_SMS_API_KEY"):
        sms_provider(NotifySettings(sms_url="https://sms.example.com/v1", sms_api_key=None))
