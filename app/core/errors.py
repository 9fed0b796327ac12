"""Domain errors: what a service says when it refuses, independent of HTTP.

Services raise these; one handler (`app/web/errors.py`) turns them into a JSON body
`{"detail": message, **extra}` with `status` for the API, or an error page for people.
"""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal with a plain message; `extra` travels to API clients beside `detail`."""

    status = 400

    def __init__(self, message: str, **extra: Any):
        super().__init__(message)
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The JSON an API client gets."""
        return {"detail": self.message, **self.extra}


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    """The thing is in another state than the request expects (someone else has it, it is done)."""
    status = 409


class Forbidden(DomainError):
    status = 403


class Invalid(DomainError):
    status = 422


class Unauthenticated(DomainError):
    """The caller could not prove who they are (a push with a bad or stale signature)."""
    status = 401


class TooLarge(DomainError):
    status = 413


class ChannelFailed(DomainError):
    """Posting into a channel failed (the channel, not us)."""
    status = 502


class Unavailable(DomainError):
    """Something we depend on is missing or away (a secret not set, a server down)."""
    status = 503
