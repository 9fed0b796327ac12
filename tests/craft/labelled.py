"""Loading the labelled post sets under tests/craft/data/, and what they are measured by."""
import json
import re
from pathlib import Path

from app.craft.classify import _lexicon
from app.craft.text import fold

DATA = Path(__file__).parent / "data"


def load_posts(name: str) -> list[dict]:
    with open(DATA / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def has_listed_term_verbatim(text: str, language: str) -> bool:
    """Whether a post contains any listed term (wildcards removed) as a whole word: a term of
    any category, praise or complaint cue, of any weight."""
    lex = _lexicon(language)
    folded = fold(text).lower()
    for term_list in (*lex.categories.values(), lex.praise, lex.negative):
        for term, _ in term_list.terms:
            core = term.text.replace("*", "")
            if "..." in core or term.pattern is not None:
                continue
            if any(ch.isalnum() for ch in core):
                if re.search(rf"(?<!\w){re.escape(core)}(?!\w)", folded):
                    return True
            elif core in folded:
                return True
    return False
