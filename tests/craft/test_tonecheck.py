"""Tone check: bad replies (our own paraphrases, not the articles' sentences) are flagged by
the right rule, good replies (some using the trigger words harmlessly) pass untouched."""
from collections import Counter

import pytest

from app.craft import RULE_IDS, check_reply

from . import tone_paraphrases

# (language, rule, reply). Each reply apologises, so only the mistake itself should show.
BAD_REPLIES = [
    ("nl", "first_to_complain", "Sorry voor het ongemak, maar eerlijk gezegd bent u de enige die hier last van heeft."),
    ("nl", "first_to_complain", "Excuses, maar over dit product hebben we nog nooit een klacht binnengekregen."),
    ("nl", "first_to_complain", "Vervelend! Andere klanten hebben hier geen enkel probleem mee."),
    ("nl", "first_to_complain", "Sorry, maar niemand anders heeft hierover ooit geklaagd."),
    ("en", "first_to_complain", "Sorry to hear that, but honestly you're the only customer who has mentioned this."),
    ("en", "first_to_complain", "Apologies, though we've never had a single complaint about this model before."),
    ("en", "first_to_complain", "Sorry about that! Nobody else has reported this issue."),
    ("en", "first_to_complain", "Sorry for the trouble, but our other customers seem perfectly happy with it."),
    ("nl", "fine_print", "Sorry voor het ongemak, maar dit staat gewoon in de algemene voorwaarden."),
    ("nl", "fine_print", "Excuses, maar u heeft bij het afsluiten akkoord gegeven met deze kosten."),
    ("nl", "fine_print", "Vervelend, maar lees de kleine lettertjes van uw abonnement er even op na."),
    ("nl", "fine_print", "Sorry! Volgens uw contract is opzeggen pas na een jaar mogelijk."),
    ("en", "fine_print", "Sorry, but this is clearly stated in your terms and conditions."),
    ("en", "fine_print", "Apologies for the confusion, but you agreed to this when you signed up."),
    ("en", "fine_print", "Sorry to hear it. The small print does mention the early exit fee."),
    ("en", "fine_print", "I'm sorry, but per your contract the fee applies."),
    ("nl", "management_decision",
     "Excuses, maar dit is besloten door de directie en daar kan ik niets aan veranderen."),
    ("nl", "management_decision", "Sorry, daar gaan wij als webcare helaas niet over."),
    ("nl", "management_decision", "Vervelend voor u, maar dat is nu eenmaal ons beleid."),
    ("nl", "management_decision", "Sorry, die keuze is van hogerhand gemaakt."),
    ("en", "management_decision", "Sorry, but that's a decision made by senior management."),
    ("en", "management_decision", "I'm sorry, it's out of my hands."),
    ("en", "management_decision", "Apologies, but it's simply company policy."),
    ("en", "management_decision", "Sorry, that's above my pay grade."),
    ("nl", "website_brushoff", "Sorry voor het ongemak. Alle informatie hierover vindt u op onze site."),
    ("nl", "website_brushoff", "Vervelend! Kijk even bij de veelgestelde vragen op onze website."),
    ("nl", "website_brushoff", "Excuses, het antwoord op uw vraag staat in onze FAQ."),
    ("nl", "website_brushoff", "Sorry, onze website legt dit allemaal uit."),
    ("en", "website_brushoff", "Sorry for the trouble. You'll find everything you need on our website."),
    ("en", "website_brushoff", "Apologies! Please check the FAQ section on our site."),
    ("en", "website_brushoff", "Sorry about that, the answer is in our help centre."),
    ("en", "website_brushoff", "Sorry, our website explains how this works."),
    ("nl", "blame_others", "Sorry, maar de koerier heeft uw pakket bij de verkeerde buren gezet."),
    ("nl", "blame_others", "Excuses, de fout ligt echt bij onze leverancier."),
    ("nl", "blame_others", "Vervelend! Onze collega's van de planning hebben er weer een rommeltje van gemaakt."),
    ("nl", "blame_others", "Sorry, DHL is hier de boosdoener, niet wij."),
    ("en", "blame_others", "Sorry, but the courier lost your parcel, not us."),
    ("en", "blame_others", "Apologies, this one is on our supplier, they shipped the wrong batch."),
    ("en", "blame_others", "Sorry! Our warehouse team messed up again."),
    ("en", "blame_others", "Sorry about that, Royal Mail have been terrible lately."),
    ("nl", "vague_promise", "Excuses voor het ongemak, we zoeken het uit en komen er zo snel mogelijk bij u op terug."),
    ("nl", "vague_promise", "Sorry! Ik ga dit intern navragen en laat het u weten zodra ik meer weet."),
    ("nl", "vague_promise", "Vervelend voor u. Wij stellen een onderzoek in naar wat er misging."),
    ("nl", "vague_promise", "Excuses! U hoort zo spoedig mogelijk van ons."),
    ("en", "vague_promise", "Sorry for the hassle, we'll be in touch as soon as we can."),
    ("en", "vague_promise", "Apologies, I'm looking into it and will get back to you."),
    ("en", "vague_promise", "So sorry about this. Someone will contact you soon."),
    ("en", "vague_promise", "Sorry! Our team will investigate and keep you posted."),
    ("nl", "slow_response_time", "Sorry voor het wachten, u krijgt binnen vijf werkdagen antwoord."),
    ("nl", "slow_response_time", "Excuses! We pakken het na het weekend op."),
    ("nl", "slow_response_time", "Vervelend, onze afdeling reageert binnen twee weken."),
    ("nl", "slow_response_time", "Sorry, u hoort eind van de week meer."),
    ("en", "slow_response_time", "Sorry for the delay, our team aims to reply within 10 working days."),
    ("en", "slow_response_time", "Apologies, we'll update you next week."),
    ("en", "slow_response_time", "Sorry about that, expect an answer in the next few days."),
    ("en", "slow_response_time", "Sorry! A specialist will call you within 48 hours."),
    ("nl", "doubt_customer", "Sorry, maar heeft u de handleiding wel goed gelezen?"),
    ("nl", "doubt_customer", "Vervelend, maar u had de bestelling zelf beter moeten controleren."),
    ("nl", "doubt_customer", "Excuses, maar weet u wel zeker dat de stekker erin zat?"),
    ("nl", "doubt_customer", "Sorry, maar het probleem ligt volgens mij aan uw kant."),
    ("en", "doubt_customer", "Sorry, but you should have checked the size chart first."),
    ("en", "doubt_customer", "Apologies, but did you actually read the instructions?"),
    ("en", "doubt_customer", "Sorry to hear that. Are you sure the router was switched on?"),
    ("en", "doubt_customer", "I'm sorry, but honestly the issue is on your end."),
    ("nl", "no_empathy", "Uw pakket wordt morgen om 10 uur bezorgd."),
    ("nl", "no_empathy", "Stuur uw ordernummer via DM, dan kijken we het na."),
    ("nl", "no_empathy", "De monteur komt vrijdag tussen 8 en 12 uur langs."),
    ("en", "no_empathy", "Your parcel will be delivered tomorrow before 10am."),
    ("en", "no_empathy", "Please DM us your account number."),
    ("en", "no_empathy", "The engineer is booked for Friday morning."),
]

