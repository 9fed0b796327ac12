"""The prompt: the leads' template file (three sandboxed Jinja templates: system, user, revise)
filled with the facts of one mention. A template cannot reach Python objects, and what it is
filled with is plain data, so neither a lead's template nor a customer's post runs code."""
from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

if TYPE_CHECKING:  # the config loader checks prompt files, so this module imports little
    from app.assist.facts import DraftFacts
    from app.craft.tonecheck import Finding

PARTS = ("system", "user", "revise")
MAX_KNOWLEDGE_CHARS = 20_000  # facts beyond this would crowd out the post in a small model's context

Message = dict[str, str]


class PromptFileError(ValueError):
    """A prompt template file that cannot be used, phrased for the lead who edits it."""


@dataclass(frozen=True)
class Prompt:
    system: Any
    user: Any
    revise: Any


def _default_text() -> str:
    return resources.files("app.assist").joinpath("data", "prompt.toml").read_text(encoding="utf-8")


def load_prompt(path: Path | None) -> Prompt:
    """The compiled templates of `path` (None: the shipped default), read again when the file
    changes, so a lead's edit counts from the next draft on; PromptFileError says what is wrong."""
    try:
        changed = path.stat().st_mtime_ns if path else 0
    except OSError as exc:
        raise PromptFileError(f"{path}: {exc.strerror or exc}") from None
    return _compiled(path, changed)


@lru_cache(maxsize=8)
def _compiled(path: Path | None, _changed: int) -> Prompt:
    where = str(path) if path else "the default prompt"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8") if path else _default_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PromptFileError(f"{where}: {exc}") from None
    missing = [part for part in PARTS if not isinstance(data.get(part), str)]
    if missing:
        raise PromptFileError(f"{where}: missing {', '.join(missing)} (each a string)")
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
    try:
        return Prompt(*(env.from_string(data[part].strip()) for part in PARTS))
    except TemplateError as exc:
        raise PromptFileError(f"{where}: {exc}") from None


def load_knowledge(path: Path | None) -> str:
    if path is None:
        return ""
    return path.read_text(encoding="utf-8").strip()[:MAX_KNOWLEDGE_CHARS]


def _render(template: Any, values: dict[str, Any]) -> str:
    try:
        return template.render(**values).strip()
    except TemplateError as exc:  # e.g. a name the template uses that does not exist
        raise PromptFileError(f"the prompt template cannot be filled in: {exc}") from None


def first_messages(prompt: Prompt, facts: DraftFacts, knowledge: str) -> list[Message]:
    values = {**asdict(facts), "knowledge": knowledge}
    return [{"role": "system", "content": _render(prompt.system, values)},
            {"role": "user", "content": _render(prompt.user, values)}]


def revision_messages(prompt: Prompt, draft: str, findings: list[Finding]) -> list[Message]:
    """The draft as the model's turn, then the findings as the next request."""
    quoted = [{"quote": draft[f.start:f.end], "message": f.message, "suggestion": f.suggestion} for f in findings]
    return [{"role": "assistant", "content": draft},
            {"role": "user", "content": _render(prompt.revise, {"findings": quoted})}]
