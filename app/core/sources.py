"""Source kinds. A kind is served by a connector (connectors/registry.py), or is one of the
app's own built-in kinds below, which have no connector: nothing polls them, so they are
never "down", and their mentions name their own channel (default: the source's name)."""
from __future__ import annotations

from connectors.registry import CONNECTORS

PUSH = "webhook"   # mentions pushed to POST /api/ingest/{source} (Standard Webhooks)
DEMO = "demo"      # the labelled demo feed of `webcare serve --demo`
BUILT_IN_KINDS = (PUSH, DEMO)
SOURCE_KINDS = (*CONNECTORS, *BUILT_IN_KINDS)


def is_polled(kind: str) -> bool:
    """Whether a worker fetches this kind on a schedule (and it can therefore go quiet)."""
    return kind not in BUILT_IN_KINDS


def default_channel(kind: str, source_name: str) -> str:
    """The channel of a mention that names none: the network, or for built-in kinds the source."""
    return source_name if kind in BUILT_IN_KINDS else kind
