"""Spikes of a term (a word in the mention text) on a controlled clock: across categories,
folded with the words that jump along, configurable thresholds, bounded reads, and the team
answering a term spike with one statement."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.alerts.spikes import check as spikes
from app.alerts.spikes.check import check_spikes, window_start
from app.core.models import Mention
from tests.support.alerting import minutes, sink_toml
from tests.support.app import add_user, bearer

pytestmark = pytest.mark.asyncio
USUAL = "Hoe werkt mijn abonnement precies?"


async def history(a, per_week: int = 4, text: str = USUAL) -> None:
    """Ordinary weeks: the same quarter-hour has questions about products and bills."""
    for week in range(1, 5):
        at = a.clock() - timedelta(weeks=week) - minutes(5)
        for i in range(per_week):
            await a.ingest(f"w{week}-{i}", posted_at=at, text=text, category="product" if i % 2 else "billing",
                           author=f"old{i}")


async def posts(a, tag: str, texts: list[tuple[str, str]]) -> list[int]:
    """(category, text) mentions posted in the last minutes, newest first."""
    ids = []
    for i, (category, text) in enumerate(texts):
        ids += await a.ingest(f"{tag}{i}", posted_at=a.clock() - minutes(1 + i / 10), text=text,
                              category=category, author=f"{tag}{i}")
    return ids


STORING = [("product", "De app geeft een storing bij inloggen"),
           ("billing", "Storing bij het betalen, #storing")] * 6


async def test_a_word_spiking_across_categories_is_one_alert_linking_the_filtered_queue(alerting, app_client):
    a = alerting(sink_toml("chat", "slack", events=["spike"]))
    await history(a)
    await posts(a, "s", STORING)

    [alert] = await check_spikes(a.ctx)      # product 6 and billing 6 are their usual level
    assert await check_spikes(a.ctx) == []   # one alert per term per window
    await a.tick(minutes=1, seconds=1)

    assert alert.dedupe_key == f"spike:term:storing:{window_start(a.clock()):%Y%m%dT%H%MZ}"
    assert (alert.extra["count"], alert.extra["expected"], alert.extra["topic"]) == (12, 0, "term")
    # Words that jumped with it are the same incident: named in this alert, not alerts of their own.
    assert {"inloggen", "betalen", "app", "geeft"} <= set(alert.extra["related"])
    assert len(alert.extra["examples"]) == 3
    [message] = a.got("chat")
    body = message.body.decode()
    assert message.problems == [] and "Spike: 12 mentions with “storing”" in body
    assert "https://webcare.example.org/?q=storing" in body and "Frequent words: " in body

    lead = bearer(await add_user(a.ctx, "lisa", "lead"))
    queue = (await app_client.get("/api/queue?q=storing&limit=100", headers=lead)).json()
    assert queue["total"] == 12


async def test_unrelated_words_spiking_at_once_are_separate_alerts(alerting):
    a = alerting(sink_toml("chat", "slack", events=["spike"]))
    await history(a, per_week=20)
    await posts(a, "s", [("product", "Storing in Utrecht"), ("billing", "Storing in Utrecht")] * 5)
    await posts(a, "p", [("product", "Pinautomaat slikt pinpas"), ("billing", "Pinautomaat slikt pinpas")] * 5)

    raised = await check_spikes(a.ctx)

    assert sorted(x.extra["subject"] for x in raised) == ["term:pinautomaat", "term:storing"]
    related = {x.extra["name"]: set(x.extra["related"]) for x in raised}
    assert related == {"storing": {"utrecht"}, "pinautomaat": {"slikt", "pinpas"}}


async def test_a_spiking_category_takes_in_its_words(alerting):
    a = alerting(sink_toml("chat", "slack", events=["spike"]))
    await history(a)
    await posts(a, "s", [("outage", "Storing in Utrecht")] * 10)

    [alert] = await check_spikes(a.ctx)

    assert alert.extra["subject"] == "outage" and set(alert.extra["related"]) == {"storing", "utrecht"}
    assert "Frequent words: storing, utrecht." in alert.summary      # equally unusual: by name


async def test_a_term_alone_spikes_when_its_category_does_not(alerting):
    a = alerting(sink_toml("bills", "slack", events=["spike"], categories=["billing"]),
                 sink_toml("products", "slack", events=["spike"], categories=["product"]))
    await history(a, per_week=10)                # 10 a week, half of them billing
    await posts(a, "b", [("billing", "Dubbel afgeschreven deze maand")] * 6 + [("product", "Afgeschreven?")])

    raised = await check_spikes(a.ctx)

    assert [x.extra["subject"] for x in raised] == ["term:afgeschreven"]
    assert raised[0].extra["category"] == "billing"          # a term's most common category
    assert {"dubbel", "maand"} <= set(raised[0].extra["related"])
    # Per-sink category filters apply to it by that category.
    assert [r.dedupe_key for r in await a.rows("bills")] == [raised[0].dedupe_key]
    assert await a.rows("products") == []


async def test_every_sink_takes_a_term_spike_from_hostile_posts(alerting):
    kinds = ("slack", "teams", "mattermost", "discord", "googlechat", "webhook")
    a = alerting(*(sink_toml(kind, kind, events=["spike"]) for kind in kinds))
    junk = "<!channel> @everyone [klik hier](http://evil.example) <at>Bob</at>"
    await history(a, per_week=8, text=junk)      # the trolls are always there; the storing is new
    await posts(a, "h", [("product", f"{junk} storing #storing"), ("billing", f"{junk} #Storing")] * 6)

    [alert] = await check_spikes(a.ctx)
    await a.tick(minutes=1, seconds=1)

    assert alert.extra["subject"] == "term:storing"
    for kind in kinds:
        [message] = a.got(kind)
        assert message.problems == [] and a.keys(kind) == [[alert.dedupe_key]], kind
        if kind != "webhook":      # chat tools: our link, and nobody pinged
            body = message.body.decode()
            assert "https://webcare.example.org/?q=storing" in body, kind
            assert "@everyone" not in body and "@channel" not in body and "<!channel>" not in body, kind


async def test_brand_queries_and_configured_words_never_spike(alerting):
    a = alerting(sink_toml("chat", "slack", events=["spike"]),
                 extra_toml='[brand]\nname = "Acme"\n\n[spikes]\nignore_terms = ["Superfoon"]\n\n'
                            '[[sources]]\nname = "feed"\nkind = "rss"\nurl = "https://example.org/feed"\n\n'
                            '[[sources]]\nname = "masto"\nkind = "mastodon"\nhashtags = ["acmebank"]\n\n')
    await history(a, per_week=8)
    await posts(a, "s", [("product" if i % 2 else "billing", f"@acme Acme #acmebank Superfoon {word}") for i, word in
                         enumerate(("scherm", "batterij", "camera", "knop", "lader", "hoesje", "speaker", "simkaart",
                          "update", "oplader", "kabel", "toetsen"))])

    assert await check_spikes(a.ctx) == []    # 12 mentions, but every shared word is ignored


async def test_thresholds_come_from_the_config(alerting):
    a = alerting(sink_toml("chat", "slack", events=["spike"]),
                 extra_toml="[spikes]\nmin_count = 3\nnew_topic_count = 4\nterms = false\n\n")
    await posts(a, "s", [("outage", "Storing in Utrecht")] * 4)

    [alert] = await check_spikes(a.ctx)      # with the defaults, 4 new mentions are no spike
    assert alert.extra["subject"] == "outage" and alert.extra["related"] == []


async def test_term_counts_come_from_a_bounded_sample_scaled_to_the_window(alerting, monkeypatch):
    monkeypatch.setattr(spikes, "TEXT_SAMPLE", 8)
    a = alerting(sink_toml("chat", "slack", events=["spike"]))
    await history(a)
    await posts(a, "s", [("outage", "Storing in Utrecht"), ("product", "Storing bij de app")] * 10)

    raised = {x.extra["subject"]: x for x in await check_spikes(a.ctx)}

    assert raised["outage"].extra["count"] == 10             # categories are counted exactly
    assert "term:storing" in raised and raised["term:storing"].extra["count"] == 20   # 8 read, scaled by 20/8


async def test_a_term_spike_is_answered_with_one_statement_covering_whole_words_only(alerting, app_client):
    a = alerting(sink_toml("chat", "slack"))
    await history(a)
    ids = await posts(a, "s", STORING)
    [other] = await a.ingest("v", text="Verstoring van de nachtrust door jullie bezorger", category="delivery")
    await check_spikes(a.ctx)
    admin = bearer(await add_user(a.ctx, "root", "admin"))

    page = await app_client.get("/alerts", headers=admin)
    assert 'name="term" value="storing"' in page.text and 'href="/?q=storing"' in page.text
    r = await app_client.post("/alerts/spikes/statement", headers=admin,
                              data={"term": "storing", "text": "We werken aan een storing.", "post": "1"})

    assert r.headers["location"] == "/alerts?answered=0&covered=12&errors=0"
    async with a.ctx.db.read() as session:
        reasons = dict((await session.exec(select(Mention.id, Mention.dismiss_reason))).all())
    assert {reasons[i] for i in ids} == {"covered"} and reasons[other] is None


@pytest.mark.parametrize("body", [{}, {"category": "outage", "term": "storing"}, {"term": "storing internet"}])
async def test_a_statement_names_exactly_one_category_or_one_word(alerting, app_client, body):
    a = alerting(sink_toml("chat", "slack"))
    lead = bearer(await add_user(a.ctx, "lisa", "lead"))
    r = await app_client.post("/api/spikes/statement", headers=lead, json={**body, "text": "Excuses."})
    assert r.status_code == 422
