"""The pure parts of responding: language, category and urgency of a post, opener
suggestions, and the tone check of a reply. No database, web or configuration access:
everything a function needs is passed in; shipped data lives in app/craft/data/."""
from app.craft.classify import CATEGORIES, COMPLAINT_CATEGORIES, Classification, classify
from app.craft.language import detect_language
from app.craft.moments import suggest_follow_up_times
from app.craft.openers import TONES, Opener, openers_for, validate_opener
from app.craft.tonecheck import RULE_IDS, Finding, check_reply

__all__ = [
    "CATEGORIES", "COMPLAINT_CATEGORIES", "RULE_IDS", "TONES",
    "Classification", "Finding", "Opener",
    "check_reply", "classify", "detect_language", "openers_for", "suggest_follow_up_times",
    "validate_opener",
]
