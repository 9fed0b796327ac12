"""Accounts and access: the route walk, sessions, CSRF, throttling, tokens."""
from __future__ import annotations

import re

import pytest

from app.accounts.principal import ROLE_RANK
from app.main import create_app
from tests.support.app import add_user, bearer
from tests.support.routes import all_routes

pytestmark = pytest.mark.asyncio

# The only routes anyone may call without a login or token: the second sign-in step needs the
# pending session of a right password, a one-time link is its own proof.
PUBLIC = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/login"), ("POST", "/login"),
          ("GET", "/login/oidc"), ("GET", "/login/oidc/callback"),  # single sign-on (tests/accounts/test_oidc.py)
          ("POST", "/api/ingest/{source_name}"), ("GET", "/login/2fa"), ("POST", "/login/2fa"),
          ("GET", "/login/enrol"), ("POST", "/login/enrol"), ("GET", "/set-password/{token}"),
          ("POST", "/set-password/{token}")}
# Pages under /api (the API's documentation for people): they redirect like every page.
API_PAGES = {("GET", "/api/docs")}
SAMPLE_PATH_VALUES = {"mention_id": "1", "source_name": "push", "follow_up_id": "1", "text_id": "1", "outbox_id": "1",
                      "sink_name": "team-chat", "user_id": "1", "token_id": "1", "token": "not-a-link",
                      "approval_id": "1", "team_name": "billing", "username": "anna", "rule_id": "1",
                      "link_id": "1"}


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PATH_VALUES[m.group(1)], path)


async def test_every_route_needs_login_except_the_allow_list(app_client, ctx):
    routes = all_routes(create_app(ctx))
    assert set(routes) >= PUBLIC
    protected = [r for r in routes if r not in PUBLIC]
    assert len(protected) >= 12
    token = await add_user(ctx, "walker", "admin")
    for method, path in protected:
        url = concrete(path)
        anonymous = await app_client.request(method, url, follow_redirects=False)
        if (path.startswith("/api/") or path == "/metrics") and (method, path) not in API_PAGES:
            assert anonymous.status_code == 401, f"{method} {path} answered {anonymous.status_code} anonymously"
        else:
            assert anonymous.status_code == 303, f"{method} {path} did not redirect"
            assert anonymous.headers["location"].startswith("/login")
        if path == "/api/events":
            continue  # a stream: its authorised behaviour is tested with a live server
        authorised = await app_client.request(method, url, headers=bearer(token), follow_redirects=False)
        assert authorised.status_code not in (401, 403), f"{method} {path} refused a valid token"


async def test_static_files_are_public(app_client):
    assert (await app_client.get("/static/app.js")).status_code == 200


async def login(client, username="anna", password="correct-horse-battery"):
    page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return await client.post("/login", data={"username": username, "password": password, "csrf_token": token,
                                              "next": "/"}, follow_redirects=False)


async def test_login_session_cookie_and_csrf_on_forms_and_api(app_client, ctx):
    await add_user(ctx, "anna")
    r = await login(app_client)
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("samesite", "SameSite")
    page = await app_client.get("/")
    assert page.status_code == 200 and "Webcare Monitor" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    # Cookie-authenticated writes need the CSRF token: header for the API, field for forms.
    assert (await app_client.post("/api/mentions/1/claim")).status_code == 403
    assert (await app_client.post("/api/mentions/1/claim", headers={"X-CSRF-Token": csrf})).status_code == 404
    assert (await app_client.post("/logout", data={}, follow_redirects=False)).status_code == 403
    out = await app_client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert (await app_client.get("/", follow_redirects=False)).status_code == 303


async def test_revoked_session_is_refused_even_with_the_old_cookie(app_client, ctx):
    await add_user(ctx, "anna")
    r = await login(app_client)
    stolen = r.cookies.get("webcare_session") or app_client.cookies.get("webcare_session")
    page = await app_client.get("/")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    await app_client.post("/logout", data={"csrf_token": csrf})
    app_client.cookies.set("webcare_session", stolen)
    assert (await app_client.get("/api/queue")).status_code == 401


async def test_wrong_password_then_throttled_with_retry_after(app_client, ctx):
    await add_user(ctx, "anna")
    for _ in range(5):
        assert (await login(app_client, password="wrong-password!")).status_code == 401
    throttled = await login(app_client)  # even the right password waits now
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0


async def test_login_redirects_only_to_local_paths(app_client, ctx):
    await add_user(ctx, "anna")
    page = await app_client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = await app_client.post("/login", data={"username": "anna", "password": "correct-horse-battery",
                                              "csrf_token": token, "next": "//evil.example/"}, follow_redirects=False)
    assert r.headers["location"] == "/"


