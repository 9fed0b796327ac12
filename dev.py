#!/usr/bin/env python3
"""Set up and run Webcare Monitor with nothing but Python 3.11+.

    python3 dev.py demo      # venv + install + migrate + serve with the demo source (login printed)
    python3 dev.py test      # venv + install + the full test suite (extra args go to pytest)
"""
from __future__ import annotations

import os
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
    return subprocess.call([str(BIN / "webcare"), "serve", "--demo", *args], env=env)


def test(args: list[str]) -> int:
    ensure_venv("test")
    code = subprocess.call([str(BIN / "python"), "-m", "pytest", *args], cwd=ROOT)
    if code == PYTEST_NO_TESTS:
        # No tests collected means a broken selection or layout, never a pass.
        print("dev.py: pytest collected no tests; treating that as a failure", file=sys.stderr)
        return 1
    return code


COMMANDS = {"demo": demo, "test": test}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__)
        sys.exit(2)
    sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
