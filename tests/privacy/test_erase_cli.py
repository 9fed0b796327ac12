"""`webcare erase` as an operator runs it, beside a running `webcare serve` whose data came in
through the real push API: afterwards neither the SQLite file nor its WAL holds the person's
handle or a phrase from their posts, the SLA report is byte-identical, and the exports that
held them before no longer do."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.support.app import DEFAULT_TOML, PUSH_SECRET, PUSH_SECRET_ENV, bearer, free_port
from tests.support.push import mention, signed_headers

pytestmark = pytest.mark.slow
WEBCARE = str(Path(sys.executable).parent / "webcare")
HANDLE = "zoe_privacy_77"
NAME = "Zoe Privacytest"
PHRASE = "paarse-olifant-7781"


def webcare(env: dict, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([WEBCARE, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120)


def stored_bytes(data_dir: Path) -> bytes:
    """The database file and its WAL, as they lie on disk."""
    return b"".join(p.read_bytes() for p in (data_dir / "webcare.db", data_dir / "webcare.db-wal") if p.exists())


def push(client: httpx.Client, items: list[dict]) -> dict:
    body = json.dumps({"mentions": items}).encode()
    r = client.post("/api/ingest/push", content=body, headers=signed_headers(body))
    assert r.status_code == 202, r.text
    return r.json()


def theirs(n: int, minutes_ago: float) -> dict:
    return mention(f"https://social.example/users/{HANDLE}/statuses/{n}", minutes_ago, author=HANDLE,
                   author_name=NAME, url=f"https://social.example/@{HANDLE}/{n}", channel="mastodon",
                   text=f"Mijn pakket is weg, {PHRASE} nummer {n}")


def test_erase_leaves_no_trace_in_the_sqlite_file_or_wal_and_the_report_stays_byte_identical(tmp_path):
    (tmp_path / "webcare.toml").write_text(DEFAULT_TOML)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBCARE_")}
    env.update(WEBCARE_DATA_DIR=str(tmp_path), WEBCARE_CONFIG=str(tmp_path / "webcare.toml"),
               WEBCARE_SECRET_KEY="s" * 40, PYTHONUNBUFFERED="1", **{PUSH_SECRET_ENV: PUSH_SECRET})
    assert webcare(env, "migrate").returncode == 0
    for name, role in (("ada", "admin"), ("rob", "responder")):
        assert webcare(env, "user", "add", name, "--role", role, "--password-stdin",
                       stdin="correct-horse-battery\n").returncode == 0
    admin, rob = (bearer(webcare(env, "token", "create", name).stdout.strip()) for name in ("ada", "rob"))
    port = free_port()
    server = subprocess.Popen([WEBCARE, "serve", "--port", str(port), "--no-migrate"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for _ in range(200):
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            other_customer = mention("other-1", 15, author="bob_other", text="Factuur klopt niet")
            assert push(client, [theirs(1, 20), theirs(2, 12), other_customer])["accepted"] == 3
            queue = client.get("/api/queue", headers=rob).json()["items"]
            first = next(i["id"] for i in queue if i["external_id"].endswith("/statuses/1"))
            other = next(i["id"] for i in queue if i["author"] == "bob_other")
            assert client.post(f"/api/mentions/{first}/claim", headers=rob).is_success
            assert client.post(f"/api/mentions/{first}/note", headers=rob,
                               json={"text": f"Belt ook over {PHRASE}"}).is_success
            due = (datetime.now(ZoneInfo("Europe/Amsterdam")) + timedelta(hours=3)).isoformat()
            assert client.post(f"/api/mentions/{first}/follow-up", headers=rob,
                               json={"due_at": due, "note": f"terugbellen {PHRASE}"}).is_success
            assert client.post(f"/api/mentions/{first}/reply", headers=rob,
                               json={"text": f"Hoi @{HANDLE}, wat vervelend! We zoeken het uit.",
                                     "post": False}).is_success
            assert client.post(f"/api/mentions/{other}/dismiss", headers=rob, json={"reason": "spam"}).is_success
            today = datetime.now(ZoneInfo("Europe/Amsterdam")).date()
            period = {"since": (today - timedelta(days=1)).isoformat(), "until": today.isoformat()}
            reports = [{**period, "group_by": g} for g in ("", "channel", "responder", "day", "category")]
            before = [client.get("/api/reports/sla", params=p, headers=admin).content for p in reports]
            csv_before = client.get("/api/reports/mentions.csv", params=period, headers=admin).text
            assert HANDLE in csv_before and PHRASE.encode() in stored_bytes(tmp_path)

            exported = webcare(env, "export", "--author", f"@{HANDLE}")
            assert exported.returncode == 0, exported.stderr
            document = json.loads(exported.stdout)
            assert len(document["mentions"]) == 2 and HANDLE in exported.stdout and PHRASE in exported.stdout
            assert NAME in exported.stdout

            asked = webcare(env, "erase", "--author", HANDLE, stdin="n\n")
            assert asked.returncode == 1 and "2 mentions" in asked.stdout and "nothing erased" in asked.stdout
            assert PHRASE.encode() in stored_bytes(tmp_path)
            erased = webcare(env, "erase", "--author", HANDLE, "--yes")
            assert erased.returncode == 0, erased.stderr
            assert "erased" in erased.stdout and "2 mentions, 1 replies, 1 notes, 1 follow-ups" in erased.stdout

            on_disk = stored_bytes(tmp_path)
            for needle in (HANDLE, PHRASE, NAME):
                assert needle.encode() not in on_disk, needle
            assert [client.get("/api/reports/sla", params=p, headers=admin).content for p in reports] == before
            csv_after = client.get("/api/reports/mentions.csv", params=period, headers=admin).text
            assert HANDLE not in csv_after and PHRASE not in csv_after and "bob_other" in csv_after
            assert csv_after.count("\n") == csv_before.count("\n")
            again = json.loads(webcare(env, "export", "--author", HANDLE).stdout)
            assert again["mentions"] == [] and again["our_posts"] == []
            # The post is still public; fetched or pushed again, it does not come back.
            assert push(client, [theirs(1, 20)]) == {"accepted": 0, "duplicates": 1}
            assert HANDLE not in client.get("/api/queue", headers=rob).text
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0].decode(errors="replace")
    assert "Traceback" not in output, output
    for needle in (HANDLE, PHRASE):  # nor after the server's last checkpoint on shutdown
        assert needle.encode() not in stored_bytes(tmp_path), needle
