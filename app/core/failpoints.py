"""Crash on purpose at a named point, for tests that kill a process mid-work.

Set WEBCARE_FAILPOINT=<name> in a child process's environment; when the code passes
`failpoint("<name>")` the process exits at once (as a power cut would), without cleanup."""
from __future__ import annotations

import os


def failpoint(name: str) -> None:
    if os.environ.get("WEBCARE_FAILPOINT") == name:
        os._exit(137)
