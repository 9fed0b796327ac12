"""Fail on purpose at a named point, for tests of what a failure looks like from outside.

Set WEBCARE_FAILPOINT=<name> in a child process's environment; when the code passes
`failpoint("<name>")` the process exits at once (as a power cut would), without cleanup.
WEBCARE_FAILPOINT=<name>:raise raises FailpointError there instead: an unexpected exception,
as a bug would raise, in a server that keeps running."""
from __future__ import annotations

import os


class FailpointError(RuntimeError):
    """The injected failure of `<name>:raise`."""


def failpoint(name: str) -> None:
    chosen = os.environ.get("WEBCARE_FAILPOINT")
    if chosen == name:
        os._exit(137)
    if chosen == f"{name}:raise":
        raise FailpointError(f"failpoint {name}")
