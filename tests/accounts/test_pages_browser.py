"""The account pages in a real Chromium, in English and Dutch, at desktop and phone width:
accessible (axe-core: nothing serious or critical), nothing wider than the screen, no
Content-Security-Policy complaint; and each flow done through the forms as a person would:
invite, choose a password by the link, create a token, set up two-factor sign-in, sign in
with a code, and enrol right after the password where the role requires it."""
from __future__ import annotations

import time

import pyotp
import pytest

from tests.support.app import DEFAULT_TOML, add_user, make_config
from tests.support.browser import browser, login_page, look, shots  # noqa: F401  (the browser fixture)

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
PASSWORD = "correct-horse-battery"
LOCALES = {"en": ("en-GB", "Users", "My account", "Two-factor sign-in"),
           "nl": ("nl-NL", "Gebruikers", "Mijn account", "Inloggen in twee stappen")}


async def sign_in(browser, base: str, username: str, password: str, locale: str, lands_on: str):  # noqa: F811
    context = await browser.new_context(locale=locale)
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}{lands_on}")
    return page


@pytest.mark.parametrize("lang", ["en", "nl"])
async def test_account_pages_in_chromium(browser, live_server, ctx, tmp_path, lang):  # noqa: F811
    locale, users_heading, account_heading, two_factor = LOCALES[lang]
    await add_user(ctx, "ada", "admin", password=PASSWORD)
    await add_user(ctx, "tim", password=PASSWORD)
    folder = shots(tmp_path)
    complaints: list[str] = []
    page = await login_page(browser, live_server, "ada", PASSWORD, locale=locale)
    page.on("console", lambda msg: complaints.append(msg.text) if "Content Security Policy" in msg.text else None)

    await page.goto(f"{live_server}/admin/users")
    assert await page.inner_text("h1") == users_heading
    await page.fill("input[name=username]", "nina")
    await page.fill("input[name=display_name]", "Nina de Vries")
    await page.select_option("form[action='/admin/users/invite'] select[name=role]", "lead")
    await page.click("form[action='/admin/users/invite'] button[type=submit]")
    link = (await page.inner_text("#one-time-link")).strip()
    await look(page, folder, f"users-{lang}")

    await page.goto(f"{live_server}/account")
    assert await page.inner_text("h1") == account_heading
    await page.fill("form[action='/account/tokens'] input[name=name]", "Grafana")
    await page.click("form[action='/account/tokens'] button[type=submit]")
    assert (await page.inner_text("#new-token")).startswith("wct_")
    await page.click("form[action='/account/2fa/start'] button[type=submit]")
    await page.wait_for_url(f"{live_server}/account#two-factor")
    assert await page.is_visible(".qr svg")
    await look(page, folder, f"account-enrol-{lang}")
    totp = pyotp.TOTP((await page.inner_text("code.secret")).strip())
    await page.fill("form[action='/account/2fa/confirm'] input[name=code]", totp.now())
    await page.click("form[action='/account/2fa/confirm'] button[type=submit]")
    assert await page.locator(".recovery .codes li").count() == 10
    await look(page, folder, f"account-2fa-on-{lang}")

    # The invitee chooses a password through the link.
    invitee = await (await browser.new_context(locale=locale)).new_page()
    await invitee.goto(link.replace("http://127.0.0.1:8000", live_server))
    await look(invitee, folder, f"set-password-{lang}")
    await invitee.fill("input[name=new_password]", "nina-her-own-passphrase")
    await invitee.fill("input[name=repeat_password]", "nina-her-own-passphrase")
    await invitee.click("button[type=submit]")
    await invitee.wait_for_url(f"{live_server}/login?done=password")
    assert await invitee.is_visible(".notice")

    # Ada signs in again: her password, then a code.
    again = await sign_in(browser, live_server, "ada", PASSWORD, locale, "/login/2fa")
    assert await again.inner_text("h1") == two_factor
    await look(again, folder, f"login-code-{lang}")
    await again.fill("input[name=code]", totp.at(time.time() + 30))
    await again.click("button[type=submit]")
    await again.wait_for_url(f"{live_server}/")

    # Leads must use two-factor sign-in: Nina sets it up right after her password.
    ctx.config = make_config(tmp_path, DEFAULT_TOML + '\n[auth]\nrequire_2fa = ["lead", "admin"]\n')
    nina = await sign_in(browser, live_server, "nina", "nina-her-own-passphrase", locale, "/login/enrol")
    await look(nina, folder, f"login-enrol-{lang}")
    nina_totp = pyotp.TOTP((await nina.inner_text("code.secret")).strip())
    await nina.fill("input[name=code]", nina_totp.now())
    await nina.click("button[type=submit]")
    assert await nina.locator(".recovery .codes li").count() == 10
    await look(nina, folder, f"login-enrolled-{lang}")
    await nina.click("a.button")
    await nina.wait_for_url(f"{live_server}/")
    await nina.goto(f"{live_server}/admin/users")  # leads see the list, read-only
    assert await nina.locator("form[action='/admin/users/invite']").count() == 0
    await look(nina, folder, f"users-lead-{lang}")
    assert complaints == []
