"""Running accounts from the browser, over real HTTP against a live server: invitations and
reset links, one's own password, sessions and API tokens, deactivation from the users page,
and TOTP two-factor sign-in (codes computed here with pyotp, as an authenticator app would)."""
from __future__ import annotations

import hashlib
import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pyotp
import pytest
from sqlalchemy import select

from app.accounts import sealing, throttle
from app.core.models import AuditEntry, RecoveryCode, User
from app.main import create_app
from tests.support.accounts import PASSWORD, client_at, login, login_csrf, open_stream, run_webcare
from tests.support.app import DEFAULT_TOML, Clock, add_user, bearer, make_config

pytestmark = pytest.mark.asyncio
WITHIN = 1.0  # seconds from a deactivation to the end of the streams it ends
NEW_PASSWORD = "a-much-better-passphrase"


def shown(html: str, element_id: str) -> str:
    return re.search(rf'id="{element_id}">([^<]+)<', html).group(1)


def link_path(html: str) -> str:
    return urlsplit(shown(html, "one-time-link")).path


async def csrf_of(client: httpx.AsyncClient, page: str = "/account") -> str:
    return login_csrf((await client.get(page)).text)


async def post_form(client: httpx.AsyncClient, path: str, page: str = "/account", **fields) -> httpx.Response:
    """A form as the browser posts it, with the CSRF token from the page it is on."""
    return await client.post(path, data={"csrf_token": await csrf_of(client, page), **fields}, follow_redirects=False)


async def set_password_by_link(client: httpx.AsyncClient, path: str, password: str) -> httpx.Response:
    return await client.post(path, data={"new_password": password, "repeat_password": password},
                             follow_redirects=False)


async def test_invite_accept_sign_in_and_change_password(live_server, ctx):
    await add_user(ctx, "ada", "admin")
    async with httpx.AsyncClient(base_url=live_server) as admin, httpx.AsyncClient(base_url=live_server) as new, \
            httpx.AsyncClient(base_url=live_server) as second_device:
        assert (await login(admin, "ada")).status_code == 303
        invited = await post_form(admin, "/admin/users/invite", "/admin/users", username="nina", role="lead",
                                  display_name="Nina <b>de</b> Vries")
        assert invited.status_code == 200
        assert "Nina &lt;b&gt;de&lt;/b&gt; Vries" in invited.text and "Invited" in invited.text
        path = link_path(invited.text)
        # Nobody can sign in as the invitee before they chose a password.
        assert (await login(new, "nina", "a-guessed-password")).status_code == 401

        page = await new.get(path)
        assert page.status_code == 200 and "Welcome, Nina" in page.text
        short = await set_password_by_link(new, path, "short")
        assert short.status_code == 422 and "at least 10" in short.text
        done = await set_password_by_link(new, path, PASSWORD)
        assert done.status_code == 303 and done.headers["location"] == "/login?done=password"
        # Used once: the link is gone, and says so without telling why.
        assert (await new.get(path)).status_code == 410
        assert (await set_password_by_link(new, path, "another-long-password")).status_code == 410

        assert (await login(new, "nina")).status_code == 303
        assert (await login(second_device, "nina")).status_code == 303
        assert (await new.get("/admin/users")).status_code == 200  # a lead sees the team
        wrong = await post_form(new, "/account/password", current_password="not-my-password",
                                new_password=NEW_PASSWORD, repeat_password=NEW_PASSWORD)
        assert wrong.status_code == 422
        changed = await post_form(new, "/account/password", current_password=PASSWORD,
                                  new_password=NEW_PASSWORD, repeat_password=NEW_PASSWORD)
        assert changed.status_code == 303
        assert (await new.get("/api/queue")).status_code == 200  # this browser stays signed in
        assert (await second_device.get("/api/queue")).status_code == 401  # the other one is out
    async with httpx.AsyncClient(base_url=live_server) as fresh:
        assert (await login(fresh, "nina")).status_code == 401
        assert (await login(fresh, "nina", NEW_PASSWORD)).status_code == 303
        # Guessing the current password from a borrowed session meets the sign-in limits.
        for _ in range(5):  # USER_LIMIT: 5 failures per username and address
            guess = await post_form(fresh, "/account/password", current_password="guess-guess-guess",
                                    new_password="whatever-it-is-now", repeat_password="whatever-it-is-now")
            assert guess.status_code == 422
        assert (await post_form(fresh, "/account/password", current_password=NEW_PASSWORD, new_password="x" * 12,
                                repeat_password="x" * 12)).status_code == 429
    async with ctx.db.read() as s:
        actions = (await s.exec(select(AuditEntry.action).where(AuditEntry.action.in_(
            ["user.invite", "password.set_by_link", "password.change"])).order_by(AuditEntry.id))).scalars().all()
    assert actions == ["user.invite", "password.set_by_link", "password.change"]