GOOD_REPLIES = [
    ("nl", "Ik kan me voorstellen dat u dit vervelend vindt. "
           "Ik kijk het voor u na en laat het u vóór 16:00 weten. ^AB"),
    ("nl", "Wat vervelend, excuses! Ik bel u binnen 10 minuten terug."),
    ("nl", "Sorry voor het ongemak. We komen erop terug: morgen om 10 uur hoort u van mij."),
    ("nl", "Excuses voor het wachten. We gaan een onderzoek instellen en ik laat u binnen 2 uur weten wat eruit komt."),
    ("nl", "Balen dat je pakket nog niet binnen is! Ik zorg dat het morgen vóór 12:00 bij je is."),
    ("nl", "Vervelend dat de voorwaarden onduidelijk waren, excuses. Ik leg het u graag uit: waar twijfelt u over?"),
    ("nl", "Ik begrijp uw frustratie. Ik heb de storing ook op onze website gezet "
           "en laat u om 14.30 weten hoe het ervoor staat."),
    ("nl", "Sorry dat u zo lang moest wachten. Binnen een uur heeft u een nieuwe afspraak van mij."),
    ("nl", "Wat rot voor je! Ik neem het vandaag nog met je op en we houden je op de hoogte, uiterlijk om 17:00."),
    ("en", "I'm so sorry about this. I'll look into it and update you by 4pm. ^JS"),
    ("en", "Apologies for the inconvenience! We'll get back to you within 30 minutes with an update."),
    ("en", "I can imagine how frustrating that is. Our courier partner is on the way; "
           "I'll check the tracking with you at 14:30."),
    ("en", "Sorry you had to wait so long. I've asked an engineer to call you within the hour."),
    ("en", "That's really not good enough, sorry. I'll make sure you get a refund today."),
    ("en", "I understand, and I apologise. We'll keep you posted: next update at 5pm."),
]


