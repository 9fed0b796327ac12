"""A fixture week of mentions with known timings, put in through the real ingest and actions.

Team: Europe/Vienna, open mon-fri 08:00-20:00 and sat-sun 10:00-16:00, Austrian public
holidays (Monday 26 October 2026 is the National Day). Clocks go back on Sunday 25 October
at 03:00 CEST (01:00 UTC). The report period is Thursday 22 to Wednesday 28 October; "now"
is Wednesday 28 October 12:00 CET.

Every expected figure in the tests is worked out by hand in the table below (local times):

 key  posted (local)        channel  author  category  what happens                       first response
 m16  Wed 21 10:00 CEST     mastodon klant5  product   anna 10:05 (before the period)     300
 m17  Wed 21 12:00 CEST     mastodon klant9  billing   left open (before the period)
 m13  Thu 22 08:30 CEST     bluesky  klant8  delivery  backfill (outside the figures)
 m1   Thu 22 09:00 CEST     mastodon klant1  delivery  anna 09:20                         1200
 m2   Thu 22 19:30 CEST     bluesky  klant2  billing   ben Fri 08:40 (30+40 min); follow-up kept   4200
 m3   Fri 23 10:00 CEST     mastodon klant1  delivery  anna 10:45 (repeat of m1)          2700
 m14  Fri 23 12:00 CEST     mastodon acme    -         our own post (outbound)
 m8   Sat 24 00:30 CEST     mastodon klant7  question  anna 10:20 (UTC date is the 23rd)   1200
 m4   Sat 24 09:00 CEST     mastodon klant3  outage    ben 10:30 (opens 10:00), source masto  1800
 m5   Sat 24 15:30 CEST     bluesky  klant4  outage    anna Sun 10:45 (30+45 min); follow-up missed  4500
 m6   Sun 25 02:30 CEST     mastodon klant5  product   ben 10:10 CET (repeat of m16)       600
 m7   Sun 25 02:30 CET      bluesky  klant6  service   dismissed spam by anna 10:05
 m9   Mon 26 09:00 CET      mastodon klant3  outage    ben Tue 08:30 (holiday), source masto, repeat  1800
 m12  Tue 27 09:00 CET      mastodon klant1  delivery  dismissed duplicate by ben 09:10 (repeat of m3)
 m10  Tue 27 14:00 CET      bluesky  klant8  delivery  still open, due 15:00: breached (repeat of backfilled m13)
 m11  Wed 28 11:30 CET      mastodon klant9  billing   claimed by anna, due 12:30 (m17 is 7 d 0.5 h before: no repeat)
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.accounts.principal import Principal
from app.core.context import AppContext
from app.core.models import Mention, User
from app.intake.enrich import Enrichment
from app.intake.store import IngestContext, SourceRef, ingest_batch, store_batch
from app.mentions import actions
from connectors.base import NewMention
from tests.support.app import PUSH_SECRET_ENV

ZONE = ZoneInfo("Europe/Vienna")
WEEK_HOURS = ", ".join([*(f'{day} = "08:00-20:00"' for day in ("mon", "tue", "wed", "thu", "fri")),
                        'sat = "10:00-16:00"', 'sun = "10:00-16:00"'])
REPORT_TOML = f"""
[sla]
target_minutes = 60
warning_minutes = 45
timezone = "Europe/Vienna"
hours = {{ {WEEK_HOURS} }}
holidays = "AT"

[brand]
own_accounts = ["acme"]

[[sources]]
name = "push"
kind = "webhook"
secret_env = "{PUSH_SECRET_ENV}"