async def test_reset_link_from_the_page_and_the_cli_each_work_once_and_replace_the_last(live_server, ctx, tmp_path,
                                                                                      db_url):
    await add_user(ctx, "ada", "admin")
    await add_user(ctx, "tim")
    async with httpx.AsyncClient(base_url=live_server) as admin, httpx.AsyncClient(base_url=live_server) as tim:
        assert (await login(tim, "tim")).status_code == 303
        assert (await login(admin, "ada")).status_code == 303
        users_page = (await admin.get("/admin/users")).text
        tim_id = re.search(r'/admin/users/(\d+)/reset-link', users_page).group(1)
        from_page = link_path((await post_form(admin, f"/admin/users/{tim_id}/reset-link", "/admin/users")).text)
        code, output = await run_webcare(tmp_path, db_url, "user", "reset-link", "tim")
        assert code == 0, output
        from_cli = urlsplit(output.strip().splitlines()[-1]).path
        assert (await tim.get(from_page)).status_code == 410  # the newer link replaced it
        assert (await set_password_by_link(tim, from_cli, NEW_PASSWORD)).status_code == 303
        assert (await tim.get("/api/queue")).status_code == 401  # a reset signs them out everywhere
        assert (await login(tim, "tim", NEW_PASSWORD)).status_code == 303
        code, output = await run_webcare(tmp_path, db_url, "user", "reset-link", "nobody")
        assert code == 1 and "no user named 'nobody'" in output
    code, output = await run_webcare(tmp_path, db_url, "user", "invite", "lars", "--role", "responder")
    assert code == 0 and "invited with role responder" in output, output
    async with httpx.AsyncClient(base_url=live_server) as lars:
        path = urlsplit(output.strip().splitlines()[-1]).path
        assert (await set_password_by_link(lars, path, NEW_PASSWORD)).status_code == 303
        assert (await login(lars, "lars", NEW_PASSWORD)).status_code == 303


async def test_deactivate_from_the_page_ends_streams_and_tokens_and_reactivating_revives_neither(live_server, ctx):
    await add_user(ctx, "ada", "admin")
    token = await add_user(ctx, "tim")
    async with httpx.AsyncClient(base_url=live_server) as admin, httpx.AsyncClient(base_url=live_server) as tim, \
            httpx.AsyncClient(base_url=live_server) as script:
        assert (await login(admin, "ada")).status_code == 303
        assert (await login(tim, "tim")).status_code == 303
        tim_id = re.search(r'/admin/users/(\d+)/disable', (await admin.get("/admin/users")).text).group(1)
        csrf = await csrf_of(admin, "/admin/users")
        async with open_stream(script, bearer(token)) as token_stream, open_stream(tim) as session_stream:
            done = await admin.post(f"/admin/users/{tim_id}/disable", data={"csrf_token": csrf},
                                    follow_redirects=False)
            ended = time.monotonic()
            assert done.status_code == 303
            assert await token_stream.seconds_to_end(ended) < WITHIN
            assert await session_stream.seconds_to_end(ended) < WITHIN
        assert (await script.get("/api/queue", headers=bearer(token))).status_code == 401
        assert (await tim.get("/api/queue")).status_code == 401
        assert "Deactivated" in (await admin.get("/admin/users")).text

        assert (await post_form(admin, f"/admin/users/{tim_id}/enable", "/admin/users")).status_code == 303
        assert (await script.get("/api/queue", headers=bearer(token))).status_code == 401
        assert (await tim.get("/api/queue")).status_code == 401
        assert (await login(tim, "tim")).status_code == 303  # afresh

        # An admin cannot lock themselves out.
        own = await post_form(admin, "/admin/users/1/disable", "/admin/users")
        assert own.status_code == 422 and "your own account" in own.text
        assert (await admin.get("/api/queue")).status_code == 200


