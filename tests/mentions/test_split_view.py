"""The queue's split view over HTTP: the mention beside its list (`m`), and every form in it
returning to that list (view and filters kept), never to another site."""
from __future__ import annotations

import re

import pytest

from tests.support.app import add_user, bearer
from tests.support.push import mention, push

pytestmark = pytest.mark.asyncio


async def test_the_mention_opens_beside_its_list_and_forms_come_back_to_it(app_client, ctx):
    await push(app_client, [mention("s1", 30, channel="mastodon"), mention("s2", 20, channel="rss")])
    anna, bob = bearer(await add_user(ctx, "anna")), bearer(await add_user(ctx, "bob"))
    ids = [i["id"] for i in (await app_client.get("/api/queue", headers=anna)).json()["items"]]
    page = (await app_client.get(f"/?view=open&channel=mastodon&m={ids[0]}", headers=anna)).text
    assert 'class="workspace split"' in page and 'id="composer"' in page and 'id="live"' in page
    assert f'href="/?view=open&amp;channel=mastodon&amp;m={ids[0]}"' in page  # its row's Open link
    assert page.count('name="return_to" value="/?view=open&amp;channel=mastodon"') >= 5
    back = {"return_to": "/?view=open&channel=mastodon"}
    claimed = await app_client.post(f"/mentions/{ids[0]}/claim", headers=anna, data=back, follow_redirects=False)
    assert claimed.headers["location"] == f"/?view=open&channel=mastodon&m={ids[0]}"
    refused = await app_client.post(f"/mentions/{ids[0]}/reply", headers=bob, data={**back, "text": "Hoi"},
                                    follow_redirects=False)
    assert refused.headers["location"] == f"/?view=open&channel=mastodon&m={ids[0]}"
    sent = await app_client.post(f"/mentions/{ids[0]}/reply", headers=anna, data={**back, "text": "Sorry!"},
                                 follow_redirects=False)
    assert sent.headers["location"] == "/?view=open&channel=mastodon"
    assert "Reply recorded." in (await app_client.get(sent.headers["location"], headers=anna)).text
    # Without a list, or with anything that is not this site's queue: the mention page as before.
    for elsewhere in ({}, {"return_to": "https://evil.example/?"}, {"return_to": "//evil.example/"},
                      {"return_to": "/admin?x=1"}):
        r = await app_client.post(f"/mentions/{ids[1]}/note", headers=anna, data={**elsewhere, "text": "n"},
                                  follow_redirects=False)
        assert r.headers["location"] == f"/mentions/{ids[1]}", elsewhere
    missing = await app_client.get("/?m=999999", headers={**anna, "Accept": "text/html"})
    assert missing.status_code == 404 and re.search(r"Not found", missing.text)
