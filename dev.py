#!/usr/bin/env python3
"""Set up and run Webcare Monitor with nothing but Python 3.11+.

    python3 dev.py demo      # venv + install + migrate + serve with the demo source (login printed)
    python3 dev.py test      # venv + install + lint + the full test suite (extra args go to pytest)
    python3 dev.py lint      # venv + install + ruff and mypy only
    python3 dev.py test --no-lint ...   # the tests without the lint step (quick local runs)
    python3 dev.py bench [--quick]      # every benchmark beside its baseline (bench/all.py)
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTEST_NO_TESTS = 5


def ensure_venv(extras: str) -> None:
    if not (BIN / "python").exists():
        print("creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed-{extras or 'base'}"
    pyproject = ROOT / "pyproject.toml"
    if stamp.exists() and stamp.stat().st_mtime >= pyproject.stat().st_mtime:
        return
    print(f"installing webcare-monitor{f'[{extras}]' if extras else ''} …", flush=True)
    target = f".[{extras}]" if extras else "."
    subprocess.run([str(BIN / "python"), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(BIN / "python"), "-m", "pip", "install", "--quiet", "-e", target], check=True, cwd=ROOT)
    stamp.touch()


def demo(args: list[str]) -> int:
    ensure_venv("")
    data = ROOT / ".demo-data"
    data.mkdir(exist_ok=True)
    env = {**os.environ, "WEBCARE_DATA_DIR": os.environ.get("WEBCARE_DATA_DIR", str(data))}
    return run_forwarding_signals([str(BIN / "webcare"), "serve", "--demo", *args], env=env)


def run_forwarding_signals(command: list[str], **popen) -> int:
    """Run the server and pass SIGTERM (and SIGHUP) on to it, as Ctrl+C reaches it through the
    terminal: `kill`, `timeout` or a service manager stop the server, not only this script."""
    child = subprocess.Popen(command, **popen)
    forwarded = [s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None]
    previous = {s: signal.signal(s, lambda number, _frame: child.send_signal(number)) for s in forwarded}
    try:
        while True:
            try:
                code = child.wait()
                return 128 - code if code < 0 else code  # ended by a signal: the shell's convention
            except KeyboardInterrupt:
                continue  # the terminal sent the child its SIGINT too: wait for it to finish
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


# What CI holds the code to before any test runs; both read their settings from pyproject.toml.
LINTERS = (
    ("ruff", ["-m", "ruff", "check", "app", "connectors", "tests", "bench", "tools", "dev.py"]),
    ("mypy", ["-m", "mypy"]),
)


def lint(args: list[str]) -> int:
    ensure_venv("test")
    failed = []
    for name, command in LINTERS:
        print(f"dev.py: {name} …", flush=True)
        if subprocess.call([str(BIN / "python"), *command, *args], cwd=ROOT) != 0:
            failed.append(name)
    if failed:
        print(f"dev.py: {' and '.join(failed)} found problems; fix them before the tests run", file=sys.stderr)
        return 1
    return 0


def test(args: list[str]) -> int:
    if "--no-lint" in args:
        args = [a for a in args if a != "--no-lint"]
    elif lint([]) != 0:
        return 1
    ensure_venv("test")
    code = subprocess.call([str(BIN / "python"), "-m", "pytest", *args], cwd=ROOT)
    if code == PYTEST_NO_TESTS:
        # No tests collected means a broken selection or layout, never a pass.
        print("dev.py: pytest collected no tests; treating that as a failure", file=sys.stderr)
        return 1
    return code


def bench(args: list[str]) -> int:
    ensure_venv("test")  # the benchmarks run the tests' fake channels
    return subprocess.call([str(BIN / "python"), str(ROOT / "bench" / "all.py"), *args], cwd=ROOT)


COMMANDS = {"demo": demo, "test": test, "lint": lint, "bench": bench}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__)
        sys.exit(2)
    sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
