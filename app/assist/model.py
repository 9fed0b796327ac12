"""An OpenAI-compatible chat-completions client (llama.cpp's server, Ollama, vLLM, hosted
APIs): `POST {base_url}/chat/completions`, whole answers (`stream: false`) or server-sent
events (`stream: true`, chunks of `choices[0].delta.content` up to `data: [DONE]`). Requests go
through the app's outbound client (address policy, capped answers, no redirects). Every failure
becomes a ModelFailed with a `reason` the composer words in the user's language."""
from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import EventSource, SSEError

from app.core.errors import DomainError
from connectors.addresses import AddressNotAllowed
from connectors.http import error_detail
from connectors.transport import MAX_RESPONSE_BYTES, ResponseTooLarge

MAX_ANSWER_BYTES = 1024 * 1024  # a reply is a few hundred characters; this is far beyond any


class ModelFailed(DomainError):
    """The model server failed us: 503, as DESIGN.md's contract says, with `reason`
    (rate_limited, server_error, refused, unreachable, unreadable, timeout) telling which."""
    status = 503

    def __init__(self, reason: str, message: str):
        super().__init__(message, reason=reason)
        self.reason = reason


class ModelTimeout(ModelFailed):
    def __init__(self, message: str):
        super().__init__("timeout", message)


@dataclass
class Usage:
    """Tokens as the server counts them, over every call of one draft."""
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, usage: Any) -> None:
        if isinstance(usage, dict):
            self.prompt_tokens += _count(usage.get("prompt_tokens"))
            self.completion_tokens += _count(usage.get("completion_tokens"))


def _count(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


class ChatModel:
    def __init__(self, http: httpx.AsyncClient, base_url: str, model: str, api_key: str | None):
        self.http, self.url, self.model = http, f"{base_url.rstrip('/')}/chat/completions", model
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    def _request(self, messages: list[dict[str, str]], stream: bool) -> httpx.Request:
        body: dict[str, Any] = {"model": self.model, "messages": messages, "stream": stream}
        if stream:  # the final chunk then carries the token counts (OpenAI, vLLM, llama.cpp, Ollama)
            body["stream_options"] = {"include_usage": True}
        return self.http.build_request("POST", self.url, json=body, headers=self.headers,
                                       extensions={MAX_RESPONSE_BYTES: MAX_ANSWER_BYTES})

    async def complete(self, messages: list[dict[str, str]], usage: Usage) -> str:
        """The whole answer's text (`stream: false`)."""
        async with _failures_mapped():
            response = await self.http.send(self._request(messages, stream=False))
            await response.aread()
        _check_status(response)
        return _completion_text(response, usage)

    async def stream(self, messages: list[dict[str, str]], usage: Usage) -> AsyncIterator[str]:
        """The answer's text piece by piece as the server sends it (`stream: true`)."""
        async with _failures_mapped():
            response = await self.http.send(self._request(messages, stream=True), stream=True)
            try:
                if response.status_code >= 300:
                    await response.aread()
                    _check_status(response)
                if response.headers.get("content-type", "").startswith("application/json"):
                    await response.aread()   # a server that ignores `stream` and answers whole
                    yield _completion_text(response, usage)
                    return
                async for event in EventSource(response).aiter_sse():
                    if event.data.strip() == "[DONE]":
                        return
                    if piece := _chunk_text(event.data, usage):
                        yield piece
            finally:
                await response.aclose()


def _completion_text(response: httpx.Response, usage: Usage) -> str:
    try:
        body = response.json()
        text = body["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise ModelFailed("unreadable", "the model server's answer is not a chat completion") from None
    usage.add(body.get("usage"))
    return text if isinstance(text, str) else ""


def _chunk_text(data: str, usage: Usage) -> str:
    try:
        chunk = json.loads(data)
    except ValueError:
        raise ModelFailed("unreadable", "the model server sent an event that is not JSON") from None
    if not isinstance(chunk, dict):
        raise ModelFailed("unreadable", "the model server sent an event that is not a completion chunk")
    if "error" in chunk:  # some servers report a failure mid-stream as an event
        raise ModelFailed("server_error", f"the model server failed while writing: {_error_text(chunk['error'])}")
    usage.add(chunk.get("usage"))
    choices = chunk.get("choices") or []
    delta = choices[0].get("delta") if choices and isinstance(choices[0], dict) else None
    content = delta.get("content") if isinstance(delta, dict) else None
    return content if isinstance(content, str) else ""


def _error_text(error: Any) -> str:
    message = error.get("message") if isinstance(error, dict) else error
    return str(message)[:200]


def _check_status(response: httpx.Response) -> None:
    status = response.status_code
    if status < 300:
        return
    detail = error_detail(response)
    said = f": {detail}" if detail else ""
    if status == 429:
        raise ModelFailed("rate_limited", f"the model server is rate limiting us (429){said}")
    if status >= 500:
        raise ModelFailed("server_error", f"the model server failed ({status}){said}")
    if status < 400:
        raise ModelFailed("refused", f"the model server answered with a redirect ({status}); check [assist] base_url")
    raise ModelFailed("refused", f"the model server refused the request ({status}){said}")


@contextlib.asynccontextmanager
async def _failures_mapped() -> AsyncIterator[None]:
    """Transport failures as ModelFailed: a timeout is ModelTimeout, anything else ModelFailed."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise ModelTimeout("the model server did not answer in time") from exc
    except AddressNotAllowed as exc:
        raise ModelFailed("unreachable", f"the model server's address is not allowed: {exc}") from exc
    except ResponseTooLarge as exc:
        raise ModelFailed("unreadable", "the model server sent far more than a reply") from exc
    except (httpx.DecodingError, SSEError) as exc:
        raise ModelFailed("unreadable", f"the model server's answer cannot be read: {exc}") from exc
    except httpx.TransportError as exc:
        raise ModelFailed("unreachable", f"the model server cannot be reached ({type(exc).__name__})") from exc
