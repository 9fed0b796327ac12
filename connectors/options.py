"""A connector's options: the keys of its `[[sources]]` table, declared once as a model.

Every connector declares `options`, a `SourceOptions` model of the keys its kind takes besides
the ones every source has (`name`, `kind`, `base_url`, `interval_seconds`, ...): their types,
defaults and rules. The app's config loader validates each source with it, so a typo or a wrong
value stops start-up; the connector builds itself from the same model (`read_options`).

Secrets are `*_env` options naming environment variables. The app resolves them and hands the
connector the value under the key without `_env` (`token_env = "MASTO_TOKEN"` -> `token`); a
secret missing from the environment only shows then, so the connector checks that (`secret`).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar, overload

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError


class SourceOptions(BaseModel):
    """Base of every options model: unknown keys are errors, and nothing changes once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Options = TypeVar("Options", bound=BaseModel)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _flag(value: Any) -> bool:
    # Strict on purpose: "yes" or 1 in a config file is a mistake, not a wish.
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value.strip()


def _blank_is_unset(value: Any) -> Any:
    return (value.strip() or None) if isinstance(value, str) else value


def _strings(items: Any) -> tuple[str, ...]:
    if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
        raise ValueError("must be a list of strings")
    return tuple(item.strip() for item in items if item.strip())


def _env_name(value: str) -> str:
    if not _ENV_NAME.match(value):
        raise ValueError("must name an environment variable (letters, digits and _) that holds the "
                         "secret, not the secret itself")
    return value


Flag = Annotated[bool, BeforeValidator(_flag)]
Text = Annotated[str, AfterValidator(_not_blank)]  # stripped; required where it has no default
OptionalText = Annotated[Text | None, BeforeValidator(_blank_is_unset)]  # blank reads as unset
TextList = Annotated[tuple[str, ...], BeforeValidator(_strings)]  # stripped, blanks dropped
EnvName = Annotated[str, AfterValidator(_env_name)]  # a `*_env` option: where a secret is


def where(source: Mapping[str, Any]) -> str:
    """`mastodon source 'masto'`: how messages name the source they are about."""
    name = source.get("name")
    return f"{source.get('kind')} source" + (f" {name!r}" if name else "")


def describe(exc: ValidationError) -> str:
    """A model's errors in one line: `identifier is required; notifications: must be true or false`."""
    parts = []
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            parts.append(f"{key} is required")
        else:
            parts.append(f"{key}: {message}" if key else message)
    return "; ".join(parts)


def read_options(model: type[Options], source: Mapping[str, Any]) -> Options:
    """`model`'s keys out of a connector's settings, validated (the common keys, own accounts
    and resolved secrets there are not options). A ValueError names the source and the key."""
    values = {key: source[key] for key in model.model_fields if source.get(key) is not None}
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise ValueError(f"{where(source)}: {describe(exc)}") from None


@overload
def secret(source: Mapping[str, Any], key: str, *, required: Literal[True]) -> str: ...


@overload
def secret(source: Mapping[str, Any], key: str, *, required: bool = False) -> str | None: ...


def secret(source: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    """The secret the option `key` (`*_env`) names, as the app resolved it; None when unset.
    `required`: a ValueError saying which variable is missing instead."""
    value = source.get(key.removesuffix("_env"))
    value = value.strip() if isinstance(value, str) else None
    if required and not value:
        named = f" = {source[key]!r}" if source.get(key) else ""
        raise ValueError(f"{where(source)}: {key}{named} names an environment variable that is empty or not set")
    return value or None


def own_accounts(source: Mapping[str, Any]) -> tuple[str, ...]:
    """The brand's own accounts the app passes along (`[brand].own_accounts`)."""
    return tuple(a.strip() for a in source.get("own_accounts") or () if isinstance(a, str) and a.strip())


def query_words(query: str | None) -> tuple[str, ...]:
    """The words of a keyword query, lowercased, with quotes, boolean operators, exclusions
    (`-word`) and search filters (`from:`, `lang:`) left out. Shared by the app's `min_terms`
    filter and connectors that must match words themselves (a firehose has no search)."""
    words = [w.strip('"()').lower() for w in str(query or "").split()]
    return tuple(w for w in words if w and w not in ("or", "and", "not") and not w.startswith(("-", "from:", "lang:")))
