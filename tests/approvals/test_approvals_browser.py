"""The approval queue in Chromium: a trainee sends a reply for approval from the composer, it
appears live on the leads' page (Dutch and English, axe-clean, usable at 360 px), a lead's edit
survives the live refresh and is what gets sent, and a returned reply reaches the trainee's
open queue page live, with the note, and the text is back in the composer."""
from __future__ import annotations

import httpx
import pytest

from app.accounts import admin
from tests.support.app import add_user, bearer
from tests.support.browser import assert_accessible, login_page, look, shots
from tests.support.push import mention, push

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
PASSWORD = "correct-horse-battery"
EDITED = "Wat vervelend, sorry! Ik laat het u vóór 16:00 weten."
PROPOSED_2 = "Wij kijken ernaar."


async def test_approvals_page_live_edit_approve_and_return(browser, live_server, ctx, tmp_path):
    trainee_token = bearer(await add_user(ctx, "tess", password=PASSWORD))
    await admin.set_approval(ctx, "admin", "tess", True)
    await add_user(ctx, "lea", "lead", password=PASSWORD)
    await add_user(ctx, "lou", "lead", password=PASSWORD)
    async with httpx.AsyncClient(base_url=live_server) as client:
        await push(client, [mention("a1", 20, text="Waar blijft mijn pakket? <b>nu</b>"),
                            mention("a2", 10, text="Mijn factuur klopt niet")])
        folder = shots(tmp_path)

        lea = await login_page(browser, live_server, "lea", PASSWORD, locale="nl-NL")
        await lea.goto(f"{live_server}/approvals")
        assert "Er wachten geen reacties op goedkeuring." in await lea.inner_text("#live")
        await lea.wait_for_selector("#stream-status.ok")

        # The trainee sends for approval from the real composer.
        tess = await login_page(browser, live_server, "tess", PASSWORD)
        await tess.goto(f"{live_server}/mentions/1")
        assert (await tess.inner_text("#composer button[type=submit]")).strip() == "Send for approval"
        await tess.fill("#reply-text", "Sorry voor het wachten.")
        await tess.click("#composer button[type=submit]")
        await tess.wait_for_selector("#toast.toast-ok")
        assert "Your reply waits for a lead's approval." in await tess.inner_text("#toast")
        assert "awaits a lead's approval" in await tess.inner_text("#approval-state")
        await assert_accessible(tess)
        await tess.goto(f"{live_server}/")  # the trainee's queue lists their replies in approval
        assert "Awaits approval" in await tess.inner_text("#my-approval-1")
        await tess.wait_for_selector("#stream-status.ok")

        # It appears on the lead's page without a reload, with the mention's countdown.
        await lea.wait_for_selector("#approval-1 .countdown")
        assert "<b>nu</b>" in await lea.inner_text("#approval-1 .customer")  # shown as text
        assert "Goedkeuren en versturen" in await lea.inner_text("#approval-1")
        await lea.fill("#approval-text-1", EDITED)
        await lea.focus("#approval-text-1")
        r = await client.post("/api/mentions/2/reply", headers=trainee_token, json={"text": PROPOSED_2})
        assert r.status_code == 202
        await lea.wait_for_selector("#approval-2")  # the live refresh came ...
        assert await lea.input_value("#approval-text-1") == EDITED  # ... and kept the lead's edit
        await look(lea, folder, "approvals-nl")

        lou = await login_page(browser, live_server, "lou", PASSWORD)
        await lou.goto(f"{live_server}/approvals")
        assert "Replies awaiting approval" in await lou.inner_text("h1")
        assert "Approve and send" in await lou.inner_text("#approval-1")
        await look(lou, folder, "approvals-en")

        # Edit and approve: the edited text is the reply, in the trainee's name.
        await lea.set_viewport_size({"width": 1440, "height": 900})
        await lea.click("#approval-1 form.approve button[type=submit]")
        await lea.wait_for_selector("#toast.toast-ok")
        assert "Goedgekeurd" in await lea.inner_text("#toast")
        detail = (await client.get("/api/mentions/1", headers=trainee_token)).json()
        assert (detail["status"], detail["answered_by"]) == ("answered", "tess")
        assert [r["text"] for r in detail["replies"]] == [EDITED]
        await lea.wait_for_selector("#approval-1", state="detached")

        # Return the other with a note (by keyboard): the trainee finds note and text.
        tess_on_it = await tess.context.new_page()  # the trainee also has that mention open
        async with tess_on_it.expect_response(lambda r: r.url.endswith("/api/events")):  # listening
            await tess_on_it.goto(f"{live_server}/mentions/2")
        await lea.click("#approval-return-2 summary")
        await lea.fill("#approval-note-2", "Noem een concreet moment.")
        await lea.focus("#approval-return-2 button[type=submit]")
        await lea.keyboard.press("Enter")
        await lea.wait_for_selector("#toast.toast-ok")
        assert "teruggestuurd naar tess" in await lea.inner_text("#toast")
        assert "Er wachten geen reacties op goedkeuring." in await lea.inner_text("#live")
        await assert_accessible(lea)

    # The return reaches the trainee's open mention and queue pages live, note and all.
    await tess_on_it.wait_for_selector("#live-change:not([hidden])")
    assert "lea returned the reply with a note." in await tess_on_it.inner_text("#live-change")
    await tess.wait_for_selector("#my-approval-2.state-returned")
    assert "Returned by lea: Noem een concreet moment." in " ".join((await tess.inner_text("#my-approval-2")).split())
    assert await tess.query_selector("#my-approval-1") is None  # approved and sent: no longer listed
    await assert_accessible(tess)
    await tess.click("#my-approval-2 a")
    await tess.wait_for_selector("#approval-state")
    returned = await tess.inner_text("#approval-state")
    assert "lea returned the reply by tess with a note" in returned and "Noem een concreet moment." in returned
    assert await tess.input_value("#reply-text") == PROPOSED_2
    await assert_accessible(tess)
