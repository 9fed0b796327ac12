"""Debian's nginx running deploy/nginx.conf (the file docker-compose.yml mounts) in front of
web processes on this machine: for tests/test_nginx.py and bench/load.py.

nginx.conf is linked in place; only its two neighbours, which say where nginx runs (its web
processes and its port), are written here. The second also has nginx name the web process that
answered in an X-Test-Upstream response header (never in the deployed files).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def nginx_available() -> bool:
    return os.access(NGINX, os.X_OK)


def nginx_folder(folder: Path, upstreams: list[str], port: int) -> Path:
    """`folder`/nginx.conf, the repository's file, beside this run's upstreams and port."""
    folder.mkdir()
    (folder / "nginx.conf").symlink_to(DEPLOY / "nginx.conf")
    (folder / "webcare-servers.conf").write_text("".join(f"server {address};\n" for address in upstreams))
    (folder / "webcare-listen.conf").write_text(f"listen 127.0.0.1:{port};\n"
                                                "add_header X-Test-Upstream $upstream_addr always;\n")
    return folder / "nginx.conf"


def nginx_args(conf: Path) -> list[str]:
    """In the foreground, its pid and error log in the run's folder, never the machine's
    (several may run at once)."""
    return [NGINX, "-c", str(conf), "-e", str(conf.parent / "error.log"),
            "-g", f"daemon off; pid {conf.parent / 'nginx.pid'};"]


@contextlib.contextmanager
def nginx_running(conf: Path, port: int) -> Iterator[str]:
    """nginx on `port`; yields its base URL once it answers."""
    process = subprocess.Popen(nginx_args(conf), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            assert time.monotonic() < deadline, "nginx did not start"
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(base + "/healthz", timeout=2)
                break
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(20)