async def test_revoked_token_is_refused(app_client, ctx):
    from app.accounts import tokens, users
    token = await add_user(ctx, "tim")
    assert (await app_client.get("/api/queue", headers=bearer(token))).status_code == 200
    async with ctx.db.write() as s:
        assert await tokens.revoke_tokens(s, await users.user_by_name(s, "tim")) == 1
    assert (await app_client.get("/api/queue", headers=bearer(token))).status_code == 401
    assert (await app_client.get("/api/queue", headers=bearer("wct_made-up"))).status_code == 401


async def test_security_headers(app_client):
    r = await app_client.get("/login")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "unsafe-inline" not in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"


# The least role each user-administration route takes (the walk above checks an admin passes).
USER_ADMIN_ROLES = {("GET", "/admin/users"): "lead", ("POST", "/admin/users/invite"): "admin",
                    ("POST", "/admin/users/{user_id}/role"): "admin",
                    ("POST", "/admin/users/{user_id}/disable"): "admin",
                    ("POST", "/admin/users/{user_id}/enable"): "admin",
                    ("POST", "/admin/users/{user_id}/reset-link"): "admin",
                    ("POST", "/admin/users/{user_id}/reset-2fa"): "admin",
                    ("POST", "/admin/users/{user_id}/approval"): "admin"}


async def assert_least_roles(app_client, ctx, least_roles: dict[tuple[str, str], str], matches,
                             roles: tuple[str, ...] = ("responder", "lead", "admin")) -> None:
    """Every route `matches` picks is in `least_roles`, and each refuses (403) exactly the roles
    below its least one (tried as `roles`, in that order)."""
    routes = {r for r in all_routes(create_app(ctx)) if matches(r[1])}
    assert routes == set(least_roles)
    tokens = {role: await add_user(ctx, f"{role}-user", role) for role in roles}
    for (method, path), least in least_roles.items():
        for role, token in tokens.items():
            answer = await app_client.request(method, concrete(path), headers=bearer(token), follow_redirects=False)
            allowed = ROLE_RANK[role] >= ROLE_RANK[least]
            assert (answer.status_code != 403) == allowed, f"{method} {path} as {role}: {answer.status_code}"


async def test_user_administration_routes_refuse_the_roles_below_theirs(app_client, ctx):
    # Not as an admin: an admin's requests would deactivate the sample user, whose token is tried next.
    await assert_least_roles(app_client, ctx, USER_ADMIN_ROLES, lambda path: path.startswith("/admin/users"),
                             roles=("responder", "lead"))


# The approval queue is the leads' (app/approvals/): its API, its page, its live fragment, its forms.
APPROVAL_ROLES = {("GET", "/api/approvals"): "lead", ("POST", "/api/approvals/{approval_id}/approve"): "lead",
                  ("POST", "/api/approvals/{approval_id}/return"): "lead", ("GET", "/approvals"): "lead",
                  ("GET", "/partials/approvals"): "lead", ("POST", "/approvals/{approval_id}/approve"): "lead",
                  ("POST", "/approvals/{approval_id}/return"): "lead"}


async def test_approval_routes_refuse_the_roles_below_theirs(app_client, ctx):
    await assert_least_roles(app_client, ctx, APPROVAL_ROLES, lambda path: "approvals" in path)


# The least role of each teams route (app/teams/): leads run teams and rules; everyone sees the
# teams and sets their own availability.
TEAM_ROLES = {("GET", "/admin/teams"): "lead", ("POST", "/admin/teams"): "lead",
              ("POST", "/admin/teams/{team_name}/members"): "lead",
              ("POST", "/admin/teams/{team_name}/members/{username}/remove"): "lead",
              ("POST", "/admin/teams/{team_name}/delete"): "lead",
              ("POST", "/admin/routing"): "lead", ("POST", "/admin/routing/{rule_id}/delete"): "lead",
              ("POST", "/admin/routing/{rule_id}/move"): "lead",
              ("GET", "/api/teams"): "responder", ("PUT", "/api/me/availability"): "responder",
              ("POST", "/settings/availability"): "responder"}


async def test_teams_routes_refuse_the_roles_below_theirs(app_client, ctx):
    teams_paths = ("/admin/teams", "/admin/routing", "/api/teams", "/api/me/availability", "/settings/availability")
    await assert_least_roles(app_client, ctx, TEAM_ROLES, lambda path: path.startswith(teams_paths))
