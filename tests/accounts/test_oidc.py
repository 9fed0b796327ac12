"""Single sign-on end to end over real HTTP: the app on uvicorn, a fake OpenID provider on
its own port (discovery, JWKS with an RSA key made here, /authorize, /token with signed ID
tokens). Sign-in makes the user with the mapped role; each broken ID token, a replayed state
and a code redeemed without its own PKCE verifier are refused, and nobody is signed in."""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qs, quote_plus, urlsplit

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from app.core.config import Settings
from app.core.context import AppContext
from app.core.db import Database
from app.core.models import AuditEntry, AuthSession, User
from app.main import create_app
from tests.support.accounts import login, serve_process
from tests.support.app import add_user, free_port, make_config, write_config
from tests.support.browser import assert_accessible, browser, shots  # noqa: F401  (the browser fixture)
from tests.support.connectors.conformance import serve, served
from tests.support.fake_oidc import CLIENT_SECRET, FakeIdentityProvider, new_key, s256
from tests.support.sso import SECRET_ENV, code_from_provider, oidc_toml, walk

pytestmark = pytest.mark.asyncio


@dataclass
class Sso:
    idp: FakeIdentityProvider
    url: str
    ctx: AppContext


@pytest_asyncio.fixture
async def sso(request, db_url, tmp_path, monkeypatch, push_secret) -> AsyncIterator[Sso]:
    """The app on a real port, configured for the fake provider; `@pytest.mark.oidc_extra(...)`
    adds lines to `[auth.oidc]`."""
    monkeypatch.setenv(SECRET_ENV, CLIENT_SECRET)
    marker = request.node.get_closest_marker("oidc_extra")
    async with served(FakeIdentityProvider()) as idp:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        ctx = AppContext(settings=Settings(data_dir=tmp_path), db=Database(db_url), secret_key="x" * 40,
                         config=make_config(tmp_path, oidc_toml(idp.base_url, url, marker.args[0] if marker else "")))
        try:
            async with serve(create_app(ctx), port):
                yield Sso(idp, url, ctx)
        finally:
            await ctx.close()


async def users_by_name(ctx: AppContext) -> dict[str, User]:
    async with ctx.db.read() as session:
        return {u.username: u for u in (await session.exec(select(User))).scalars()}


async def live_sessions(ctx: AppContext) -> int:
    async with ctx.db.read() as session:
        return len((await session.exec(select(AuthSession).where(AuthSession.revoked_at.is_(None)))).all())


async def test_sign_in_creates_the_user_with_the_mapped_role_and_signs_them_in(sso):
    sso.idp.person["groups"] = ["webcare-agents", "team-billing", "unrelated"]
    async with httpx.AsyncClient() as agent:
        done = await walk(agent, sso.url, next="/reports")
        assert done.result.status_code == 303 and done.result.headers["location"] == "/reports"
        # The authorization request: code flow, our callback, PKCE S256, a nonce.
        asked = parse_qs(urlsplit(done.start.headers["location"]).query)
        assert asked["response_type"] == ["code"] and asked["code_challenge_method"] == ["S256"]
        assert asked["redirect_uri"] == [f"{sso.url}/login/oidc/callback"] and asked["nonce"][0]
        # The token request carried the verifier of that challenge.
        [token_request] = sso.idp.token_requests
        assert s256(token_request["code_verifier"]) == asked["code_challenge"][0]
        assert "client_secret" not in token_request  # sent in the Basic header, form-encoded
        page = await agent.get(f"{sso.url}/")
        assert page.status_code == 200 and "Anna de Vries · responder" in page.text
    anna = (await users_by_name(sso.ctx))["anna"]
    assert (anna.role, anna.display_name, anna.oidc_teams) == ("responder", "Anna de Vries", ["billing"])
    assert anna.oidc_subject == f"{sso.idp.base_url} 248289761001"
    async with sso.ctx.db.read() as session:
        trail = (await session.exec(select(AuditEntry.actor, AuditEntry.action, AuditEntry.detail)
                                    .order_by(AuditEntry.id))).all()
    assert [(actor, action) for actor, action, _ in trail] == [("oidc", "user.create"), ("anna", "login")]
    assert trail[0][2] == {"user": "anna", "role": "responder"} and trail[1][2]["via"] == "oidc"