async def test_roles_on_the_users_page(live_server, ctx):
    await add_user(ctx, "ada", "admin")
    await add_user(ctx, "lea", "lead")
    await add_user(ctx, "tim")
    async with httpx.AsyncClient(base_url=live_server) as lead, httpx.AsyncClient(base_url=live_server) as tim:
        assert (await login(lead, "lea")).status_code == 303
        page = await lead.get("/admin/users")
        assert page.status_code == 200 and "tim" in page.text and "/admin/users/invite" not in page.text
        refused = await post_form(lead, "/admin/users/invite", "/admin/users", username="x", role="admin")
        assert refused.status_code == 403
        assert (await post_form(lead, "/admin/users/3/role", "/admin/users", role="admin")).status_code == 403
        assert (await login(tim, "tim")).status_code == 303
        assert (await tim.get("/admin/users")).status_code == 403
        assert (await tim.get("/account")).status_code == 200


async def test_api_tokens_created_shown_once_listed_used_and_revoked(live_server, ctx):
    await add_user(ctx, "anna")
    async with httpx.AsyncClient(base_url=live_server) as browser, httpx.AsyncClient(base_url=live_server) as script:
        assert (await login(browser)).status_code == 303
        bad = await post_form(browser, "/account/tokens", name="ci", days="0")
        assert bad.status_code == 422
        made = await post_form(browser, "/account/tokens", name="Grafana <export>", days="30")
        assert made.status_code == 200
        secret = shown(made.text, "new-token")
        assert "Grafana &lt;export&gt;" in made.text
        listed = (await browser.get("/account")).text
        assert secret not in listed and f"{secret[:10]}…" in listed  # by prefix only, from now on
        assert (await script.get("/api/queue", headers=bearer(secret))).status_code == 200
        cells = r"</td>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>"
        row = re.search(rf"<code>{re.escape(secret[:10])}…</code>{cells}", (await browser.get("/account")).text)
        assert row.group(1) != "Never" and row.group(2) != "Never"  # expires; last used just now
        token_id = re.search(r'/account/tokens/(\d+)/revoke', listed).group(1)
        async with open_stream(script, bearer(secret)) as stream:
            revoked = await post_form(browser, f"/account/tokens/{token_id}/revoke")
            assert revoked.status_code == 303
            assert await stream.seconds_to_end(time.monotonic()) < WITHIN
        assert (await script.get("/api/queue", headers=bearer(secret))).status_code == 401