@pytest.mark.parametrize(("language", "rule", "reply"), BAD_REPLIES)
def test_bad_reply_is_flagged_by_its_rule(language, rule, reply):
    rules = {f.rule for f in check_reply(reply, language)}
    assert rules == {rule}, reply


def test_every_rule_has_three_paraphrases_per_language():
    for rule in set(RULE_IDS) - {"too_long"}:
        for language in ("nl", "en"):
            count = sum(1 for lang, r, _ in BAD_REPLIES if (lang, r) == (language, rule))
            assert count >= 3, (rule, language)


@pytest.mark.parametrize(("language", "reply"), GOOD_REPLIES)
def test_good_reply_has_no_findings(language, reply):
    assert check_reply(reply, language, char_limit=300) == []


def test_every_rule_has_many_own_paraphrases_per_language():
    """Varied phrasings per mistake are what the rules were widened on (at least 15 each)."""
    counts = Counter((language, rule) for language, rule, _ in tone_paraphrases.BAD)
    for rule in set(RULE_IDS) - {"too_long"}:
        for language in ("nl", "en"):
            assert counts[language, rule] >= 15, (language, rule)


@pytest.mark.parametrize(("language", "rule", "reply"), tone_paraphrases.BAD)
def test_own_paraphrases_are_flagged_by_their_rule(language, rule, reply):
    assert {f.rule for f in check_reply(reply, language)} == {rule}, reply


@pytest.mark.parametrize(("language", "context", "reply"), tone_paraphrases.GOOD)
def test_own_good_paraphrases_have_no_findings(language, context, reply):
    assert check_reply(reply, language, is_complaint=context == "complaint") == []


@pytest.mark.parametrize(("language", "reply"), [
    ("nl", "Wat naar dat je niet kunt inloggen. Ik heb je zojuist een nieuwe resetlink gestuurd."),
    ("nl", "Rot voor je! Ik zet het meteen recht."),
    ("nl", "Balen zeg. Ik stuur je vandaag nog een nieuwe."),
    ("nl", "Hè, wat een gedoe. Ik regel het nu voor je."),
    ("en", "That's rubbish, I've refunded you just now."),
    ("en", "What a pain! A new one is on its way today."),
    ("en", "Ugh, not what you need on a Monday. I've rebooked it for this afternoon."),
])
def test_empathy_is_recognised_in_the_phrasings_people_use(language, reply):
    assert check_reply(reply, language) == []


@pytest.mark.parametrize(("language", "reply"), [
    # a repair, delivery or refund on a later day is the solution, not a wait for an answer
    ("nl", "Wat vervelend! Zullen we morgen een monteur sturen? Ik bevestig het je vóór 15:00."),
    ("nl", "Sorry! Je krijgt de refund uiterlijk morgen, en ik check om 16:00 of hij is verstuurd."),
    ("nl", "Balen, sorry. Het geld staat binnen 3 werkdagen op je rekening."),
    ("nl", "Rot voor je. De nieuwe bank bezorgen we volgende week woensdag; ik bel je morgen om 10:00."),
    ("en", "What a pain, sorry. Your refund will be on your card within 3 working days."),
    ("en", "Sorry, the money is back within 5 working days and I'll message you here at 4pm today."),
    # a wait already behind the customer is acknowledged, not promised
    ("en", "Sorry you've been waiting two weeks for a reply. I've sorted it now, just refunded."),
    ("nl", "Sorry dat je al twee weken op antwoord wacht. Ik heb het nu geregeld."),
])
def test_slow_response_time_is_about_when_the_customer_hears_from_us(language, reply):
    assert check_reply(reply, language) == []