async def test_a_single_sign_on_session_records_the_device(sso):
    firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
    async with httpx.AsyncClient(headers={"user-agent": firefox}) as agent:
        await walk(agent, sso.url)
        account = await agent.get(f"{sso.url}/account")
    async with sso.ctx.db.read() as session:
        [agent_string] = (await session.exec(select(AuthSession.user_agent)
                                             .where(AuthSession.revoked_at.is_(None)))).scalars().all()
    assert agent_string == firefox
    assert "Firefox" in account.text and "Linux" in account.text  # the sessions list names the device


@pytest.mark.slow
async def test_a_webcare_serve_process_signs_a_new_admin_in(tmp_path, db_url, monkeypatch, push_secret):
    """The same through `webcare serve` in its own process, as deployed: config from the file,
    the client secret from the environment, the migration applied at start."""
    monkeypatch.setenv(SECRET_ENV, CLIENT_SECRET)
    async with served(FakeIdentityProvider()) as idp:
        idp.person.update(preferred_username="ruud", name="Ruud Admin", groups=["webcare-admins"])
        port = free_port()
        write_config(tmp_path, oidc_toml(idp.base_url, f"http://127.0.0.1:{port}"))
        with serve_process(tmp_path, db_url, "--no-worker", port=port) as base:
            async with httpx.AsyncClient() as agent:
                assert (await walk(agent, base)).result.status_code == 303
                assert (await agent.get(f"{base}/api/queue")).status_code == 200
                assert (await agent.get(f"{base}/admin/audit")).status_code == 200  # admins only
    assert idp.discovery_fetches == 1


async def test_two_first_sign_ins_at_once_make_one_user(sso):
    from app.accounts.sso.accounts import sign_in
    from app.accounts.sso.identity import Identity

    who = Identity(subject="issuer 1", username="tess", display_name=None, role="lead", teams=None)
    tokens = await asyncio.gather(*(sign_in(sso.ctx, who, "127.0.0.1") for _ in range(3)))
    assert len(set(tokens)) == 3 and list(await users_by_name(sso.ctx)) == ["tess"]


async def test_the_role_follows_the_group_at_every_sign_in(sso):
    async with httpx.AsyncClient() as agent:
        sso.idp.person["groups"] = ["webcare-agents", "webcare-admins"]
        assert (await walk(agent, sso.url)).result.status_code == 303
        assert (await users_by_name(sso.ctx))["anna"].role == "admin"
        sso.idp.person["groups"] = ["webcare-agents"]  # taken out of the admins' group
        assert (await walk(agent, sso.url)).result.status_code == 303
        assert (await users_by_name(sso.ctx))["anna"].role == "responder"
        assert (await agent.get(f"{sso.url}/api/queue")).status_code == 200
        assert len(await users_by_name(sso.ctx)) == 1  # the same user, found by subject

        sso.idp.person["groups"] = ["somewhere-else"]  # out of every mapped group
        refused = (await walk(agent, sso.url)).result
        assert refused.status_code == 403
        assert "gives you no role in Webcare Monitor" in refused.text
        # Their session ended too: the provider says they may no longer use Webcare.
        assert (await agent.get(f"{sso.url}/api/queue")).status_code == 401
    assert await live_sessions(sso.ctx) == 0


async def test_no_mapped_role_refuses_a_first_sign_in_in_the_browsers_language(sso):
    sso.idp.person["groups"] = []
    async with httpx.AsyncClient(headers={"Accept-Language": "nl-NL,nl;q=0.9"}) as agent:
        refused = (await walk(agent, sso.url)).result
    assert refused.status_code == 403 and "geeft u geen rol in Webcare Monitor" in refused.text
    assert await users_by_name(sso.ctx) == {}


@pytest.mark.parametrize(("changes", "why"), [
    ({"aud": "another-app"}, "a wrong audience"),
    ({"exp": int(time.time()) - 600, "iat": int(time.time()) - 900}, "an expired token"),
    ({"iss": "https://idp.example.org"}, "another issuer"),
    ({"nonce": "not-the-one-we-sent"}, "another sign-in's nonce"),
    ({"nonce": None}, "no nonce"),
])
async def test_a_broken_id_token_is_refused(sso, changes, why):
    sso.idp.id_token_changes = changes
    async with httpx.AsyncClient() as agent:
        result = (await walk(agent, sso.url)).result
        assert result.status_code == 400, why
        assert "Single sign-on failed" in result.text
        assert (await agent.get(f"{sso.url}/api/queue")).status_code == 401
    assert await users_by_name(sso.ctx) == {} and await live_sessions(sso.ctx) == 0