async def test_own_sessions_listed_with_device_and_ended(live_server, ctx):
    await add_user(ctx, "anna")
    firefox = {"User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"}
    async with httpx.AsyncClient(base_url=live_server) as browser, \
            httpx.AsyncClient(base_url=live_server, headers=firefox) as laptop:
        assert (await login(browser)).status_code == 303
        assert (await login(laptop)).status_code == 303
        page = (await browser.get("/account")).text
        assert "Firefox 128.0 · Windows" in page and "(this browser)" in page
        other = re.search(r'name="session_id" value="([0-9a-f]+)">\s*<button type="submit">End session', page)
        async with open_stream(laptop) as stream:
            assert (await post_form(browser, "/account/sessions/end", session_id=other.group(1))).status_code == 303
            assert await stream.seconds_to_end(time.monotonic()) < WITHIN
        assert (await laptop.get("/api/queue")).status_code == 401
        assert (await browser.get("/api/queue")).status_code == 200
    # Someone else's session is not yours to end, even knowing its id.
    await add_user(ctx, "bram")
    async with httpx.AsyncClient(base_url=live_server) as anna, httpx.AsyncClient(base_url=live_server) as bram:
        assert (await login(anna)).status_code == 303
        assert (await login(bram, "bram")).status_code == 303
        brams = hashlib.sha256(bram.cookies["webcare_session"].encode()).hexdigest()
        tried = await post_form(anna, "/account/sessions/end", session_id=brams)
        assert tried.status_code == 303 and "done" not in tried.headers["location"]
        assert (await bram.get("/api/queue")).status_code == 200


async def enrol(client: httpx.AsyncClient, at: float | None = None) -> tuple[pyotp.TOTP, list[str]]:
    """Turn on two-factor sign-in from the account page; the app's TOTP and the recovery codes.
    `at`: the server's time, when its clock is not the real one."""
    assert (await post_form(client, "/account/2fa/start")).status_code == 303
    page = (await client.get("/account")).text
    assert "<svg" in page
    totp = pyotp.TOTP(re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1))
    confirmed = await post_form(client, "/account/2fa/confirm", code=totp.at(at or time.time()))
    assert confirmed.status_code == 200
    return totp, re.findall(r"<li><code>([0-9a-f]{6}-[0-9a-f]{6})</code></li>", confirmed.text)


async def test_the_totp_seed_is_stored_sealed_and_a_plain_one_is_sealed_at_start(live_server, ctx):
    await add_user(ctx, "anna")
    async with httpx.AsyncClient(base_url=live_server) as browser:
        assert (await login(browser)).status_code == 303
        totp, _ = await enrol(browser)
    async with ctx.db.read() as session:
        stored = (await session.exec(select(User).where(User.username == "anna"))).scalar_one().totp_secret
    # A copy of the database does not hold the seed the authenticator app was given.
    assert stored.startswith(sealing.PREFIX) and totp.secret not in stored
    assert sealing.unseal(ctx.sealer(), stored) == totp.secret
    with pytest.raises(sealing.Unreadable):
        sealing.unseal(sealing.sealer("another key " * 4), stored)
    # A seed stored in plain by an earlier version is sealed when the app starts.
    async with ctx.db.write() as session:
        anna = (await session.exec(select(User).where(User.username == "anna"))).scalar_one()
        anna.totp_secret = totp.secret
    restarted = create_app(ctx)
    async with restarted.router.lifespan_context(restarted):
        pass
    async with ctx.db.read() as session:
        resealed = (await session.exec(select(User).where(User.username == "anna"))).scalar_one().totp_secret
    assert sealing.is_sealed(resealed) and sealing.unseal(ctx.sealer(), resealed) == totp.secret


async def second_step(client: httpx.AsyncClient, code: str) -> httpx.Response:
    page = await client.get("/login/2fa")
    assert page.status_code == 200
    return await client.post("/login/2fa", data={"code": code, "csrf_token": login_csrf(page.text), "next": "/"},
                             follow_redirects=False)


