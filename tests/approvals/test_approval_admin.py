"""Who needs approval: `webcare user set-approval` and the toggle on the users page, each with
its audit line, and what the flag does to the next reply."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from app.core.models import AuditEntry, User
from tests.support.app import add_user, bearer
from tests.support.push import mention, push

WEBCARE = str(Path(sys.executable).parent / "webcare")


def webcare(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBCARE_")}
    env.update(WEBCARE_DATA_DIR=str(tmp_path), WEBCARE_SECRET_KEY="s" * 40)
    return subprocess.run([WEBCARE, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60,
                          cwd=tmp_path)


def test_the_command_turns_approval_on_and_off_with_an_audit_line(tmp_path):
    assert webcare(tmp_path, "migrate").returncode == 0
    webcare(tmp_path, "user", "add", "tess", "--role", "responder", "--password-stdin", stdin="a-long-password\n")
    on = webcare(tmp_path, "user", "set-approval", "tess", "on")
    assert on.returncode == 0 and "wait for a lead's approval" in on.stdout, on.stderr

    def flag() -> int:
        with sqlite3.connect(tmp_path / "webcare.db") as conn:
            return conn.execute("SELECT replies_need_approval FROM users WHERE username = 'tess'").fetchone()[0]

    assert flag() == 1
    assert webcare(tmp_path, "user", "set-approval", "tess", "off").returncode == 0 and flag() == 0
    with sqlite3.connect(tmp_path / "webcare.db") as conn:
        audit = conn.execute("SELECT action, detail FROM audit_log ORDER BY id").fetchall()
    assert [a for a, _ in audit] == ["user.set_approval", "user.set_approval"] and '"needed": true' in audit[0][1]
    unknown = webcare(tmp_path, "user", "set-approval", "nobody", "on")
    assert unknown.returncode == 1 and "Traceback" not in unknown.stderr
    assert webcare(tmp_path, "user", "set-approval", "tess", "maybe").returncode == 2


@pytest.mark.asyncio
async def test_an_admin_toggles_the_flag_on_the_users_page_and_the_next_reply_waits(app_client, ctx):
    admin_token = bearer(await add_user(ctx, "ada", "admin"))
    trainee = bearer(await add_user(ctx, "tess"))
    async with ctx.db.read() as s:
        tess = (await s.exec(select(User).where(User.username == "tess"))).one()
    page = await app_client.get("/admin/users", headers=admin_token)
    assert f'action="/admin/users/{tess.id}/approval"' in page.text and 'value="on"' in page.text

    r = await app_client.post(f"/admin/users/{tess.id}/approval", headers=admin_token, data={"needed": "on"},
                              follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin/users?done=approval-on"
    shown = await app_client.get(r.headers["location"], headers=admin_token)
    assert "Their replies now wait for a lead&#39;s approval." in shown.text and "Turn off" in shown.text

    await push(app_client, [mention("p1", 5)])
    reply = await app_client.post("/api/mentions/1/reply", headers=trainee, json={"text": "Sorry, we kijken ernaar."})
    assert reply.status_code == 202 and reply.json()["status"] == "awaiting_approval"
    queue = await app_client.get("/", headers=admin_token)  # the queue tags it for everyone
    assert '<span class="tag approval">Awaits approval</span>' in queue.text
    mine = await app_client.get("/partials/queue?view=mine", headers=trainee)  # the author's own list, live
    assert 'id="my-approval-1"' in mine.text and "Sorry, we kijken ernaar." in mine.text

    r = await app_client.post(f"/admin/users/{tess.id}/approval", headers=admin_token, data={"needed": "off"},
                              follow_redirects=False)
    assert r.headers["location"] == "/admin/users?done=approval-off"
    async with ctx.db.read() as s:
        lines = (await s.exec(select(AuditEntry).where(AuditEntry.action == "user.set_approval"))).all()
    assert [(a.actor, a.detail) for a in lines] == [("ada", {"user": "tess", "needed": True}),
                                                     ("ada", {"user": "tess", "needed": False})]