async def test_a_bad_signature_is_refused(sso):
    sso.idp.signing_key = new_key()  # same key id, another key: the signature does not verify
    async with httpx.AsyncClient() as agent:
        assert (await walk(agent, sso.url)).result.status_code == 400
    assert await users_by_name(sso.ctx) == {}


async def test_rotated_keys_are_fetched_again(sso):
    async with httpx.AsyncClient() as agent:
        assert (await walk(agent, sso.url)).result.status_code == 303  # the first key is kept now
        sso.idp.key = new_key("test-key-2")  # the provider rotates: a new key id, the old key gone
        assert (await walk(agent, sso.url)).result.status_code == 303


async def test_a_discovery_document_for_another_issuer_is_refused(sso):
    sso.idp.discovery_changes = {"issuer": "https://idp.example.org"}
    async with httpx.AsyncClient() as agent:
        refused = await agent.get(f"{sso.url}/login/oidc")
    assert refused.status_code == 502 and "could not be reached" in refused.text


async def test_a_state_that_is_not_ascii_is_refused_plainly(sso):
    async with httpx.AsyncClient(cookies={"webcare_oidc_state": "x"}) as agent:
        result = await agent.get(f"{sso.url}/login/oidc/callback", params={"state": "ünïcode", "code": "c"})
    assert result.status_code == 400


async def test_a_replayed_state_is_refused(sso):
    async with httpx.AsyncClient() as agent:
        first = await walk(agent, sso.url)
        assert first.result.status_code == 303
    async with httpx.AsyncClient(cookies={"webcare_oidc_state": first.state_cookie}) as replay:
        again = await replay.get(first.callback_url)
        assert again.status_code == 400
        assert (await replay.get(f"{sso.url}/api/queue")).status_code == 401
    assert len(sso.idp.token_requests) == 1  # refused before the provider was asked again
    assert await live_sessions(sso.ctx) == 1


async def test_a_callback_in_another_browser_is_refused(sso):
    """Someone else's callback URL (their code and state) does not sign this browser in."""
    async with httpx.AsyncClient() as victim, httpx.AsyncClient() as attacker:
        attackers_callback = await code_from_provider(attacker, sso.url)
        assert (await victim.get(attackers_callback)).status_code == 400
    assert sso.idp.token_requests == [] and await users_by_name(sso.ctx) == {}


async def test_a_code_without_its_own_pkce_verifier_is_refused(sso):
    """A code handed to another sign-in cannot be redeemed: that sign-in's verifier is not the
    one the code was issued for, and the provider refuses it (as it refuses none at all)."""
    async with httpx.AsyncClient() as agent, httpx.AsyncClient() as other:
        stolen = parse_qs(urlsplit(await code_from_provider(other, sso.url)).query)["code"][0]
        mine = urlsplit(await code_from_provider(agent, sso.url))
        state = parse_qs(mine.query)["state"][0]
        result = await agent.get(f"{sso.url}/login/oidc/callback", params={"code": stolen, "state": state})
        assert result.status_code == 400
        assert (await agent.get(f"{sso.url}/api/queue")).status_code == 401
    [request] = sso.idp.token_requests
    assert request["code"] == stolen and request["code_verifier"]
    # And the provider insists on a verifier: the same exchange without one is refused.
    sso.idp.codes["c"] = {"redirect_uri": request["redirect_uri"], "challenge": s256("v" * 43), "nonce": "n",
                          "person": sso.idp.person}
    async with httpx.AsyncClient() as client:
        bare = await client.post(f"{sso.idp.base_url}/token", auth=("webcare", quote_plus(CLIENT_SECRET)), data={
            "grant_type": "authorization_code", "code": "c", "redirect_uri": request["redirect_uri"]})
    assert bare.status_code == 400 and bare.json()["error"] == "invalid_grant"
    assert await users_by_name(sso.ctx) == {}


async def test_the_provider_saying_no_is_shown_plainly(sso):
    async with httpx.AsyncClient() as agent:
        start = await agent.get(f"{sso.url}/login/oidc")
        state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
        result = await agent.get(f"{sso.url}/login/oidc/callback", params={"error": "access_denied",
                                                                            "state": state})
        assert result.status_code == 400 and "did not sign you in" in result.text
    async with httpx.AsyncClient(cookies={"webcare_oidc_state": state}) as agent:  # the state was used up
        again = await agent.get(f"{sso.url}/login/oidc/callback", params={"code": "c", "state": state})
        assert again.status_code == 400 and sso.idp.token_requests == []