@pytest.mark.parametrize(("language", "reply", "phrase"), [
    ("nl", "Sorry, je krijgt binnen 10 werkdagen antwoord van de klachtenafdeling.", "binnen 10 werkdagen"),
    ("nl", "Sorry! Het geld is terug, en je hoort over drie weken of de claim is goedgekeurd.", "over drie weken"),
    ("en", "Sorry, the team will reply within 5-7 business days.", "5-7 business days"),
    ("en", "Sorry, the refund is done and you'll hear about the claim in two weeks.", "in two weeks"),
])
def test_a_long_wait_for_an_answer_is_slow(language, reply, phrase):
    (finding,) = check_reply(reply, language)
    assert (finding.rule, reply[finding.start:finding.end]) == ("slow_response_time", phrase)


def test_replies_to_praise_and_questions_are_not_held_to_complaint_rules():
    reply = "Dank je wel! Onze bezorgers krijgen vaker zulke berichten, we geven het door."
    assert check_reply(reply, "nl", is_complaint=False) == []
    assert {f.rule for f in check_reply(reply, "nl")} == {"blame_others", "no_empathy"}


@pytest.mark.parametrize(("pointer", "with_our_fix"), [
    ("Balen! Op onze site staat de actuele stand van de storing.",
     "Balen! Op onze site staat de actuele stand van de storing. Ik hou je hier ook op de hoogte."),
    ("Vervelend! In de app staat je nieuwe factuur.",
     "Vervelend! In de app staat je nieuwe factuur. Het verschil is vandaag teruggestort."),
    ("Sorry! Volgens onze voorwaarden vergoeden we geen verzendkosten.",
     "Sorry! Volgens onze voorwaarden vergoeden we geen verzendkosten, maar die heb ik toch teruggestort."),
])
def test_a_page_or_the_terms_named_beside_our_own_fix_inform(pointer, with_our_fix):
    """A page anywhere in the reply (the fix often comes in the next sentence); the terms in
    the same sentence."""
    assert {f.rule for f in check_reply(pointer, "nl")} & {"website_brushoff", "fine_print"}
    assert check_reply(with_our_fix, "nl") == []


def test_terms_used_to_refuse_stay_a_brush_off_beside_a_goodwill_step_elsewhere():
    reply = "Sorry, volgens de voorwaarden vergoeden we geen gevolgschade. Ik heb wel een tegoedbon klaargezet."
    assert {f.rule for f in check_reply(reply, "nl")} == {"fine_print"}


@pytest.mark.parametrize(("language", "answer", "rule"), [
    ("nl", "Dat kun je zelf aanpassen in de app, onder Instellingen > Abonnement.", "website_brushoff"),
    ("nl", "Dat staat in je contract: je abonnement loopt tot 1 maart.", "fine_print"),
    ("nl", "Ja, er komt glasvezel in jouw gemeente; we laten het je weten zodra je kunt aansluiten.", "vague_promise"),
    ("en", "You'll find the full list of pick-up points on our website.", "website_brushoff"),
    ("en", "We'll let you know as soon as the new plan is available.", "vague_promise"),
])
def test_an_answer_to_a_plain_question_may_point_at_the_page_or_the_terms(language, answer, rule):
    """The same words are a brush-off in answer to a complaint."""
    assert check_reply(answer, language, is_complaint=False) == []
    assert rule in {f.rule for f in check_reply(answer, language)}