async def test_totp_enrol_and_sign_in_with_a_code_and_recovery_codes_once(live_server, ctx):
    await add_user(ctx, "anna")
    async with httpx.AsyncClient(base_url=live_server) as browser:
        assert (await login(browser)).status_code == 303
        totp, codes = await enrol(browser)
        assert len(codes) == 10 and len(set(codes)) == 10
        assert "Recovery codes left: 10" in (await browser.get("/account")).text

    async with httpx.AsyncClient(base_url=live_server) as browser:
        signed = await login(browser)
        assert signed.status_code == 303 and signed.headers["location"] == "/login/2fa"
        assert (await browser.get("/api/queue")).status_code == 401  # the password alone is not enough
        assert (await browser.get("/", follow_redirects=False)).status_code == 303
        # The code the enrolment used is spent; the next one (an app a little ahead) works.
        assert (await second_step(browser, totp.now())).status_code == 401
        done = await second_step(browser, totp.at(time.time() + 30))
        assert done.status_code == 303 and done.headers["location"] == "/"
        assert (await browser.get("/api/queue")).status_code == 200

    for attempt in range(2):
        async with httpx.AsyncClient(base_url=live_server) as browser:
            assert (await login(browser)).status_code == 303
            answer = await second_step(browser, codes[0].upper())  # as typed from paper
            assert answer.status_code == (303 if attempt == 0 else 401)
    async with ctx.db.read() as s:
        used = (await s.exec(select(RecoveryCode.used_at).where(RecoveryCode.used_at.is_not(None)))).all()
        assert len(used) == 1
        stored = (await s.exec(select(RecoveryCode.code_hash))).scalars().all()
        assert codes[0] not in stored and all(len(h) == 64 for h in stored)  # hashed


async def test_code_guessing_is_limited(live_server, ctx):
    await add_user(ctx, "anna")
    async with httpx.AsyncClient(base_url=live_server) as browser:
        assert (await login(browser)).status_code == 303
        totp, _ = await enrol(browser)
    async with httpx.AsyncClient(base_url=live_server) as guesser:
        assert (await login(guesser)).status_code == 303
        right = totp.at(time.time() + 30)
        wrong = f"{(int(right) + 1) % 1_000_000:06d}"
        for _ in range(5):
            assert (await second_step(guesser, wrong)).status_code == 401
        throttled = await second_step(guesser, right)  # even the right code waits now
        assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
        assert (await guesser.get("/api/queue")).status_code == 401


async def test_a_role_that_requires_two_factor_enrols_right_after_the_password(live_server, ctx, tmp_path):
    ctx.config = make_config(tmp_path, DEFAULT_TOML + '\n[auth]\nrequire_2fa = ["admin"]\n')
    await add_user(ctx, "ada", "admin")
    await add_user(ctx, "tim")
    async with httpx.AsyncClient(base_url=live_server) as tim:
        assert (await login(tim, "tim")).headers["location"] == "/"  # responders are not asked
    async with httpx.AsyncClient(base_url=live_server) as ada:
        signed = await login(ada, "ada")
        assert signed.status_code == 303 and signed.headers["location"] == "/login/enrol"
        assert (await ada.get("/api/queue")).status_code == 401
        page = await ada.get("/login/enrol")
        assert page.status_code == 200 and "<svg" in page.text
        totp = pyotp.TOTP(re.search(r'<code class="secret">([A-Z2-7]+)</code>', page.text).group(1))
        csrf = login_csrf(page.text)
        bad = await ada.post("/login/enrol", data={"code": "000000", "csrf_token": csrf}, follow_redirects=False)
        assert bad.status_code == 401
        done = await ada.post("/login/enrol", data={"code": totp.now(), "csrf_token": csrf}, follow_redirects=False)
        assert done.status_code == 200 and len(re.findall(r"<li><code>", done.text)) == 10
        assert (await ada.get("/api/queue")).status_code == 200
        # Turning it off is not offered, and refused if asked for.
        account = (await ada.get("/account")).text
        assert "/account/2fa/off" not in account
        refused = await post_form(ada, "/account/2fa/off", code=totp.at(time.time() + 30))
        assert refused.status_code == 422


