"""Settings without a browser: only the owner opens it; resources, opening hours, closures,
session types, users and status names are written through the forms and read back through
the web app; refusals are shown beside their form with the input kept."""

from __future__ import annotations

import uuid

import httpx
from web_harness import OWNER_EMAIL, WebClient, WebPlatform, html, new_user, text_of


def _unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:6]}"


async def test_only_the_owner_opens_settings(
    studio: WebPlatform, owner: WebClient, staff: WebClient
) -> None:
    pages = (
        "/settings",
        "/settings/session-types",
        "/settings/users",
        "/settings/statuses",
        "/settings/studio",
    )
    email, password = await new_user(studio.gateway, "marketing")
    async with WebClient.open(studio.web) as marketing:
        await marketing.get("/login")
        await marketing.post("/login", {"email": email, "password": password, "next": "/"})
        for path in pages:
            assert (await owner.get(path)).status_code == 200, path
            assert (await staff.get(path)).status_code == 403, path
            assert (await marketing.get(path)).status_code == 403, path
    nav = [a.text() for a in html(await staff.get("/")).css("nav[aria-label=Main] a")]
    assert "Settings" not in nav


async def test_a_resource_is_created_renamed_and_given_opening_hours(owner: WebClient) -> None:
    name = _unique("Studio A")
    await owner.get("/settings")
    made = await owner.post("/settings/resources", {"name": name, "kind": "room"})
    page = await owner.get("/settings")
    form = html(page).css_first(f'form[aria-label="Resource {name}"]')
    assert made.status_code == 303
    assert form is not None
    resource_id = (form.attributes["action"] or "").rsplit("/", 1)[-1]

    renamed = await owner.post(
        f"/settings/resources/{resource_id}",
        {"name": name + " big", "kind": "room", "active": "on"},
    )
    hours = await owner.post(
        "/settings/opening-hours",
        {"resource_ids": resource_id, "weekdays": ["0", "2"], "opens": "09:00", "closes": "17:30"},
    )
    after = await owner.get("/settings")

    assert renamed.status_code == 303
    assert hours.status_code == 303
    rows = [r.text(separator=" ", strip=True) for r in html(after).css("#hours tbody tr")]
    assert any(
        name + " big" in r and "Mon, Wed" in r and "09:00\N{EN DASH}17:30" in r for r in rows
    ), rows


async def test_opening_hours_that_close_before_they_open_are_refused_and_kept(
    owner: WebClient,
) -> None:
    await owner.get("/settings")
    name = _unique("Room B")
    await owner.post("/settings/resources", {"name": name, "kind": "room"})
    page = await owner.get("/settings")
    form = html(page).css_first(f'form[aria-label="Resource {name}"]')
    resource_id = (form.attributes["action"] or "").rsplit("/", 1)[-1]
    before = len(html(page).css("#hours tbody tr"))

    refused = await owner.post(
        "/settings/opening-hours",
        {"resource_ids": resource_id, "weekdays": "4", "opens": "18:00", "closes": "10:00"},
    )
    none_chosen = await owner.post(
        "/settings/opening-hours", {"weekdays": "4", "opens": "09:00", "closes": "10:00"}
    )
    after = await owner.get("/settings")

    assert refused.status_code == 422
    assert "opens must be before closes" in text_of(
        refused, 'form[aria-label="New opening hours"] p.error'
    )
    tree = html(refused)
    assert tree.css_first("#f-opens").attributes["value"] == "18:00"
    box = tree.css_first(f'input[name="resource_ids"][value="{resource_id}"]')
    assert "checked" in box.attributes
    assert none_chosen.status_code == 422
    assert "Choose at least one resource." in none_chosen.text
    assert len(html(after).css("#hours tbody tr")) == before


async def test_a_studio_closure_is_added_and_removed(owner: WebClient) -> None:
    await owner.get("/settings")
    reason = _unique("Holiday")
    added = await owner.post(
        "/settings/closures", {"resource_id": "", "first_day": "2031-12-24", "reason": reason}
    )
    page = await owner.get("/settings")
    row = next(r for r in html(page).css("#closures tbody tr") if reason in r.text())
    action = row.css_first("form").attributes["action"] or ""
    removed = await owner.post(action, {})
    after = await owner.get("/settings")

    assert added.status_code == 303
    assert "The whole studio" in row.text()
    assert removed.status_code == 303
    assert reason not in after.text


