"""The teams admin page's changes over HTTP: what it refuses and why, and where the UI's rules
and members go beside the config file's."""
from __future__ import annotations

import re

import pytest
from sqlmodel import select

from app.core.models import User
from tests.support.app import add_user, bearer, make_config

pytestmark = pytest.mark.asyncio
TOML = """
[[teams]]
name = "billing"
members = ["anna"]
default = true

[[author_lists]]
name = "vip"
authors = ["ceo"]

[[routing]]
team = "billing"
keywords = ["factuur"]
"""


async def test_the_ui_adds_on_top_of_the_file_and_refuses_what_it_cannot_do(app_client, ctx, tmp_path):
    ctx.config = make_config(tmp_path, TOML)
    lead = bearer(await add_user(ctx, "lena", "lead"))
    await add_user(ctx, "anna")
    await add_user(ctx, "bob")

    async def form(path: str, **data):
        return await app_client.post(path, data=data, headers=lead, follow_redirects=False)

    assert (await form("/admin/teams", name="Press")).status_code == 303          # kept in lower case
    assert (await form("/admin/teams", name="press")).status_code == 409
    assert (await form("/admin/teams", name="billing")).status_code == 409        # the file's name
    assert (await form("/admin/teams", name="no spaces")).status_code == 422
    assert (await form("/admin/teams/press/members", username="bob")).status_code == 303
    assert (await form("/admin/teams/billing/members", username="bob")).status_code == 303   # a file team too
    assert (await form("/admin/teams/billing/members", username="anna")).status_code == 409  # in the file
    assert (await form("/admin/teams/billing/members", username="ghost")).status_code == 422
    assert (await form("/admin/teams/nope/members", username="bob")).status_code == 404
    refused = await form("/admin/teams/billing/members/anna/remove")
    assert refused.status_code == 409 and "config file" in refused.text
    assert (await form("/admin/routing", team="press", keywords="pers, <b>journalist</b>", authors="vip",
                       assign="round_robin", priority="2")).status_code == 303
    assert (await form("/admin/routing", team="nope", keywords="x")).status_code == 422
    assert (await form("/admin/routing", keywords="x")).status_code == 422        # sets nothing
    assert (await form("/admin/routing", keywords="x", assign="ghost")).status_code == 422
    assert (await form("/admin/routing", team="press", categories="bills")).status_code == 422

    await add_user(ctx, "sso-sam")
    async with ctx.db.write() as session:   # single sign-on's teams claim counts as membership
        sam = (await session.exec(select(User).where(User.username == "sso-sam"))).one()
        sam.oidc_teams = ["press"]
    overview = (await app_client.get("/api/teams", headers=lead)).json()
    assert [t["name"] for t in overview["teams"]] == ["billing", "press"]
    assert {m["username"]: m["from_file"] for m in overview["teams"][0]["members"]} == {"anna": True, "bob": False}
    assert {m["username"] for m in overview["teams"][1]["members"]} == {"bob", "sso-sam"}
    rules = overview["rules"]
    assert [(r["position"], r["from_file"], r["team"]) for r in rules] == [(1, True, "billing"), (2, False, "press")]
    assert rules[1]["keywords"] == ["pers", "<b>journalist</b>"] and rules[1]["priority"] == 2
    page = await app_client.get("/admin/teams", headers=lead)
    assert "&lt;b&gt;journalist&lt;/b&gt;" in page.text and "<b>journalist" not in page.text   # escaped

    assert (await form("/admin/routing", team="billing", channels="x")).status_code == 303
    assert (await form("/admin/teams/press/delete")).status_code == 409          # a rule routes to it
    assert (await form("/admin/teams/billing/delete")).status_code == 409        # the file's
    third = (await app_client.get("/api/teams", headers=lead)).json()["rules"][2]["id"]
    assert (await form(f"/admin/routing/{third}/move", direction="up")).status_code == 303
    moved = (await app_client.get("/api/teams", headers=lead)).json()["rules"]
    assert [(r["position"], r["team"], r["id"]) for r in moved] == [(1, "billing", None), (2, "billing", third),
                                                                    (3, "press", rules[1]["id"])]
    assert (await form(f"/admin/routing/{third}/move", direction="up")).status_code == 303   # first of the UI's: stays
    assert (await form(f"/admin/routing/{third}/move", direction="sideways")).status_code == 422
    assert (await form(f"/admin/routing/{third}/delete")).status_code == 303

    ui_rule = rules[1]["id"]
    assert (await form(f"/admin/routing/{ui_rule}/delete")).status_code == 303
    assert (await form(f"/admin/routing/{ui_rule}/delete")).status_code == 404
    assert (await form("/admin/teams/billing/members/bob/remove")).status_code == 303
    assert [r["team"] for r in (await app_client.get("/api/teams", headers=lead)).json()["rules"]] == ["billing"]
    assert (await form("/admin/teams/press/delete")).status_code == 303
    assert [t["name"] for t in (await app_client.get("/api/teams", headers=lead)).json()["teams"]] == ["billing"]


async def test_a_lead_sees_the_members_of_their_teams_on_the_users_page(app_client, ctx, tmp_path):
    ctx.config = make_config(tmp_path, """
[[teams]]
name = "billing"
members = ["lena", "anna"]

[[teams]]
name = "shipping"
members = ["bob", "ivo"]
""")
    lena = bearer(await add_user(ctx, "lena", "lead"))
    ivo = bearer(await add_user(ctx, "ivo", "lead"))
    floor = bearer(await add_user(ctx, "floor", "lead"))      # a lead in no team: the whole floor
    admin = bearer(await add_user(ctx, "root", "admin"))
    for name in ("anna", "bob"):
        await add_user(ctx, name)

    def listed(page: str) -> set[str]:
        return set(re.findall(r"<td>([a-z]+)</td>\s*<td>", page)) & {"lena", "ivo", "floor", "root", "anna", "bob"}

    lena_page = (await app_client.get("/admin/users", headers=lena)).text
    assert listed(lena_page) == {"lena", "anna"}
    assert "The members of your teams: billing." in lena_page
    assert listed((await app_client.get("/admin/users", headers=ivo)).text) == {"ivo", "bob"}
    everyone = {"lena", "ivo", "floor", "root", "anna", "bob"}
    assert listed((await app_client.get("/admin/users", headers=floor)).text) == everyone
    admin_page = (await app_client.get("/admin/users", headers=admin)).text
    assert listed(admin_page) == everyone and "<td>billing</td>" in admin_page and "<td>shipping</td>" in admin_page
