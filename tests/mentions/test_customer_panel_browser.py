"""The conversation page with everything around the customer, in Chromium, in English and
Dutch at 1440 and 360 px: a colleague's presence, the profile link, a lead linking the
customer's handle on another channel through the form (their earlier mention there then shows
in the panel). Accessible (axe-core), nothing wider than the screen, no CSP complaint.

Screenshots go to $WEBCARE_SCREENSHOT_DIR when set, else to the test's temporary folder."""
from __future__ import annotations

import httpx
import pytest

from tests.support.app import add_user
from tests.support.browser import login_page, look, shots
from tests.support.push import mention, push

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
PASSWORD = "correct-horse-battery"
LOCALES = {"en": ("en-GB", "Same person on other channels", "anna has this mention open", "Profile on Mastodon"),
           "nl": ("nl-NL", "Dezelfde persoon op andere kanalen", "anna heeft deze melding open", "Profiel op Mastodon")}


@pytest.mark.parametrize("lang", ["en", "nl"])
async def test_conversation_page_with_presence_and_customer_panel(browser, live_server, ctx, tmp_path, lang):
    locale, heading, present, profile = LOCALES[lang]
    await add_user(ctx, "anna", password=PASSWORD)
    await add_user(ctx, "lea", "lead", password=PASSWORD)
    async with httpx.AsyncClient(base_url=live_server) as client:
        await push(client, [
            mention("c1", 25, channel="mastodon", author="sanne_v@mastodon.social", author_name="Sanne Visser",
                    followers=240, text="Wéér geen internet vanavond. Tweede keer deze week!"),
            mention("c2", 600, channel="bluesky", author="sannev.bsky.social", author_name="Sanne V",
                    text="Mijn factuur is veel te hoog deze maand, wie kan me helpen?")])
    anna = await login_page(browser, live_server, "anna", PASSWORD)
    await anna.goto(f"{live_server}/mentions/1")
    lea = await login_page(browser, live_server, "lea", PASSWORD, locale=locale)
    complaints: list[str] = []
    lea.on("console", lambda msg: complaints.append(msg.text) if "Content Security Policy" in msg.text else None)
    await lea.goto(f"{live_server}/mentions/1")
    await lea.wait_for_selector("#presence li.viewing")
    assert await lea.inner_text("#presence li") == present
    assert await lea.get_attribute(f"a:text('{profile}')", "href") == "https://mastodon.social/@sanne_v"
    assert heading in await lea.inner_text(".mention-detail")

    await lea.select_option(".identity-form select[name=channel]", "bluesky")
    await lea.fill(".identity-form input[name=handle]", "sannev.bsky.social")
    await lea.click(".identity-form button[type=submit]")
    await lea.wait_for_selector("#toast.toast-ok")
    assert "sannev.bsky.social" in await lea.inner_text("ul.identities")
    assert "Mijn factuur is veel te hoog" in await lea.inner_text("ul.history")
    await lea.wait_for_selector("#presence li.viewing")
    await look(lea, shots(tmp_path), f"conversation-{lang}")
    assert complaints == []
