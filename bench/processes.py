"""What the multi-process benchmarks share: spare ports, a `webcare` environment, waiting for
/healthz, and reading a process's memory and CPU from /proc."""
from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

import httpx

WEBCARE = str(Path(sys.executable).parent / "webcare")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def webcare_env(folder: Path, **extra: str) -> dict[str, str]:
    """This environment without any WEBCARE_ setting of the caller's, plus a data folder, its
    config file and a fixed secret key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBCARE_")}
    env.update(WEBCARE_DATA_DIR=str(folder), WEBCARE_CONFIG=str(folder / "webcare.toml"),
               WEBCARE_SECRET_KEY="k" * 40, WEBCARE_LOG_LEVEL="WARNING", **extra)
    return env


def wait_healthy(base: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{base} did not become healthy within {seconds:.0f} s")


def _status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {key: value.strip() for key, _, value in (line.partition(":") for line in lines)}


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set (VmHWM): what `ru_maxrss` reports once it exits."""
    return int(_status(pid)["VmHWM"].split()[0]) / 1024


def rss_mib(pid: int) -> float:
    return int(_status(pid)["VmRSS"].split()[0]) / 1024


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]