@pytest.mark.parametrize(("language", "helpful", "brushoff", "rule"), [
    ("nl", "Sorry! Volgens onze voorwaarden mag u het gratis retourneren, dus ik heb het label al gestuurd.",
     "Sorry, volgens onze voorwaarden is retourneren na 14 dagen niet mogelijk.", "fine_print"),
    ("en", "Sorry! Our terms allow a free return, so I've started it for you.",
     "Sorry, our terms state that returns after 14 days are not possible.", "fine_print"),
    ("nl", "Balen! Op onze site staat een storingskaart die we elk kwartier bijwerken.",
     "Balen! Op onze site staat alle informatie over storingen.", "website_brushoff"),
    ("en", "Sorry! Our status page shows the outage, and I'll keep you posted here too by 3pm.",
     "Sorry! Our help pages explain what to do during an outage.", "website_brushoff"),
])
def test_a_clause_that_helps_clears_the_mistake(language, helpful, brushoff, rule):
    assert check_reply(helpful, language) == []
    assert {f.rule for f in check_reply(brushoff, language)} == {rule}


@pytest.mark.parametrize(("language", "reply", "rule", "phrase"), [
    ("nl", "Sorry, maar u bent de eerste die dit meldt.", "first_to_complain", "u bent de eerste"),
    ("nl", "Excuses, we reageren binnen 7 werkdagen op uw mail.", "slow_response_time", "binnen 7 werkdagen"),
    ("nl", "Sorry hoor, de kleine lettertjes zijn duidelijk.", "fine_print", "kleine lettertjes"),
    ("nl", "Helaas 😞 — dat is een managementbeslissing, sorry.", "management_decision", "managementbeslissing"),
    ("en", "Sorry 🙏 we'll look into it.", "vague_promise", "we'll look into it"),
    ("en", "Apologies, but you should have read the manual.", "doubt_customer", "you should have"),
])
def test_offsets_are_code_point_indices_of_the_phrase(language, reply, rule, phrase):
    (finding,) = [f for f in check_reply(reply, language) if f.rule == rule]
    assert reply[finding.start:finding.end] == phrase


def test_accented_text_keeps_offsets():
    reply = "Sorry! Wij komen erop terug, échte excuses."
    (finding,) = check_reply(reply, "nl")
    assert finding.rule == "vague_promise"
    assert reply[finding.start:finding.end] == "Wij komen erop terug"


def test_no_empathy_spans_the_first_sentence():
    reply = "Uw pakket komt morgen. Fijne dag nog!"
    (finding,) = check_reply(reply, "nl")
    assert (finding.rule, reply[finding.start:finding.end]) == ("no_empathy", "Uw pakket komt morgen.")


@pytest.mark.parametrize("reply", ["", "   ", "!!!", "👍"])
def test_odd_replies_do_not_break_the_check(reply):
    assert {f.rule for f in check_reply(reply, "nl", char_limit=1)} <= {"no_empathy", "too_long"}


def test_no_empathy_only_for_complaints():
    assert check_reply("Dank je wel, we geven het door aan het team!", "nl", is_complaint=False) == []


def test_too_long_counts_graphemes_and_spans_the_rest():
    reply = "Sorry 👩🏽‍💻 ok"   # 10 graphemes, 13 code points: the emoji is 4 code points
    assert len(reply) == 13
    assert check_reply(reply, "en", char_limit=10) == []
    (finding,) = check_reply(reply, "en", char_limit=7)
    assert finding.rule == "too_long"
    assert reply[finding.start:finding.end] == " ok"


def test_findings_carry_explanation_and_better_phrasing_in_the_reply_language():
    (nl,) = check_reply("Sorry, dat is ons beleid.", "nl")
    (en,) = check_reply("Sorry, that is our policy.", "en")
    assert nl.message and nl.suggestion and en.message and en.suggestion
    assert nl.message != en.message
    assert "excuses" in check_reply("Uw pakket komt morgen.", "nl")[0].suggestion.lower()


def test_unknown_language_is_checked_as_english():
    assert [f.rule for f in check_reply("Sorry, we'll look into it.", "pt")] == ["vague_promise"]


def test_findings_are_ordered_and_rule_ids_stable():
    reply = "U bent de eerste die klaagt. We komen erop terug."
    findings = check_reply(reply, "nl")
    assert [f.rule for f in findings] == ["first_to_complain", "no_empathy", "vague_promise"]
    assert set(RULE_IDS) == {"first_to_complain", "fine_print", "management_decision",
                             "website_brushoff", "blame_others", "vague_promise",
                             "slow_response_time", "doubt_customer", "no_empathy", "too_long"}
