"""`[assist]` in the config file: where the model server is and what the prompt is made of.
Checked when the config loads, like every other table (app/core/config.py)."""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.assist.prompt import PromptFileError, load_prompt


class AssistSection(BaseModel):
    """`[assist]`: the optional AI draft (app/assist/). Off while `base_url` is unset."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str | None = None          # an OpenAI-compatible server, ".../v1"
    model: str = ""
    api_key_env: str | None = None       # optional: a local server needs no key
    timeout_seconds: float = Field(30, gt=0, le=600)
    knowledge_file: Path | None = None   # facts the model may use: opening hours, status page, refunds
    prompt_file: Path | None = None      # the prompt template; default app/assist/data/prompt.toml
    # The model server alone may be on a private or loopback address (a local llama.cpp or
    # Ollama) without opening the rest of the outbound traffic to the private network.
    allow_private_networks: bool = False

    @property
    def enabled(self) -> bool:
        return self.base_url is not None

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value and value.rstrip("/")

    @field_validator("knowledge_file", "prompt_file")
    @classmethod
    def _readable(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"{value}: no such file")
        return value

    @field_validator("prompt_file")
    @classmethod
    def _usable_prompt(cls, value: Path | None) -> Path | None:
        try:
            load_prompt(value)
        except PromptFileError as exc:
            raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _model_named(self) -> AssistSection:
        if self.enabled and not self.model.strip():
            raise ValueError("model is required with base_url (the name the server knows it by)")
        return self
