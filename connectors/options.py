"""Typed reads of a `[[sources]]` table for connector configs (the app's loader already
rejects unknown keys; these check presence and types and say which source is wrong)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _where(source: Mapping[str, Any], kind: str) -> str:
    return f"{kind} source {source.get('name')!r}" if source.get("name") else f"{kind} source"


def required_str(source: Mapping[str, Any], key: str, *, kind: str) -> str:
    value = source.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{_where(source, kind)}: {key} is required")
    return value.strip()


def optional_str(source: Mapping[str, Any], key: str, *, kind: str) -> str | None:
    value = source.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{_where(source, kind)}: {key} must be a string")
    return value.strip() or None


def str_list(source: Mapping[str, Any], key: str, *, kind: str) -> tuple[str, ...]:
    value = source.get(key) or ()
    if isinstance(value, str) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{_where(source, kind)}: {key} must be a list of strings")
    return tuple(item.strip() for item in value if item.strip())


def query_words(query: str | None) -> tuple[str, ...]:
    """The words of a keyword query, lowercased, with quotes, boolean operators, exclusions
    (`-word`) and search filters (`from:`, `lang:`) left out. Shared by the app's `min_terms`
    filter and connectors that must match words themselves (a firehose has no search)."""
    words = [w.strip('"()').lower() for w in str(query or "").split()]
    return tuple(w for w in words if w and w not in ("or", "and", "not") and not w.startswith(("-", "from:", "lang:")))
