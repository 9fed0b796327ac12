"""Every benchmark, one after the other, each printing its figures beside the baseline it
measures in the same run. `--quick` runs each at a size that takes seconds, as a smoke test
(CI) and to see that nothing regressed badly; without it, the sizes the README's figures use.

    .venv/bin/python bench/all.py [--quick] [--only memory,load,...]
    (or: python3 dev.py bench [--quick])

PostgreSQL parts need WEBCARE_TEST_DATABASE_URL; bench/load.py also needs /usr/sbin/nginx.
Without them, those benchmarks run on SQLite only or are reported as skipped.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NGINX = "/usr/sbin/nginx"

#: name → (arguments for the README's figures, arguments for --quick)
BENCHMARKS: dict[str, tuple[list[str], list[str]]] = {
    "ingest": (["--rows", "100000", "--batch", "500"], ["--rows", "2000", "--batch", "500"]),
    "classify": ([], ["--synthetic", "2000", "--rounds", "1"]),
    "events": (["--pushes", "100"], ["--pushes", "20"]),
    "push_statements": (["--pushes", "300"], ["--pushes", "20", "--quiet"]),
    "queue_api": ([], ["--mentions", "200", "--requests", "30"]),
    "queue_scale": ([], ["--open", "500", "--totals", "2000,10000", "--requests", "20"]),
    "spikes": ([], ["--per-window", "300", "--background", "5000"]),
    "reports": (["--rows", "1000000"], ["--rows", "20000"]),
    "stream": (["--rate", "1000", "--seconds", "30"], ["--rate", "200", "--seconds", "5"]),
    "memory": (["--seconds", "60"], ["--seconds", "15"]),
    "load": (["--clients", "200", "--rate", "50", "--seconds", "60"],
             ["--clients", "20", "--rate", "20", "--seconds", "5"]),
}
POSTGRES_ONLY = {"load"}
POSTGRES_OPTIONAL = {"events", "push_statements", "queue_scale", "reports"}


def unmet(name: str) -> str | None:
    if name in POSTGRES_ONLY and not os.environ.get("WEBCARE_TEST_DATABASE_URL"):
        return "needs WEBCARE_TEST_DATABASE_URL (PostgreSQL)"
    if name == "load" and not os.access(NGINX, os.X_OK):
        return f"needs Debian's nginx ({NGINX})"
    return None


def arguments(name: str, quick: bool) -> list[str]:
    args = list(BENCHMARKS[name][1 if quick else 0])
    if name in POSTGRES_OPTIONAL and not os.environ.get("WEBCARE_TEST_DATABASE_URL"):
        args += ["--backend", "sqlite"]
    return args


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: seconds per benchmark")
    parser.add_argument("--only", help=f"comma-separated, of: {', '.join(BENCHMARKS)}")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(BENCHMARKS)
    if unknown := set(names) - set(BENCHMARKS):
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    failed, skipped = [], []
    for name in names:
        if reason := unmet(name):
            print(f"\n== bench/{name}.py: skipped, {reason}", flush=True)
            skipped.append(name)
            continue
        command = [sys.executable, str(HERE / f"{name}.py"), *arguments(name, args.quick)]
        print(f"\n== bench/{name}.py {' '.join(command[2:])}", flush=True)
        start = time.monotonic()
        code = subprocess.call(command, cwd=HERE.parent)
        print(f"== bench/{name}.py: {'ok' if code == 0 else f'FAILED (exit {code})'} in "
              f"{time.monotonic() - start:.0f} s", flush=True)
        if code:
            failed.append(name)
    print(f"\n== {len(names) - len(failed) - len(skipped)} ran, {len(failed)} failed"
          + (f" ({', '.join(failed)})" if failed else "") + f", {len(skipped)} skipped"
          + (f" ({', '.join(skipped)})" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
