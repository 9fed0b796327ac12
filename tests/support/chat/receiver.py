"""A local receiving server that speaks each chat tool's webhook protocol.

`POST /{sink}/{hook}` records the request, validates it the way the tool would (answering
the tool's own 400/401 when it is wrong), then answers with the next scripted `Reply` for
that hook, or with the tool's normal success answer. A `Reply(hang=True)` never answers
until the server shuts down, to provoke a client timeout.
"""
from __future__ import annotations

import asyncio
import base64
import json
import socket
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response

from tests.support.chat import protocols

WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"webcare-alerts-test-secret-32byt").decode()


@dataclass
class Reply:
    status: int
    body: bytes | str | dict[str, Any] = b""
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False

    def response(self) -> Response:
        if isinstance(self.body, dict):
            return Response(json.dumps(self.body), self.status, self.headers, media_type="application/json")
        content = self.body.encode() if isinstance(self.body, str) else self.body
        return Response(content, self.status, self.headers, media_type="text/plain" if content else None)


# Each tool's normal success answer.
SUCCESS: dict[str, Callable[[Any], Reply]] = {
    "slack": lambda payload: Reply(200, "ok"),
    "teams": lambda payload: Reply(202),
    "mattermost": lambda payload: Reply(200, "ok"),
    "discord": lambda payload: Reply(204),
    "googlechat": lambda payload: Reply(200, {"name": "spaces/AAAA/messages/BBBB.BBBB",
                                              "thread": {"name": "spaces/AAAA/threads/CCCC",
                                                         "threadKey": (payload.get("thread") or {}).get("threadKey")}}),
    "webhook": lambda payload: Reply(200, {"received": True}),
}
# Each tool's answer to a payload it refuses.
REFUSAL: dict[str, Callable[[list[str]], Reply]] = {
    "slack": lambda problems: Reply(400, "invalid_blocks"),
    "teams": lambda problems: Reply(400, {"error": {"code": "InvalidRequestContent", "message": "; ".join(problems)}}),
    "mattermost": lambda problems: Reply(400, {"id": "web.incoming_webhook.parse.app_error", "status_code": 400,
                                               "message": "; ".join(problems)}),
    "discord": lambda problems: Reply(400, {"code": 50035, "message": "Invalid Form Body", "errors": problems}),
    "googlechat": lambda problems: Reply(400, {"error": {"code": 400, "message": "; ".join(problems),
                                                         "status": "INVALID_ARGUMENT"}}),
    "webhook": lambda problems: Reply(401, {"error": "; ".join(problems)}),
}
VALIDATORS = {"slack": protocols.slack, "teams": protocols.teams, "mattermost": protocols.mattermost,
              "discord": protocols.discord, "googlechat": protocols.googlechat,
              "webhook": protocols.webhook_verifier(WEBHOOK_SECRET)}     # checked against the wall clock


@dataclass
class Received:
    sink: str
    hook: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    problems: list[str]
    at: float = field(default_factory=time.monotonic)   # when it arrived (spacing between messages)

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self._scripts: dict[str, deque[Reply]] = defaultdict(deque)
        self._release = asyncio.Event()
        # The receiver's own time, for signature timestamps: None is the wall clock; tests on
        # a controlled clock set theirs, as if the receiving service lived in that time too.
        self.clock: Callable[[], datetime] | None = None
        self.validators = {**VALIDATORS, "webhook": protocols.webhook_verifier(
            WEBHOOK_SECRET, lambda: self.clock() if self.clock else None)}
        self.base_url = ""
        self.app = FastAPI()
        self.app.add_api_route("/{sink}/{hook}", self._handle, methods=["POST"])

    def url(self, sink: str, hook: str = "hook", query: str = "") -> str:
        return f"{self.base_url}/{sink}/{hook}" + (f"?{query}" if query else "")

    def script(self, hook: str, *replies: Reply) -> None:
        """The next answers for `hook`, in order; after them, the tool's normal success."""
        self._scripts[hook].extend(replies)

    def for_hook(self, hook: str) -> list[Received]:
        return [r for r in self.received if r.hook == hook]

    async def _handle(self, sink: str, hook: str, request: Request) -> Response:
        body = await request.body()
        payload = protocols.decode(body)
        headers = dict(request.headers)
        query = dict(request.query_params)
        problems = (["body is not JSON"] if payload is None
                    else self.validators[sink](payload, query, headers, body))
        self.received.append(Received(sink, hook, query, headers, body, problems))
        script = self._scripts[hook]
        reply = script.popleft() if script else None
        if reply is not None and reply.hang:
            await self._release.wait()
        if problems:
            return REFUSAL[sink](problems).response()
        return (reply or SUCCESS[sink](payload)).response()

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[Receiver]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning",
                                               lifespan="off"))
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()       # surfaces a failed start
            await asyncio.sleep(0.01)
        self.base_url = f"http://127.0.0.1:{port}"
        try:
            yield self
        finally:
            self._release.set()
            server.should_exit = True
            await asyncio.wait_for(task, 15)
