"""A login flood in its own process: four threads post wrong passwords to /login as fast as
the server answers, each with a new X-Forwarded-For every time.

    python -m tests.support.login_flood BASE_URL USERNAME

Reads commands from standard input: `go` starts (or resumes) the flood, `pause` stops it
until the next `go`; at end of input it prints one JSON line of answers counted by status
and exits. It runs apart from the test so its threads cannot take the GIL from the thread
timing the pushes."""
from __future__ import annotations

import json
import re
import sys
import threading
from collections import Counter

import httpx

THREADS = 4


def flood(base: str, username: str, index: int, running: threading.Event, done: threading.Event,
          counts: Counter, lock: threading.Lock) -> None:
    with httpx.Client(base_url=base, timeout=30) as client:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
        n = 0
        while not done.is_set():
            if not running.wait(0.1):
                continue
            n += 1
            answer = client.post("/login", follow_redirects=False,
                                 data={"username": username, "password": f"wrong-{index}-{n}", "csrf_token": csrf},
                                 headers={"X-Forwarded-For": f"198.51.{index}.{n % 250 + 1}"})
            with lock:
                counts[answer.status_code] += 1


def main(base: str, username: str) -> None:
    running, done, lock, counts = threading.Event(), threading.Event(), threading.Lock(), Counter()
    threads = [threading.Thread(target=flood, args=(base, username, i, running, done, counts, lock), daemon=True)
               for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for line in sys.stdin:
        if line.strip() == "go":
            running.set()
        elif line.strip() == "pause":
            running.clear()
    done.set()
    for thread in threads:
        thread.join(35)
    print(json.dumps({str(status): n for status, n in counts.items()}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
