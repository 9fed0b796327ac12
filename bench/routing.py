"""What routing costs at ingest: the same batches stored without teams, with ten keyword rules
and a default team, and with round-robin assignment for a tenth of the posts (a team of five
available members), measured in the same run. The ratios (routed / unrouted) are what matter.

    .venv/bin/python bench/routing.py [--rows 20000] [--batch 500]
"""
from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from app.accounts import users
from app.core.config import Config
from app.core.db import Database
from app.core.migrate import upgrade
from app.intake.store import IngestContext, SourceRef, ingest_batch
from app.sla import SlaPolicy
from bench.ingest import START, make_batches

MEMBERS = [f"agent{i}" for i in range(5)]
WORDS = ["factuur", "storing", "retour", "abonnement", "wachtwoord", "levering", "korting", "app", "winkel", "monteur"]


def config(assign: bool) -> Config:
    rules = [{"team": "t0", "keywords": ["pakket 1"], "assign": "round_robin"}] if assign else []
    rules += [{"team": f"t{i % 3}", "keywords": [word]} for i, word in enumerate(WORDS)]
    return Config.model_validate({"teams": [{"name": "t0", "members": MEMBERS}, {"name": "t1"},
                                            {"name": "t2", "default": True}],
                                  "routing": rules, "replies": {"away_after_idle_minutes": 10_000}})


async def run(path: Path, batches, cfg: Config | None) -> float:
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    async with db.write() as session:
        for name in MEMBERS:
            user = await users.create_user(session, name, "correct-horse-battery", "responder")
            user.last_active_at = START   # available from the start of the run
    ctx = IngestContext(policy=SlaPolicy(), config=cfg)
    source = SourceRef(name="bench", kind="mastodon")
    started = time.perf_counter()
    for n, batch in enumerate(batches):
        await ingest_batch(db, source, batch, ctx, cursor={"n": n}, now=START + timedelta(seconds=n))
    elapsed = time.perf_counter() - started
    await db.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    batches = make_batches(args.rows, args.batch)
    with tempfile.TemporaryDirectory() as tmp:
        plain = asyncio.run(run(Path(tmp) / "none.db", batches, None))
        rules = asyncio.run(run(Path(tmp) / "rules.db", batches, config(assign=False)))
        assigned = asyncio.run(run(Path(tmp) / "assign.db", batches, config(assign=True)))
    print(f"rows={args.rows} batch={args.batch}")
    for label, seconds in (("no routing", plain), ("10 rules + default team", rules),
                           ("+ round-robin for ~11% of posts", assigned)):
        print(f"{label:32}: {args.rows / seconds:8.0f} mentions/s ({seconds:.2f} s), ratio {plain / seconds:.2f}")


if __name__ == "__main__":
    main()
