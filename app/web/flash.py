"""One-time messages for the next page a person sees: the confirmation after an action, the
reason an action was refused, an undo offer. They travel in a cookie signed with the app's
secret and bound to the login session, never in the URL, so no link can make a page say
something (a `?error=` text could be crafted by anyone)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from fastapi import Request, Response

from app.core import i18n

FLASH_COOKIE = "webcare_flash"
FLASH_MAX_AGE = 120  # seconds: the redirect that follows an action is immediate
Kind = Literal["ok", "error"]


@dataclass(frozen=True)
class Flash:
    kind: Kind
    message: str                      # an English UI string (translated when shown), may hold %(name)s
    params: dict[str, str | int] = field(default_factory=dict)
    undo: list[int] = field(default_factory=list)   # dismissed mentions the toast offers to bring back
    undo_until: float = 0.0                          # until when (epoch seconds) the server allows it

    def text(self) -> str:
        """The message in the current UI language, its parameters filled in."""
        translated = i18n.gettext(self.message)
        values = {key: i18n.gettext(v) if isinstance(v, str) else v for key, v in self.params.items()}
        return translated % values if values else translated

    def undo_seconds_left(self, now: datetime) -> int:
        return max(0, int(self.undo_until - now.timestamp())) if self.undo else 0


def _signature(request: Request, payload: bytes) -> str:
    principal = getattr(request.state, "principal", None)
    bound_to = (principal.session_hash or principal.username) if principal else ""
    key = hashlib.sha256(f"flash:{request.app.state.ctx.secret_key}:{bound_to}".encode()).digest()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def set_flash(request: Request, response: Response, flash: Flash) -> Response:
    payload = base64.urlsafe_b64encode(json.dumps(
        {"kind": flash.kind, "message": flash.message, "params": flash.params, "undo": flash.undo,
         "undo_until": flash.undo_until}).encode())
    response.set_cookie(FLASH_COOKIE, f"{payload.decode()}.{_signature(request, payload)}", max_age=FLASH_MAX_AGE,
                        httponly=True, samesite="lax", secure=request.url.scheme == "https")
    return response


def read_flash(request: Request) -> Flash | None:
    """The pending message, when its signature holds for this session; anything else is ignored."""
    raw = request.cookies.get(FLASH_COOKIE, "")
    payload, _, signature = raw.partition(".")
    if not payload or not hmac.compare_digest(signature, _signature(request, payload.encode())):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload))
        return Flash(kind=data["kind"], message=data["message"], params=data.get("params") or {},
                     undo=[int(i) for i in data.get("undo") or []], undo_until=float(data.get("undo_until") or 0))
    except (ValueError, KeyError, TypeError):
        return None


def clear_flash(request: Request, response: Response) -> None:
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, httponly=True, samesite="lax")
