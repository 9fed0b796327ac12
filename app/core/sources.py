"""Source kinds. A kind is served by a connector (connectors/registry.py), or is one of the
app's own built-in kinds below, which have no connector: nothing polls them, so they are
never "down", and their mentions name their own channel (default: the source's name).

Every kind declares the keys its `[[sources]]` table takes besides the common ones, as an
options model (connectors/options.py): a connector in its `options`, a built-in kind here.
`options_model` answers for both, and the config loader asks it."""
from __future__ import annotations

from pydantic import BaseModel

from connectors.addresses import HTTP_SCHEMES
from connectors.options import EnvName, SourceOptions
from connectors.registry import CONNECTORS, connector_class

PUSH = "webhook"   # mentions pushed to POST /api/ingest/{source} (Standard Webhooks)
DEMO = "demo"      # the labelled demo feed of `webcare serve --demo`


class PushOptions(SourceOptions):
    """`kind = "webhook"`."""

    secret_env: EnvName  # the Standard Webhooks secret pushes are signed with ("whsec_" + base64)


class DemoOptions(SourceOptions):
    """`kind = "demo"`."""

    # Accepted for configs that set it (share per language, e.g. { nl = 0.7, en = 0.3 });
    # the demo feed does not read it yet.
    language_mix: dict[str, float] | None = None


BUILT_IN_OPTIONS: dict[str, type[SourceOptions]] = {PUSH: PushOptions, DEMO: DemoOptions}
BUILT_IN_KINDS = tuple(BUILT_IN_OPTIONS)


def source_kinds() -> tuple[str, ...]:
    """Every kind a source may have: the registry's (read now, so a connector registered later
    counts) and the built-in ones."""
    return (*CONNECTORS, *BUILT_IN_KINDS)


def options_model(kind: str) -> type[BaseModel]:
    """The model of the keys a source of `kind` takes besides the common ones. KeyError for an
    unknown kind."""
    return BUILT_IN_OPTIONS[kind] if kind in BUILT_IN_OPTIONS else connector_class(kind).options


def is_polled(kind: str) -> bool:
    """Whether a worker fetches this kind on a schedule (and it can therefore go quiet)."""
    return kind not in BUILT_IN_KINDS


def default_channel(kind: str, source_name: str) -> str:
    """The channel of a mention that names none: the network, or for built-in kinds the source."""
    return source_name if kind in BUILT_IN_KINDS else kind


def url_schemes(kind: str) -> tuple[str, ...]:
    """The schemes a source of `kind` may use in its URLs: http(s), and what its connector adds
    in `url_schemes` (a WebSocket connector: ws(s))."""
    return getattr(connector_class(kind), "url_schemes", HTTP_SCHEMES) if kind in CONNECTORS else HTTP_SCHEMES
