"""Build the "unseen" labelled sets from a pool of blind-written posts (run once, before any
tuning on them; kept to show how the committed files were made — the same pool gives the same
files).

    python -m tests.craft.build_unseen_sets POOL.jsonl [POOL.jsonl …]

The pool was written by people who never saw the term lists. Every post is kept, unedited, in
one of two files. Each row records `listed_term_at_commit`: whether it contained any listed
term verbatim (tests/craft/labelled.py: any category, praise or complaint cue, any weight)
against the term lists as they were when the files were built. Later tuning adds terms, so only
this flag measures the issue's "at least 30% containing no listed term verbatim".

The lists are broad, so few natural posts contain no term at all (7% of the pool). The tuned
set takes three in four of those, and posts with a term drawn round-robin over (language,
category) until the share without one is 30%; everything else goes to the held-out file, which
is never read while tuning and gives the honest figure for unseen posts.
"""
import json
import math
import random
import sys
from collections import defaultdict
from itertools import zip_longest

from app.craft import CATEGORIES

from .labelled import DATA, has_listed_term_verbatim

SEED = 20261129
SHARE_WITHOUT_TERM = 0.30


def read_pool(paths: list[str]) -> list[dict]:
    seen, posts = set(), []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                post = json.loads(line)
                if set(post) != {"text", "language", "category"}:
                    raise SystemExit(f"{path}:{number}: keys must be text, language, category")
                if post["category"] not in CATEGORIES or post["language"] not in ("nl", "en"):
                    raise SystemExit(f"{path}:{number}: unknown category or language")
                if post["text"] not in seen:
                    seen.add(post["text"])
                    posts.append({**post, "listed_term_at_commit":
                                  has_listed_term_verbatim(post["text"], post["language"])})
    return posts


def round_robin(posts: list[dict], rng: random.Random) -> list[dict]:
    """The posts shuffled within each (language, category), then taken one per group in turn."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for post in posts:
        groups[(post["language"], post["category"])].append(post)
    for key in sorted(groups):
        rng.shuffle(groups[key])
    columns = zip_longest(*(groups[key] for key in sorted(groups)))
    return [post for column in columns for post in column if post is not None]


def split(posts: list[dict]) -> tuple[list[dict], list[dict]]:
    rng = random.Random(SEED)
    without = round_robin([p for p in posts if not p["listed_term_at_commit"]], rng)
    with_term = round_robin([p for p in posts if p["listed_term_at_commit"]], rng)
    keep = math.ceil(len(without) * 3 / 4)
    wanted = math.floor(keep * (1 - SHARE_WITHOUT_TERM) / SHARE_WITHOUT_TERM)
    return without[:keep] + with_term[:wanted], without[keep:] + with_term[wanted:]


def write(name: str, posts: list[dict]) -> None:
    with open(DATA / name, "w", encoding="utf-8") as f:
        for post in posts:
            f.write(json.dumps(post, ensure_ascii=False) + "\n")
    without = sum(not p["listed_term_at_commit"] for p in posts)
    print(f"{name}: {len(posts)} posts, {without} ({without / len(posts):.1%}) "
          "without a listed term")


def main(paths: list[str]) -> None:
    tuned, heldout = split(read_pool(paths))
    write("unseen_posts.jsonl", tuned)
    write("unseen_heldout_posts.jsonl", heldout)


if __name__ == "__main__":
    main(sys.argv[1:])