[[sources]]
name = "masto"
kind = "mastodon"
base_url = "https://mastodon.example"
hashtags = ["acme"]
"""
SINCE, UNTIL = "2026-10-22", "2026-10-28"


def local(day: int, hh: int, mm: int = 0, *, fold: int = 0) -> datetime:
    """A wall-clock time in October 2026 in Vienna (fold=1: the second 02:30 on the 25th)."""
    return datetime(2026, 10, day, hh, mm, tzinfo=ZONE, fold=fold).astimezone(UTC)


NOW = local(28, 12)


def principal(username: str, role: str = "responder") -> Principal:
    return Principal(user=User(username=username, role=role, password_hash="-", created_at=NOW), via="token")


ANNA, BEN = principal("anna"), principal("ben")

# key, posted, channel, author, category, language, source
POSTS = [
    ("m16", local(21, 10), "mastodon", "klant5", "product", "nl", "push"),
    ("m17", local(21, 12), "mastodon", "klant9", "billing", "nl", "push"),
    ("m13", local(22, 8, 30), "bluesky", "klant8", "delivery", "nl", "push"),
    ("m1", local(22, 9), "mastodon", "klant1", "delivery", "nl", "push"),
    ("m2", local(22, 19, 30), "bluesky", "klant2", "billing", "en", "push"),
    ("m3", local(23, 10), "mastodon", "klant1", "delivery", "nl", "push"),
    ("m14", local(23, 12), "mastodon", "acme", "other", "nl", "push"),
    ("m8", local(24, 0, 30), "mastodon", "klant7", "question", "en", "push"),
    ("m4", local(24, 9), "mastodon", "klant3", "outage", "nl", "masto"),
    ("m5", local(24, 15, 30), "bluesky", "klant4", "outage", "en", "push"),
    ("m6", local(25, 2, 30), "mastodon", "klant5", "product", "nl", "push"),
    ("m7", local(25, 2, 30, fold=1), "bluesky", "klant6", "service", "nl", "push"),
    ("m9", local(26, 9), "mastodon", "klant3", "outage", "nl", "masto"),
    ("m12", local(27, 9), "mastodon", "klant1", "delivery", "nl", "push"),
    ("m10", local(27, 14), "bluesky", "klant8", "delivery", "nl", "push"),
    ("m11", local(28, 11, 30), "mastodon", "klant9", "billing", "nl", "push"),
]


def _tagged_enrich(*, text: str, language_tag: str | None, followers, repeat: bool = False) -> Enrichment:
    # The fixture names its category in the text ("delivery: ..."), so figures do not hang
    # on the classifier's word lists; ingest's repeat-contact verdict passes through as usual.
    return Enrichment(language=language_tag, category=text.split(":", 1)[0],
                      urgency_reasons=("repeat",) if repeat else ())


@dataclass
class Week:
    ids: dict[str, int]


async def build_week(context: AppContext) -> Week:
    ingest = IngestContext(policy=context.policy, own_accounts=frozenset({"acme"}), enrich=_tagged_enrich)
    for key, posted, channel, author, category, language, source_name in POSTS:
        source = SourceRef(name=source_name, kind="mastodon" if source_name == "masto" else "webhook")
        item = NewMention(external_id=key, posted_at=posted, author=author, channel=channel, language=language,
                          text=f"{category}: post {key}")
        fetched = posted + timedelta(minutes=1)
        if key == "m13":  # a new source's first poll found it long after the target: backfill
            async with context.db.write() as session:
                await store_batch(session, source, [item], ingest, now=fetched + timedelta(hours=3),
                                  backfill_before=fetched + timedelta(hours=2))
        else:
            await ingest_batch(context.db, source, [item], ingest, now=fetched)
    async with context.db.read() as session:
        ids = {ext: i for i, ext in (await session.execute(select(Mention.id, Mention.external_id)))}
    policy = context.policy

    async def run(action, *args):
        async with context.db.write() as session:
            return await action(session, *args)

    async def answer(key: str, who: Principal, at: datetime):
        await run(actions.reply, ids[key], who, at, policy, "Dank u, we zoeken het uit.")

    await answer("m16", ANNA, local(21, 10, 5))
    await answer("m1", ANNA, local(22, 9, 20))
    await answer("m2", BEN, local(23, 8, 40))
    kept = await run(actions.promise_follow_up, ids["m2"], BEN, local(23, 8, 41), local(23, 12), "status")
    await run(actions.complete_follow_up, kept.id, BEN, local(23, 11))
    await answer("m3", ANNA, local(23, 10, 45))
    await run(actions.promise_follow_up, ids["m3"], ANNA, local(23, 10, 46), local(29, 10), "pending")
    await answer("m8", ANNA, local(24, 10, 20))
    await answer("m4", BEN, local(24, 10, 30))
    await answer("m5", ANNA, local(25, 10, 45))
    missed = await run(actions.promise_follow_up, ids["m5"], ANNA, local(25, 10, 46), local(25, 14), "bellen")
    await run(actions.complete_follow_up, missed.id, ANNA, local(25, 15))
    await answer("m6", BEN, local(25, 10, 10))
    await run(actions.dismiss, ids["m7"], ANNA, local(25, 10, 5), "spam")
    await answer("m9", BEN, local(27, 8, 30))
    await run(actions.dismiss, ids["m12"], BEN, local(27, 9, 10), "duplicate")
    await run(actions.claim, ids["m11"], ANNA, local(28, 11, 35), 10)
    return Week(ids=ids)
