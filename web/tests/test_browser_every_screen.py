"""Every main screen in a real browser, once per run: in dark mode on a phone-sized screen and
in light mode on a desktop one, each with the page's own Content-Security-Policy on: no
violation, no console error, no sideways scrolling, no error page, and no serious or critical
axe finding (colour contrast included) in either mode.

The screens' own walks test what each one does; this one catches what a change to the shared
styles, scripts or headers breaks on a screen nobody was looking at.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.async_api import Browser, BrowserContext, Page
from seeded_session import WORKFLOW, seeded_session
from web_harness import WebPlatform, browser_login, serious_accessibility_problems

SCREENS = {
    "today": "/",
    "calendar-day": "/calendar",
    "calendar-week": "/calendar?view=week",
    "calendar-month": "/calendar?view=month",
    "clients": "/clients",
    "client-new": "/clients/new",
    "hub": "/hub",
    "session": "/sessions/{session}",
    "status-dialog-page": "/status/sessions/{session}",
    "orders": "/orders",
    "invoice-new": "/orders/invoices/new?session_id={session}&price_list_id={price_list}",
    "production": "/orders/production",
    "vendors": "/orders/vendors",
    "render": "/render",
    "deliveries": "/deliveries",
    "delivery-new": "/deliveries/new",
    "maps": "/maps",
    "settings": "/settings",
    "settings-session-types": "/settings/session-types",
    "settings-statuses": "/settings/statuses",
    "settings-users": "/settings/users",
    "settings-studio": "/settings/studio",
    "book": "/book",
}
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI || "inline"}`);
});
"""


async def _axe_findings(page: Page, scheme: str) -> list[str]:
    return [
        f"axe ({scheme}): {v['id']} at {v['nodes']}"
        for v in await serious_accessibility_problems(page)
    ]


async def _logged_in(browser: Browser, studio: WebPlatform, **options: object) -> Page:
    context: BrowserContext = await browser.new_context(**options)  # type: ignore[arg-type]
    page = await context.new_page()
    await browser_login(page, studio.web)
    return page


async def test_every_screen_keeps_its_csp_width_and_axe_in_dark_on_a_phone_and_light(
    studio: WebPlatform, browser: Browser, screenshots: Path
) -> None:
    seeded = await seeded_session(studio.gateway, images=2)
    async with httpx.AsyncClient(
        base_url=studio.gateway, headers={"Authorization": f"Bearer {seeded.token}"}
    ) as gw:
        made = await gw.post(
            f"{WORKFLOW}/price-lists",
            json={
                "name": "Every screen",
                "currency": "USD",
                "products": [{"name": "8x10 print", "price_minor": 4500, "kind": "physical"}],
            },
        )
        assert made.status_code == 201, made.text
    paths = {
        name: path.format(session=seeded.session_id, price_list=made.json()["id"])
        for name, path in SCREENS.items()
    }
    failures: dict[str, list[str]] = {}

    passes = {
        "dark": {"viewport": {"width": 390, "height": 844}, "color_scheme": "dark"},
        "light": {"viewport": {"width": 1280, "height": 800}, "color_scheme": "light"},
    }
    console: list[str] = []
    for scheme, options in passes.items():
        page = await _logged_in(browser, studio, **options)
        width_allowed = options["viewport"]["width"]  # type: ignore[index]
        page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
        await page.add_init_script(WATCH_CSP)
        try:
            for name, path in paths.items():
                console.clear()
                answer = await page.goto(studio.web + path)
                await page.wait_for_load_state("load")
                problems = []
                if answer is None or answer.status != 200:
                    problems.append(f"answered {answer.status if answer else 'nothing'}")
                problems += [f"CSP: {v}" for v in await page.evaluate("window.__csp")]
                problems += [f"console: {m}" for m in console if "favicon" not in m]
                width = await page.evaluate("document.documentElement.scrollWidth")
                if width > width_allowed:
                    problems.append(f"scrolls sideways ({width} px wide)")
                shown = await page.evaluate(
                    "matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'"
                )
                if shown != scheme:
                    problems.append(f"shown in {shown} mode")
                await page.screenshot(path=screenshots / f"every-{name}-{scheme}.png")
                problems += await _axe_findings(page, scheme)
                if problems:
                    failures.setdefault(name, []).extend(problems)
        finally:
            await page.context.close()

    assert failures == {}