async def test_a_flood_of_started_sign_ins_is_capped(sso, monkeypatch):
    monkeypatch.setattr("app.accounts.sso.flow.MAX_UNDER_WAY", 2)
    async with httpx.AsyncClient() as agent:
        for _ in range(2):
            assert (await agent.get(f"{sso.url}/login/oidc")).status_code == 303
        busy = await agent.get(f"{sso.url}/login/oidc")
        assert busy.status_code == 503 and "Too many sign-ins are under way" in busy.text


async def test_an_existing_password_user_is_not_taken_over_by_a_namesake(sso):
    await add_user(sso.ctx, "anna", "admin")
    async with httpx.AsyncClient() as agent:
        result = (await walk(agent, sso.url)).result
    assert result.status_code == 409 and "already used by another" in result.text
    anna = (await users_by_name(sso.ctx))["anna"]
    assert anna.oidc_subject is None and anna.role == "admin"


async def test_a_deactivated_user_is_refused(sso):
    async with httpx.AsyncClient() as agent:
        assert (await walk(agent, sso.url)).result.status_code == 303
    async with sso.ctx.db.write() as session:
        (await session.exec(select(User))).scalars().one().disabled = True
    async with httpx.AsyncClient() as agent:
        assert (await walk(agent, sso.url)).result.status_code == 403


async def test_the_login_page_offers_the_provider_in_both_languages(sso):
    async with httpx.AsyncClient() as agent:
        en = await agent.get(f"{sso.url}/login", params={"next": "/reports"})
        nl = await agent.get(f"{sso.url}/login", headers={"Accept-Language": "nl"})
    assert 'href="/login/oidc?next=/reports"' in en.text or 'href="/login/oidc?next=%2Freports"' in en.text
    assert "Sign in with Keycloak" in en.text and 'name="password"' in en.text
    assert "Inloggen met Keycloak" in nl.text


@pytest.mark.oidc_extra("allow_password_login = false")
async def test_password_login_can_be_turned_off(sso):
    await add_user(sso.ctx, "bob", "admin")
    async with httpx.AsyncClient(base_url=sso.url) as agent:
        page = await agent.get("/login")
        assert "Sign in with Keycloak" in page.text and 'name="password"' not in page.text
        token = page.cookies.get("webcare_login_csrf") or agent.cookies.get("webcare_login_csrf")
        refused = await agent.post("/login", data={"username": "bob", "password": "correct-horse-battery",
                                                     "csrf_token": token, "next": "/"}, follow_redirects=False)
        assert refused.status_code == 403 and "turned off" in refused.text
        assert (await agent.get("/api/queue")).status_code == 401


async def test_without_oidc_the_routes_are_not_found_and_the_page_has_no_button(app_client):
    assert (await app_client.get("/login/oidc")).status_code == 404
    assert (await app_client.get("/login/oidc/callback?state=x&code=y")).status_code == 404
    page = await app_client.get("/login")
    assert "/login/oidc" not in page.text and 'name="password"' in page.text
    assert (await login(app_client, "nobody")).status_code == 401  # password sign-in as before


@pytest.mark.browser
@pytest.mark.parametrize(("locale", "button", "refusal"), [
    ("en-GB", "Sign in with Keycloak", "gives you no role"),
    ("nl-NL", "Inloggen met Keycloak", "geeft u geen rol"),
])
async def test_in_chromium_the_button_signs_in_and_the_pages_are_accessible_at_phone_width(
        sso, browser, locale, button, refusal, tmp_path):  # noqa: F811
    context = await browser.new_context(locale=locale, viewport={"width": 360, "height": 800})
    page = await context.new_page()
    await page.goto(f"{sso.url}/")
    assert "/login" in page.url
    await assert_accessible(page)
    assert await page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    await page.screenshot(path=str(shots(tmp_path) / f"sso-login-{locale}-360.png"), full_page=True)
    await page.get_by_role("link", name=button).click()  # off to the provider and back
    await page.wait_for_url(f"{sso.url}/")
    assert "Anna de Vries" in await page.content()

    sso.idp.person["groups"] = []
    await page.goto(f"{sso.url}/login/oidc")
    assert refusal in await page.locator("[role=alert]").inner_text()
    await assert_accessible(page)
    await context.close()
