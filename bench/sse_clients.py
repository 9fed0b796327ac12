"""Dashboards' event streams for bench/load.py, held by a child process, so that reading 200
streams (10,000 events a second at 50 pushes/s) never delays the pushes or their clocks in the
benchmark's own process: on a shared 2-core machine one process doing both measured itself.

Run as `python -m bench.sse_clients HOST PORT TOKEN COUNT PREFIX`: prints "ready" once every
stream is open, then every 0.2 s "progress N", N the fewest mentions with an external id
starting with PREFIX any of its streams has had; when its standard input closes, one JSON
line: for each stream the moments
(time.perf_counter, the machine's monotonic clock, the same in every process) each
mention.created arrived, by external id, and why the stream broke if it did.
"""
from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass, field


@dataclass
class Client:
    """One dashboard's event stream, read with a bare socket (HTTP/1.0, so no chunking)."""
    host: str
    port: int
    token: str
    prefix: str
    arrived: dict[str, list[float]] = field(default_factory=dict)
    matched: int = 0   # external ids starting with `prefix` seen
    broken: str | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    async def follow(self) -> None:
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20)
            writer.write(f"GET /api/events HTTP/1.0\r\nHost: {self.host}\r\nAccept: text/event-stream\r\n"
                         f"Authorization: Bearer {self.token}\r\n\r\n".encode())
            status = await reader.readline()
            if b" 200 " not in status:
                raise RuntimeError(status.decode(errors="replace").strip())
            while (await reader.readline()).strip():
                pass  # headers
            self.ready.set()
            event = b""
            while line := await reader.readline():
                if line.startswith(b"event:"):
                    event = line[6:].strip()
                elif line.startswith(b"data:") and event == b"mention.created":
                    moment, key = time.perf_counter(), json.loads(line[5:])["external_id"]
                    seen = self.arrived.setdefault(key, [])
                    self.matched += not seen and key.startswith(self.prefix)
                    seen.append(moment)
            self.broken = "the server ended the stream"
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # counted, and the run goes on
            self.broken = f"{type(exc).__name__}: {exc}"
            self.ready.set()


async def report(clients: list[Client]) -> None:
    while True:
        await asyncio.sleep(0.2)
        print(f"progress {min(c.matched for c in clients)}", flush=True)


async def hold(host: str, port: int, token: str, count: int, prefix: str) -> None:
    clients = [Client(host, port, token, prefix) for _ in range(count)]
    tasks = [asyncio.create_task(client.follow()) for client in clients]
    await asyncio.wait_for(asyncio.gather(*(client.ready.wait() for client in clients)), 60)
    print("ready", flush=True)
    tasks.append(asyncio.create_task(report(clients)))
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)   # until the parent closes it
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps([{"arrived": c.arrived, "broken": c.broken} for c in clients]), flush=True)


if __name__ == "__main__":
    host, port, token, count, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
    asyncio.run(hold(host, port, token, count, prefix))