async def test_new_recovery_codes_replace_the_old_and_two_factor_can_be_turned_off(live_server, ctx):
    await add_user(ctx, "anna")
    async with httpx.AsyncClient(base_url=live_server) as browser:
        assert (await login(browser)).status_code == 303
        totp, old_codes = await enrol(browser)
        assert (await post_form(browser, "/account/2fa/recovery-codes", code="123456")).status_code == 422
        renewed = await post_form(browser, "/account/2fa/recovery-codes", code=totp.at(time.time() + 30))
        new_codes = re.findall(r"<li><code>([0-9a-f]{6}-[0-9a-f]{6})</code></li>", renewed.text)
        assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
        assert (await post_form(browser, "/account/2fa/off", code=old_codes[0])).status_code == 422
        off = await post_form(browser, "/account/2fa/off", code=new_codes[0])
        assert off.status_code == 303 and off.headers["location"] == "/account?done=2fa-off"
    async with httpx.AsyncClient(base_url=live_server) as browser:
        assert (await login(browser)).headers["location"] == "/"  # the password alone again
    async with ctx.db.read() as s:
        assert (await s.exec(select(RecoveryCode))).first() is None


async def test_an_expired_token_is_refused(app_client, ctx):
    from app.accounts import tokens, users
    async with ctx.db.write() as s:
        user = await users.create_user(s, "bot", PASSWORD, "responder")
        token = await tokens.create_token(s, user, "nightly", days=1, now=ctx.now() - timedelta(days=2))
    assert (await app_client.get("/api/queue", headers=bearer(token))).status_code == 401


async def test_codes_are_limited_per_account_over_every_address(ctx):
    """Guessing codes from many addresses, each under its own limits, still stops at ten
    wrong codes for the account; the password limits are not touched by it."""
    ctx.clock = Clock()
    await add_user(ctx, "anna")
    app = create_app(ctx)
    async with app.router.lifespan_context(app):
        async with client_at(app, "198.51.100.1") as owner:
            assert (await login(owner)).status_code == 303
            totp, _ = await enrol(owner, at=ctx.clock.value.timestamp())
        ctx.clock.advance(seconds=30)
        right = totp.at(ctx.clock.value)
        wrong = f"{(int(right) + 1) % 1_000_000:06d}"
        for n in range(throttle.ACCOUNT_LIMIT.failures // 2):
            async with client_at(app, f"203.0.113.{n}") as guesser:
                assert (await login(guesser)).status_code == 303
                for _ in range(2):
                    assert (await second_step(guesser, wrong)).status_code == 401
        async with client_at(app, "192.0.2.99") as elsewhere:
            assert (await login(elsewhere)).status_code == 303  # the password is still accepted
            refused = await second_step(elsewhere, right)
            assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
        ctx.clock.advance(minutes=15, seconds=1)
        async with client_at(app, "192.0.2.99") as later:
            assert (await login(later)).status_code == 303
            assert (await second_step(later, totp.at(ctx.clock.value))).status_code == 303


async def test_an_admin_resets_two_factor_for_someone_who_lost_their_phone(live_server, ctx, tmp_path, db_url):
    await add_user(ctx, "ada", "admin")
    await add_user(ctx, "anna")
    async with httpx.AsyncClient(base_url=live_server) as anna:
        assert (await login(anna)).status_code == 303
        await enrol(anna)
    async with httpx.AsyncClient(base_url=live_server) as admin:
        assert (await login(admin, "ada")).status_code == 303
        page = (await admin.get("/admin/users")).text
        anna_id = re.search(r'/admin/users/(\d+)/reset-2fa', page).group(1)
        assert (await post_form(admin, f"/admin/users/{anna_id}/reset-2fa", "/admin/users")).status_code == 303
        own = await post_form(admin, "/admin/users/1/reset-2fa", "/admin/users")
        assert own.status_code == 422
    async with httpx.AsyncClient(base_url=live_server) as anna:
        assert (await login(anna)).headers["location"] == "/"
        await enrol(anna)
    code, output = await run_webcare(tmp_path, db_url, "user", "reset-2fa", "anna")
    assert code == 0, output
    async with httpx.AsyncClient(base_url=live_server) as anna:
        assert (await login(anna)).headers["location"] == "/"
