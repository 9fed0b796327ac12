"""A fake OpenAI-compatible chat-completions server, as OpenAI documents the API
(https://platform.openai.com/docs/api-reference/chat): `POST /v1/chat/completions` answers a
`chat.completion` object with `usage`, or with `"stream": true` server-sent events of
`chat.completion.chunk` objects (`choices[0].delta.content`), a last chunk with `usage` and empty
`choices` when `stream_options.include_usage` is set, then `data: [DONE]`. Errors carry
`{"error": {"message", "type", "code"}}`. Each request body is kept in `requests`; `answers` is
the script, one entry per request: a reply text, or an `Outage` (a status, or a delay)."""
from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

MODEL = "test-model"


@dataclass
class Outage:
    status: int = 200          # 429, 500, ... (200 with `delay`: a server that is slow to answer)
    delay: float = 0.0         # seconds before anything is sent


ERRORS = {429: ("Rate limit reached for requests", "requests", "rate_limit_exceeded"),
          500: ("The server had an error while processing your request.", "server_error", None)}


def _tokens(text: str) -> int:
    return max(1, len(text.split()))


@dataclass
class FakeOpenAI:
    answers: list[str | Outage] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    base_url: str = ""
    ignores_stream: bool = False   # answers whole even when asked to stream, as some servers do

    def prompt_text(self, index: int = 0) -> str:
        """Everything the request `index` sent to the model, as one text."""
        return "\n".join(m["content"] for m in self.requests[index]["messages"])

    async def completions(self, request: Request):
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        answer = self.answers.pop(0) if self.answers else "Sorry voor het ongemak!"
        if isinstance(answer, Outage):
            await asyncio.sleep(answer.delay)
            if answer.status != 200:
                message, kind, code = ERRORS.get(answer.status, ("error", "server_error", None))
                return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": code}},
                                    status_code=answer.status, headers={"retry-after": "20"})
            answer = "Sorry voor het ongemak!"
        prompt_tokens = sum(_tokens(m["content"]) for m in body["messages"])
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": _tokens(answer),
                 "total_tokens": prompt_tokens + _tokens(answer)}
        if body.get("stream") and not self.ignores_stream:
            include_usage = (body.get("stream_options") or {}).get("include_usage", False)
            return StreamingResponse(self._chunks(answer, usage if include_usage else None),
                                     media_type="text/event-stream")
        return JSONResponse({"id": "chatcmpl-1", "object": "chat.completion", "created": int(time.time()),
                             "model": body["model"], "choices": [{"index": 0, "finish_reason": "stop",
                                                                  "message": {"role": "assistant", "content": answer}}],
                             "usage": usage})

    async def _chunks(self, answer: str, usage: dict | None) -> AsyncIterator[str]:
        def chunk(choices: list, **extra) -> str:
            data = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": int(time.time()),
                    "model": MODEL, "choices": choices, **extra}
            return f"data: {json.dumps(data)}\n\n"

        yield chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
        words = answer.split(" ")
        for i, word in enumerate(words):
            await asyncio.sleep(0.01)
            piece = word if i == len(words) - 1 else word + " "
            yield chunk([{"index": 0, "delta": {"content": piece}, "finish_reason": None}])
        yield chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}])
        if usage:
            yield chunk([], usage=usage)
        yield "data: [DONE]\n\n"

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/chat/completions", self.completions, methods=["POST"])])
