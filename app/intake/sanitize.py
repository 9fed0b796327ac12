"""HTML from channels → plain text, in this one place: a stored mention's `text` is always plain."""
from __future__ import annotations

import html
import re

import nh3

_BLOCK_BREAKS = re.compile(r"<\s*(br|/p|/div|/li|/h[1-6]|/blockquote)\s*/?\s*>", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BLANK_RUNS = re.compile(r"\n{3,}")
MAX_TEXT_CHARS = 20_000


def html_to_text(markup: str) -> str:
    """Tags dropped (script and style with their content), entities decoded, breaks kept."""
    with_breaks = _BLOCK_BREAKS.sub("\n", markup)
    stripped = nh3.clean(with_breaks, tags=set(), clean_content_tags={"script", "style"})
    return clean_text(html.unescape(stripped))


def clean_text(text: str) -> str:
    """Plain text made safe to store: no control characters, bounded length, tidy breaks."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return _BLANK_RUNS.sub("\n\n", text).strip()[:MAX_TEXT_CHARS]


def safe_url(url: str | None) -> str | None:
    """Only http(s) links survive; `javascript:` and friends become None."""
    if not url:
        return None
    url = url.strip()
    return url if re.match(r"^https?://[^\s<>\"']+$", url, re.IGNORECASE) else None
