"""A booked session's confirmation and its reminder: scheduled from the event, sent once,
moved or cancelled with the session, never late without saying so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from notify_events import NOW, booked, cancelled, client
from notify_harness import Notify, plain

STARTS = (NOW + timedelta(days=10)).replace(hour=14, minute=0, second=0)
REMINDER_AT = (STARTS - timedelta(days=1)).replace(hour=9)


async def test_a_booking_is_confirmed_at_once_and_reminded_the_day_before_at_nine(
    notify: Notify,
) -> None:
    await notify.deliver(client("cli_1", email="ada@example.com"))
    await notify.deliver(booked("ses_0001", "cli_1", STARTS))

    confirmation = await notify.action_of("booking-confirmation")
    reminder = await notify.action_of("session-reminder")
    assert confirmation["due_at"] <= datetime.now(UTC)
    assert reminder["due_at"] == REMINDER_AT
    assert reminder["not_after"] == STARTS

    report = await notify.dispatch()
    assert report.sent == 1
    [mail] = notify.inbox.to("ada@example.com")
    assert mail["Subject"] == "Your session with Lumen Studio is booked"
    assert mail["Message-ID"] == f"<{confirmation['_id']}@studio.test>"
    text = plain(mail)
    assert "S-0001" in text
    assert f"{STARTS:%B %Y} at 14:00" in text
    assert "Studio A" in text
    # Every email carries its unsubscribe link, one-click for mail programs too.
    assert mail["List-Unsubscribe"].strip().startswith("<https://studio.test/u/")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # The reminder waits for its day, then goes once.
    assert (await notify.dispatch(REMINDER_AT - timedelta(minutes=1))).sent == 0
    assert (await notify.dispatch(REMINDER_AT)).sent == 1
    assert (await notify.dispatch(REMINDER_AT + timedelta(minutes=5))).sent == 0
    reminders = [m for m in notify.inbox.to("ada@example.com") if "tomorrow" in m["Subject"]]
    assert len(reminders) == 1
    assert reminders[0]["Subject"] == "See you tomorrow at 14:00"


async def test_the_same_event_delivered_again_schedules_and_sends_nothing_more(
    notify: Notify,
) -> None:
    await notify.deliver(client("cli_1", email="ada@example.com"))
    event = booked("ses_0002", "cli_1", STARTS)
    await notify.deliver(event)
    await notify.deliver(event)  # redelivered (a consumer restart, a relay republishing)
    assert len(await notify.actions(session_id="ses_0002")) == 2
    await notify.dispatch()
    await notify.deliver(event)
    await notify.dispatch()
    assert len(notify.inbox.to("ada@example.com")) == 1


async def test_a_rescheduled_session_moves_its_reminder_and_a_cancelled_one_stops_it(
    notify: Notify,
) -> None:
    await notify.deliver(client("cli_1", email="ada@example.com"))
    await notify.deliver(booked("ses_0003", "cli_1", STARTS))
    later = STARTS + timedelta(days=3, hours=2)
    await notify.deliver(booked("ses_0003", "cli_1", later, rescheduled=True))
    reminder = await notify.action_of("session-reminder")
    assert reminder["due_at"] == (later - timedelta(days=1)).replace(hour=9)
    assert reminder["not_after"] == later
    assert (await notify.dispatch()).sent == 1  # the confirmation
    assert (await notify.dispatch(REMINDER_AT)).sent == 0
    assert all("tomorrow" not in m["Subject"] for m in notify.inbox.messages)

    await notify.deliver(cancelled("ses_0003"))
    reminder = await notify.action_of("session-reminder")
    assert reminder["state"] == "cancelled"
    assert reminder["reason"] == "the session was cancelled"
    assert (await notify.dispatch(later)).sent == 0
    assert all("tomorrow" not in m["Subject"] for m in notify.inbox.messages)


async def test_a_session_booked_after_its_reminder_time_gets_no_reminder(notify: Notify) -> None:
    await notify.deliver(client("cli_1", email="ada@example.com"))
    soon = (NOW + timedelta(hours=2)).replace(second=0)
    await notify.deliver(booked("ses_0004", "cli_1", soon))
    reminder = await notify.action_of("session-reminder")
    assert reminder["state"] == "skipped"
    assert reminder["reason"] == "its time had passed when the record was made"
    assert (await notify.dispatch()).sent == 1  # the confirmation alone


async def test_a_notifier_that_was_down_sends_what_it_can_still_and_marks_the_rest_missed(
    notify: Notify,
) -> None:
    await notify.deliver(client("cli_1", email="ada@example.com"))
    await notify.deliver(booked("ses_0005", "cli_1", STARTS))
    await notify.dispatch()  # the confirmation

    # Back up 7 h after the reminder was due (the window is 6 h): missed, with the reason.
    report = await notify.dispatch(REMINDER_AT + timedelta(hours=7))
    assert (report.sent, report.missed) == (0, 1)
    reminder = await notify.action_of("session-reminder")
    assert reminder["state"] == "missed"
    assert "more than 6 h" in reminder["reason"]
    listed = await notify.http.get("/notify/actions", params={"state": "missed"})
    assert [a["id"] for a in listed.json()["items"]] == [reminder["_id"]]
    assert reminder["_outbox"][0]["type"] == "notify.message.failed.v1"


async def test_a_reminder_never_goes_once_its_session_has_begun(notify_with: object) -> None:
    async with notify_with(catch_up_hours=72) as notify:  # type: ignore[operator]
        await notify.deliver(client("cli_1", email="ada@example.com"))
        await notify.deliver(booked("ses_0006", "cli_1", STARTS))
        await notify.dispatch()
        # Within the catch-up window, but the session started an hour ago.
        report = await notify.dispatch(STARTS + timedelta(hours=1))
        assert (report.sent, report.missed) == (0, 1)
        reminder = await notify.action_of("session-reminder")
        assert reminder["state"] == "missed"
        assert "its moment had passed" in reminder["reason"]
        assert all("tomorrow" not in m["Subject"] for m in notify.inbox.messages)


async def test_nine_in_the_morning_stays_nine_across_a_daylight_saving_change(
    notify_with: object,
) -> None:
    zone = ZoneInfo("America/New_York")
    # New York leaves daylight saving time on 1 November 2026 (UTC-4 to UTC-5).
    monday = datetime(2026, 11, 2, 14, 0, tzinfo=zone)
    sunday = datetime(2026, 11, 1, 15, 0, tzinfo=zone)
    async with notify_with(time_zone="America/New_York") as notify:  # type: ignore[operator]
        await notify.deliver(client("cli_1", email="ada@example.com"))
        booked_at = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)
        await notify.deliver(booked("ses_0007", "cli_1", monday, at=booked_at))
        await notify.deliver(booked("ses_0008", "cli_1", sunday, at=booked_at))
        monday_reminder = await notify.action_of("session-reminder", session_id="ses_0007")
        sunday_reminder = await notify.action_of("session-reminder", session_id="ses_0008")
    # Sunday 1 November 09:00 is after the change (EST), Saturday 31 October before (EDT).
    assert monday_reminder["due_at"] == datetime(2026, 11, 1, 14, 0, tzinfo=UTC)
    assert sunday_reminder["due_at"] == datetime(2026, 10, 31, 13, 0, tzinfo=UTC)
    for reminder in (monday_reminder, sunday_reminder):
        assert reminder["due_at"].astimezone(zone).hour == 9