async def test_a_session_type_is_created_with_a_deposit_and_a_bad_amount_is_refused(
    owner: WebClient,
) -> None:
    await owner.get("/settings")
    resource = _unique("Anna")
    await owner.post("/settings/resources", {"name": resource, "kind": "photographer"})
    page = await owner.get("/settings/session-types")
    box = next(
        i
        for i in html(page).css('input[name="resource_ids"]')
        if resource in (i.parent.text() if i.parent else "")
    )
    name = _unique("Portrait")
    fields = {
        "name": name,
        "duration_minutes": "60",
        "buffer_after_minutes": "15",
        "start_every_minutes": "30",
        "currency": "eur",
        "colour": "#336699",
        "bookable_online": "on",
        "resource_ids": box.attributes["value"],
    }
    bad = await owner.post("/settings/session-types", {**fields, "deposit": "12,5x"})
    odd = await owner.post(
        "/settings/session-types", {**fields, "deposit": "50", "duration_minutes": "61"}
    )
    made = await owner.post("/settings/session-types", {**fields, "deposit": "49.50"})
    after = await owner.get("/settings/session-types")

    assert bad.status_code == 422
    assert text_of(bad, "#e-deposit") == "Write an amount like 45 or 45.50."
    assert html(bad).css_first("#f-name").attributes["value"] == name
    assert odd.status_code == 422
    assert "multiple of 5" in text_of(odd, "#e-duration_minutes")
    assert made.status_code == 303
    row = next(r for r in html(after).css("tbody tr") if name in r.text())
    text = row.text(separator=" ", strip=True)
    assert "49.50 EUR" in text
    assert "15 min" in text
    assert resource in text
    assert after.text.count(name) == 1  # the refused ones were not stored


async def test_users_are_added_and_changed_and_the_owner_cannot_demote_themselves(
    owner: WebClient,
) -> None:
    await owner.get("/settings/users")
    email = f"helper-{uuid.uuid4().hex[:6]}@web.studio.test"
    short = await owner.post(
        "/settings/users", {"email": email, "password": "short", "role": "staff"}
    )
    added = await owner.post(
        "/settings/users", {"email": email, "password": "a long enough password", "role": "staff"}
    )
    promoted = await owner.post(f"/settings/users/{email}", {"role": "marketing"})
    disabled = await owner.post(f"/settings/users/{email}", {"disabled": "true"})
    demote = await owner.post(f"/settings/users/{OWNER_EMAIL}", {"role": "staff"})
    page = await owner.get("/settings/users")

    assert short.status_code == 422
    assert "at least 10" in text_of(short, "#e-password")
    assert html(short).css_first("#f-email").attributes["value"] == email
    assert [added.status_code, promoted.status_code, disabled.status_code] == [303, 303, 303]
    assert demote.status_code == 409
    mine = html(demote).css_first(f'form[aria-label="Role of {OWNER_EMAIL}"]').parent
    assert mine is not None
    assert "An owner cannot demote or disable themselves." in mine.text()
    row = next(r for r in html(page).css("tbody tr") if email in r.text())
    assert "disabled" in row.text()
    selected = row.css_first("option[selected]")
    assert selected is not None
    assert selected.text() == "marketing"
    owner_row = next(r for r in html(page).css("tbody tr") if OWNER_EMAIL in r.text())
    assert owner_row.css_first("option[selected]").text() == "owner"


async def test_status_pipelines_are_listed_in_order_and_renamed(owner: WebClient) -> None:
    page = await owner.get("/settings/statuses")
    sessions = html(page).css_first('section[aria-labelledby="p-session"]')
    names = [i.attributes["value"] for i in sessions.css('input[name="name"]')]
    first = sessions.css_first("form")
    renamed = await owner.post(first.attributes["action"] or "", {"name": "Session Booked"})
    empty = await owner.post(first.attributes["action"] or "", {"name": ""})
    after = await owner.get("/settings/statuses")

    assert names[:2] == ["Session Pending", "Capture Images Pending"]
    assert "capture" in sessions.text()
    assert renamed.status_code == 303
    assert empty.status_code == 422
    assert 'value="Session Booked"' in after.text
    assert isinstance(page, httpx.Response)


def _production(page: httpx.Response) -> list[tuple[str, str]]:
    """(status id, name) of the production pipeline as the page lists it."""
    section = html(page).css_first('section[aria-labelledby="p-production_order"]')
    return [
        (
            (li.attributes["id"] or "").removeprefix("s-"),
            li.css_first('input[name="name"]').attributes["value"] or "",
        )
        for li in section.css("ol.statuses > li")
    ]


