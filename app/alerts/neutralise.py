"""Make customer-controlled text inert in each chat tool: it may not ping anyone, and it may
not smuggle in links or formatting that looks like ours.

Threats, per tool:
- broadcast pings: `@channel`, `@here`, `@everyone`, `@all`, and the tools' own mention
  syntax: Slack `<!channel>`/`<@U123>`, Discord `<@id>`/`<@&role>`, Google Chat `<users/all>`,
  Teams `<at>name</at>`;
- disguised links: Slack `<http://evil|click>`, markdown `[click](http://evil)`, HTML `<a>`;
- formatting that passes for our own (`*bold*`, headings, quotes).

Two layers. `defuse_mentions` works everywhere: a zero-width space (U+200B, invisible, the
same trick discord.py's `escape_mentions` uses) after `@` and after `<` keeps the text
readable while no tool parses a mention or angle-bracket link out of it. On top, each tool
gets its own escaping for its markup. Bare URLs stay as they are: they show their real target.
Links we build (to the dashboard) never go through these functions.
"""
from __future__ import annotations

import html
import re

ZWSP = "\u200b"

_MENTION_AT = re.compile(r"@(?=\w)")
_ANGLE_OPEN = re.compile(r"<(?=\S)")
# CommonMark lets any ASCII punctuation be backslash-escaped; these are the characters
# Discord's and Mattermost's markdown give meaning to (emphasis, code, spoilers, quotes,
# headings, lists, links, masked links).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_~|>\[\]()!<])")
# Headings, list bullets and numbered lists only mean something at the start of a line.
_MARKDOWN_LINE_START = re.compile(r"(?m)^(\s*\d*)([#+\-.)])")
# Google Chat text formatting markers (no escape syntax exists, so break them instead).
_GCHAT_FORMAT = re.compile(r"([*_~`])")


def defuse_mentions(text: str) -> str:
    """Break every `@name` and `<...>` token so no tool can read a mention or link in it."""
    return _ANGLE_OPEN.sub("<" + ZWSP, _MENTION_AT.sub("@" + ZWSP, text))


def slack(text: str) -> str:
    """For Slack `text`/mrkdwn: Slack's required & < > escaping, then defused mentions.

    After escaping, `<!channel>` and `<http://evil|click>` are literal text; `@channel` is
    defused too because Slack still links bare names when a hook enables `link_names`.
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return defuse_mentions(escaped)


def slack_plain(text: str) -> str:
    """For Slack `plain_text` objects: never parsed for markup, only defused for safety."""
    return defuse_mentions(text)


def markdown(text: str) -> str:
    """For Discord and Mattermost markdown: backslash-escape markup, then defuse mentions."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    escaped = _MARKDOWN_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)
    return defuse_mentions(escaped)


def teams(text: str) -> str:
    """For Teams Adaptive Card `TextRun`s (which render no markdown): defuse `<at>` and @."""
    return defuse_mentions(text)


def html_text(text: str) -> str:
    """For Google Chat card widgets (an HTML subset): escape HTML, then defuse mentions."""
    return defuse_mentions(html.escape(text, quote=True))


def googlechat_text(text: str) -> str:
    """For the Google Chat message `text`, which has formatting but no escape syntax."""
    return defuse_mentions(_GCHAT_FORMAT.sub(lambda m: m.group(1) + ZWSP, text))


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    """At most `limit` characters, ending in an ellipsis when cut."""
    if limit <= 0:
        return ""
    return text if len(text) <= limit else text[: max(limit - len(ellipsis), 0)].rstrip() + ellipsis
