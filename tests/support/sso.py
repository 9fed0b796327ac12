"""Single sign-on test helpers: the `[auth.oidc]` config for the fake provider, and a browser
walking the flow (app -> provider -> app) one redirect at a time."""
from __future__ import annotations

from dataclasses import dataclass

import httpx

from tests.support.app import DEFAULT_TOML
from tests.support.fake_oidc import CLIENT_ID

SECRET_ENV = "TEST_OIDC_CLIENT_SECRET"


def oidc_toml(issuer: str, public_url: str, oidc_extra: str = "") -> str:
    return f"""
[app]
public_url = "{public_url}"

[auth.oidc]
issuer = "{issuer}"
client_id = "{CLIENT_ID}"
client_secret_env = "{SECRET_ENV}"
provider_name = "Keycloak"
scopes = ["openid", "profile", "groups"]
roles_claim = "groups"
roles = {{ "webcare-admins" = "admin", "webcare-leads" = "lead", "webcare-agents" = "responder" }}
teams_claim = "groups"
teams = {{ "team-billing" = "billing", "team-outage" = "outage" }}
{oidc_extra}
""" + DEFAULT_TOML


@dataclass
class Walk:
    start: httpx.Response       # GET /login/oidc: 303 to the provider
    callback_url: str           # where the provider sent the browser back
    state_cookie: str | None    # the state cookie the browser held then
    result: httpx.Response      # the callback's answer


async def walk(browser: httpx.AsyncClient, app_url: str, next: str = "/") -> Walk:
    """Sign in through the provider as a browser does, following each redirect by hand."""
    start = await browser.get(f"{app_url}/login/oidc", params={"next": next})
    assert start.status_code == 303, start.text
    at_provider = await browser.get(start.headers["location"])
    assert at_provider.status_code == 302, at_provider.text
    callback_url = at_provider.headers["location"]
    state_cookie = browser.cookies.get("webcare_oidc_state")
    result = await browser.get(callback_url)
    return Walk(start, callback_url, state_cookie, result)


async def code_from_provider(browser: httpx.AsyncClient, app_url: str) -> str:
    """Start a sign-in and take the provider's redirect back without following it: its URL."""
    start = await browser.get(f"{app_url}/login/oidc")
    return (await browser.get(start.headers["location"])).headers["location"]
