"""Logging in and out of the web app, without a browser: the session cookie's flags, CSRF on
every write, readable errors, every screen sending a logged-out person to the login, and the
request size limits every service has."""

from __future__ import annotations

import httpx
from web_harness import OWNER_EMAIL, OWNER_PASSWORD, WebClient, WebPlatform, html, login, text_of


async def test_the_session_cookie_is_httponly_samesite_and_holds_no_token(
    studio: WebPlatform,
) -> None:
    async with WebClient.open(studio.web) as client:
        page = await client.get("/login")
        answer = await client.post(
            "/login", {"email": OWNER_EMAIL, "password": OWNER_PASSWORD, "next": "/clients"}
        )

    assert page.status_code == 200
    assert answer.status_code == 303
    assert answer.headers["location"] == "/clients"
    cookie = next(
        v for k, v in answer.headers.multi_items() if k == "set-cookie" and "studio_session=" in v
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    value = cookie.split(";")[0].split("=", 1)[1]
    assert "." not in value  # an opaque id, not a JWT
    assert len(value) >= 40


async def test_a_wrong_password_is_said_on_the_login_page(studio: WebPlatform) -> None:
    async with WebClient.open(studio.web) as client:
        await client.get("/login")
        answer = await client.post("/login", {"email": OWNER_EMAIL, "password": "not it"})

    assert answer.status_code == 401
    assert "The email or the password is wrong." in text_of(answer, "p.error")
    assert html(answer).css_first('input[name="email"]').attributes["value"] == OWNER_EMAIL


async def test_a_login_without_the_forms_csrf_token_is_refused(studio: WebPlatform) -> None:
    async with httpx.AsyncClient(base_url=studio.web) as client:
        await client.get("/login")
        answer = await client.post(
            "/login", data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD, "csrf_token": "x"}
        )

    assert answer.status_code == 403
    assert "studio_session" not in answer.headers.get("set-cookie", "")
    assert "Reload the page" in answer.text


async def test_a_write_without_the_sessions_csrf_token_or_from_another_site_is_refused(
    owner: WebClient,
) -> None:
    no_token = await owner.http.post("/logout", data={})
    wrong = await owner.http.post("/logout", data={"csrf_token": "forged"})
    other_site = await owner.http.post(
        "/logout", data={"csrf_token": owner.csrf}, headers={"Origin": "https://evil.example"}
    )
    still_in = await owner.get("/")

    assert [no_token.status_code, wrong.status_code, other_site.status_code] == [403, 403, 403]
    assert still_in.status_code == 200


async def test_a_logged_out_person_is_sent_to_the_login_and_back(studio: WebPlatform) -> None:
    async with WebClient.open(studio.web) as client:
        page = await client.get("/?x=1")
        htmx = await client.get(
            "/",
            headers={"HX-Request": "true", "HX-Current-URL": f"{studio.web}/clients?q=ann"},
        )
        await login(client, OWNER_EMAIL, OWNER_PASSWORD)

    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2F%3Fx%3D1"
    assert htmx.headers["hx-redirect"] == "/login?next=%2Fclients%3Fq%3Dann"


async def test_the_login_never_redirects_to_another_site(studio: WebPlatform) -> None:
    async with WebClient.open(studio.web) as client:
        await client.get("/login")
        answer = await client.post(
            "/login",
            {"email": OWNER_EMAIL, "password": OWNER_PASSWORD, "next": "//evil.example/x"},
        )
    assert answer.headers["location"] == "/"


async def test_logging_out_ends_the_session_and_its_refresh_token(studio: WebPlatform) -> None:
    async with WebClient.open(studio.web) as client:
        await login(client, OWNER_EMAIL, OWNER_PASSWORD)
        cookie = client.http.cookies.get("studio_session")
        out = await client.post("/logout")
        client.http.cookies.set("studio_session", cookie or "")
        after = await client.get("/")

    assert out.status_code == 303
    assert after.status_code == 303
    assert after.headers["location"].startswith("/login")


async def test_the_first_run_page_is_gone_once_the_owner_exists(studio: WebPlatform) -> None:
    async with WebClient.open(studio.web) as client:
        page = await client.get("/first-run")
        await client.get("/login")
        forced = await client.post(
            "/first-run",
            {"email": "late@x.test", "password": "p" * 12, "confirm": "p" * 12},
        )
    assert page.status_code == 303
    assert page.headers["location"] == "/login"
    assert forced.status_code == 303
    assert forced.headers["location"] == "/login"


async def test_pages_send_security_headers_and_assets_are_cached_by_hashed_name(
    owner: WebClient,
) -> None:
    page = await owner.get("/")
    css = html(page).css_first('link[rel="stylesheet"]').attributes["href"] or ""
    asset = await owner.get(css)
    unhashed = await owner.get("/static/css/app.css")

    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "SAMEORIGIN"
    assert page.headers["cache-control"] == "no-store"
    assert css.startswith("/static/css/app.")
    assert css.endswith(".css")
    assert len(css) > 28
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert unhashed.headers["cache-control"] == "no-cache"


async def test_an_oversized_form_or_query_is_refused_unread_with_its_limit(
    owner: WebClient,
) -> None:
    await owner.get("/clients/new")
    # Over the web app's 1 MiB form limit: refused before the form is read or anything stored.
    huge = await owner.post("/clients/new", {"last_name": "Huge", "notes": "x" * (1024 * 1024)})
    long_query = await owner.get("/clients?q=" + "y" * (61 * 1024))
    search = await owner.get("/clients?q=Huge")

    assert huge.status_code == 413
    assert huge.json()["error"] == "payload_too_large"
    assert "1 MiB" in huge.json()["message"]
    assert long_query.status_code == 414
    assert long_query.json()["error"] == "uri_too_long"
    assert search.status_code == 200
    assert "Huge" not in text_of(search, "main")


async def test_the_web_app_is_healthy_and_ready_with_the_gateway(studio: WebPlatform) -> None:
    async with httpx.AsyncClient(base_url=studio.web) as client:
        health = await client.get("/healthz")
        ready = await client.get("/readyz")
    assert health.json() == {"status": "ok", "service": "web"}
    assert ready.json()["checks"] == {"mongodb": "ok", "gateway": "ok"}


async def test_marketing_lands_on_its_own_screen_and_is_not_shown_the_studios(
    marketing: WebClient,
) -> None:
    home = await marketing.get("/")
    target = await marketing.get(home.headers["location"])
    menu = [a.text() for a in html(target).css("nav a")]

    assert home.status_code == 303
    assert home.headers["location"] == "/clients"
    assert target.status_code == 200
    assert "Today" not in menu
    assert "Workflow" not in menu
    assert "Clients" in menu
