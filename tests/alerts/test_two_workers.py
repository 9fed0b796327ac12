"""Two `webcare worker` processes on PostgreSQL with one Slack hook: every breached mention is
announced once, and the hook's rate limit (about one message a second) holds for both workers
together, not for each alone (before, two workers sent one hook two messages 0.05 s apart)."""
from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

import pytest

from app.core.config import Settings
from app.core.context import AppContext
from app.core.db import Database
from app.intake.store import ingest_batch
from connectors.base import NewMention
from tests.support.alerting import _alert_keys, sink_toml, url_env
from tests.support.app import POSTGRES_ONLY, PUSH_SECRET, PUSH_SECRET_ENV, make_config, write_config
from tests.support.chat.receiver import Receiver
from tests.support.processes import process_env, start, stop, wait_for

pytestmark = [pytest.mark.asyncio, pytest.mark.slow, POSTGRES_ONLY]
MENTIONS = 12          # enough that both workers' dispatchers take part
MIN_GAP_SECONDS = 0.6   # Slack's 1 message/s, less the jitter of two sends on a loaded machine


@pytest.mark.timeout(600)
async def test_two_workers_one_alert_per_mention_and_the_hook_rate_limit_shared(db_url, tmp_path):
    async with Receiver().serving() as receiver:
        toml = (f'[[sources]]\nname = "push"\nkind = "webhook"\nsecret_env = "{PUSH_SECRET_ENV}"\n\n'
                + sink_toml("chat", "slack", events=["breached"]))
        write_config(tmp_path, toml)
        ctx = AppContext(settings=Settings(data_dir=tmp_path), config=make_config(tmp_path, toml),
                         db=Database(db_url), secret_key="k" * 40)
        # Breached 1–23 minutes ago, two minutes apart: each its own burst, so its own message.
        now, source = ctx.now(), ctx.source("push")
        batch = [NewMention(external_id=f"late-{i}", posted_at=now - timedelta(minutes=61 + 2 * i),
                            author=f"klant{i}", text="Mijn pakket is nog steeds niet bezorgd") for i in range(MENTIONS)]
        ids = (await ingest_batch(ctx.db, ctx.source_ref(source), batch, ctx.ingest_context(source), now=now)).ids
        await ctx.db.dispose()
        env = process_env(db_url, tmp_path, **{PUSH_SECRET_ENV: PUSH_SECRET, url_env("chat"): receiver.url("slack")})
        workers = [start(env, "worker", "--no-migrate") for _ in range(2)]
        try:
            async def all_sent() -> bool:
                return len(receiver.received) >= MENTIONS
            await wait_for(all_sent, timeout=180, what=f"{MENTIONS} messages")
            await asyncio.sleep(6)   # one more pass of both dispatchers: nothing more arrives
        finally:
            logs = [stop(w) for w in workers]
    messages = receiver.for_hook("hook")
    keys = [key for message in messages for key in _alert_keys(message)]
    assert sorted(keys) == sorted(f"breached:{i}" for i in ids), keys   # each once, none twice
    assert all(m.problems == [] for m in messages)
    gaps = [b.at - a.at for a, b in itertools.pairwise(messages)]
    senders = [log.count("alert sink chat: 1 alert(s), delivered") for log in logs]
    print(f"{len(messages)} messages, gaps {', '.join(f'{g:.2f}' for g in gaps)} s; sent per worker {senders}")
    assert sum(senders) == MENTIONS
    assert min(gaps) >= MIN_GAP_SECONDS, gaps
    assert sum(gaps) / len(gaps) >= 0.95, gaps   # on average no faster than the hook allows
    assert all(senders), senders                 # both workers sent: the limit held across them
    assert all("Traceback" not in log for log in logs), logs
