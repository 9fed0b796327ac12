"""`python3 dev.py demo` stops its server on SIGTERM as it does on Ctrl+C: the signal is
passed on to the server, which shuts down, and dev.py ends with it (no orphan on the port)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.app import free_port

ROOT = Path(__file__).resolve().parent.parent


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_sigterm_stops_the_demo_server(tmp_path):
    if not (ROOT / ".venv" / "bin" / "webcare").exists():
        pytest.skip("dev.py runs the project's own .venv; make it first (python3 dev.py lint)")
    port = free_port()
    env = {**os.environ, "WEBCARE_DATA_DIR": str(tmp_path)}
    env.pop("WEBCARE_CONFIG", None)
    log = (tmp_path / "demo.log").open("wb")  # a file, not a pipe nobody reads: the server logs a lot
    dev = subprocess.Popen([sys.executable, str(ROOT / "dev.py"), "demo", "--port", str(port)], cwd=tmp_path,
                           env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 240  # a first run may install the package into .venv
        while time.monotonic() < deadline:
            assert dev.poll() is None, (tmp_path / "demo.log").read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            pytest.fail("the demo server did not start")
        dev.send_signal(signal.SIGTERM)
        assert dev.wait(timeout=20) in (0, 128 + signal.SIGTERM)  # the server's own exit, or the signal's
        assert not _listening(port), "the server outlived dev.py"
    finally:
        if dev.poll() is None:  # its own session: the server goes with it
            os.killpg(dev.pid, signal.SIGKILL)
            dev.wait()
        log.close()