async def test_statuses_are_added_in_place_moved_re_staged_and_retired(owner: WebClient) -> None:
    before = _production(await owner.get("/settings/statuses"))
    first, second = _unique("Framing"), _unique("Mounting")
    added = await owner.post(
        "/settings/statuses",
        {
            "kind": "production_order",
            "name": first,
            "stage": "produce",
            "duration_days": "2",
            "after": "",
        },
    )
    await owner.post(
        "/settings/statuses",
        {
            "kind": "production_order",
            "name": second,
            "stage": "produce",
            "duration_days": "1",
            "after": before[0][0],
        },
    )
    bad_days = await owner.post(
        "/settings/statuses",
        {
            "kind": "production_order",
            "name": _unique("Bad"),
            "stage": "produce",
            "duration_days": "two",
        },
    )
    duplicate = await owner.post(
        "/settings/statuses",
        {"kind": "production_order", "name": first, "stage": "produce", "duration_days": "0"},
    )
    placed = _production(await owner.get("/settings/statuses"))
    first_id = next(i for i, n in placed if n == first)
    second_id = next(i for i, n in placed if n == second)
    moved = await owner.post(
        f"/settings/statuses/{second_id}/move", {"kind": "production_order", "direction": "up"}
    )
    restaged = await owner.post(
        f"/settings/statuses/{first_id}", {"name": first, "stage": "deliver", "duration_days": "5"}
    )
    retired = [
        await owner.post(f"/settings/statuses/{i}/active", {"active": "false"})
        for i in (first_id, second_id)
    ]
    after = await owner.get("/settings/statuses")
    order = _production(after)
    row = html(after).css_first(f"#s-{first_id}")

    names = [n for _, n in placed]
    assert added.status_code == 303
    assert names.index(second) == 1  # right after the first status, as chosen
    assert names.index(first) >= len(before)  # at the end (a "cancelled" one may follow)
    assert bad_days.status_code == 422
    new_form = 'form[aria-label="New production status"]'
    assert "whole number of business days" in text_of(bad_days, new_form)
    assert duplicate.status_code == 409
    assert text_of(duplicate, f"{new_form} p.error")
    assert html(duplicate).css_first(f"{new_form} input[name=name]").attributes["value"] == first
    assert moved.status_code == 303
    assert [n for _, n in order].index(second) == 0
    assert [n for _, n in order][1:] == [n for _, n in placed if n != second]
    assert restaged.status_code == 303
    assert row.css_first("option[selected]").attributes["value"] == "deliver"
    assert row.css_first('input[name="duration_days"]').attributes["value"] == "5"
    assert [r.status_code for r in retired] == [303, 303]
    assert "retired" in row.text()
    assert "Bring back" in row.text()


async def test_the_studio_settings_are_saved_and_a_stale_form_is_refused_with_both_kept(
    owner: WebClient,
) -> None:
    page = await owner.get("/settings/studio")
    form = html(page).css_first('form[aria-label="The studio\'s settings"]')
    stale = form.css_first('input[name="version"]').attributes["value"] or ""
    kept = {
        name: form.css_first(f'input[name="{name}"]').attributes["value"] or ""
        for name in ("studio_name", "studio_phone", "currency", "change_cutoff_hours")
    }
    name = _unique("Northlight Studio")
    fields = {**kept, "studio_name": name, "change_cutoff_hours": "48"}
    saved = await owner.post(
        "/settings/studio",
        {**fields, "deposit_policy": "refund_before", "deposit_days": "7", "version": stale},
    )
    shown = await owner.get(saved.headers["location"])
    again = await owner.post(
        "/settings/studio",
        {**fields, "studio_name": _unique("Late"), "deposit_policy": "keep", "version": stale},
    )
    no_days = await owner.post(
        "/settings/studio",
        {
            **fields,
            "deposit_policy": "refund_before",
            "deposit_days": "",
            "version": html(shown).css_first('input[name="version"]').attributes["value"] or "",
        },
    )
    bad_currency = await owner.post(
        "/settings/studio",
        {
            **fields,
            "currency": "EURO",
            "deposit_policy": "keep",
            "version": html(shown).css_first('input[name="version"]').attributes["value"] or "",
        },
    )
    restored = await owner.post(
        "/settings/studio",
        {
            **kept,
            "studio_name": kept["studio_name"] or "Studio",
            "deposit_policy": "keep",
            "version": html(shown).css_first('input[name="version"]').attributes["value"] or "",
        },
    )

    assert saved.status_code == 303
    assert html(shown).css_first("#f-studio_name").attributes["value"] == name
    assert html(shown).css_first("#f-change_cutoff_hours").attributes["value"] == "48"
    assert "checked" in html(shown).css_first('input[value="refund_before"]').attributes
    assert html(shown).css_first("#f-deposit_days").attributes["value"] == "7"
    assert "Saved." in shown.text
    assert again.status_code == 409
    assert "Someone saved the studio's settings" in text_of(again, "form p.error")
    assert html(again).css_first("#f-studio_name").attributes["value"].startswith("Late")
    assert html(again).css_first('input[name="version"]').attributes["value"] != stale
    assert no_days.status_code == 422
    assert bad_currency.status_code == 422
    assert "three-letter" in text_of(bad_currency, "#e-currency")
    assert restored.status_code == 303
