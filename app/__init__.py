"""Webcare Monitor: the service (see README, "How it fits together")."""
import sys

# httpx imports its command-line client (click, rich, pygments: ~4 MB) whenever those happen to
# be installed, as they are beside the test tools; the app never runs it. With this entry the
# import fails and httpx keeps its stub `main`, which only says how to install the client.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
