"""PostgreSQL LISTEN on one dedicated connection per process, kept open for as long as the
process runs: a lost connection (a database restart, a network cut, a killed backend) is
noticed and made again with backoff, and each (re)connection calls back once, so whatever
committed while nobody listened is read at once."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg
from sqlalchemy import make_url

log = logging.getLogger(__name__)

APPLICATION_NAME = "webcare-listen"  # how the connection shows in pg_stat_activity
CHECK_SECONDS = 30.0   # a connection cut without a word from the server is found by asking
RETRY_SECONDS = (0.5, 30.0)


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    """The libpq-style address asyncpg takes, from the `postgresql+asyncpg://` URL."""
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


class Listener:
    """Calls `on_notify()` for every notification on `channel` but those whose payload is
    `own_payload` (sent by this process's own writes, which wake it directly), and once per
    (re)connection."""

    def __init__(self, url: str, channel: str, on_notify: Callable[[], None], *,
                 check_seconds: float = CHECK_SECONDS, own_payload: str | None = None):
        self._dsn = asyncpg_dsn(url)
        self._own_payload = own_payload
        self._channel, self._on_notify, self._check_seconds = channel, on_notify, check_seconds
        self._task: asyncio.Task | None = None
        self.listening = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"listen:{self._channel}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        delay = RETRY_SECONDS[0]
        while True:
            try:
                await self._listen_until_lost()
                delay = RETRY_SECONDS[0]  # it worked for a while: start the backoff afresh
                await asyncio.sleep(delay)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away; polling covers the gap
                log.warning("LISTEN %s: %s; connecting again in %.1f s", self._channel, type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_SECONDS[1])

    async def _listen_until_lost(self) -> None:
        connection = await asyncpg.connect(self._dsn, timeout=10,
                                           server_settings={"application_name": APPLICATION_NAME})
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        try:
            await connection.add_listener(self._channel, self._notified)
            self.listening = True
            self._on_notify()
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._check_seconds):
                        await lost.wait()
                if not lost.is_set():
                    async with asyncio.timeout(10):
                        await connection.fetchval("SELECT 1")
            log.warning("LISTEN %s: the connection was lost; connecting again", self._channel)
        finally:
            self.listening = False
            self._on_notify()  # the caller polls faster while nobody listens
            connection.terminate()

    def _notified(self, _connection, _pid, _channel, payload) -> None:
        if payload != self._own_payload:
            self._on_notify()
