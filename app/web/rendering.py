"""Jinja2 templates with the i18n extension and a few display helpers."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache, partial
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context, pass_eval_context
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from markupsafe import Markup, escape

from app.core import i18n
from app.intake.demo_channel import DEMO_CHANNEL
from app.web.flash import clear_flash, read_flash
from connectors.registry import channel_name


def _shipped_folder(name: str) -> Path:
    """templates/ or static/: installed inside the package as app/<name> (package-dir in
    pyproject.toml); an editable install or a bare checkout imports app/ from the source tree,
    where the folder stays at the top of the repository."""
    package = Path(str(resources.files("app")))
    installed = package / name
    return installed if installed.is_dir() else package.parent / name


TEMPLATES_DIR = _shipped_folder("templates")
STATIC_DIR = _shipped_folder("static")


def _duration(seconds: int | float | None) -> str:
    """'-1:05:09' style; negative once past the target."""
    if seconds is None:
        return ""
    sign = "-" if seconds < 0 else ""
    seconds = abs(int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}" if hours else f"{sign}{minutes}:{secs:02d}"


def _age(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60:02d}"
    return f"{minutes // 1440} d"


def _age_since(iso: str, now: datetime) -> str:
    return _age((now - datetime.fromisoformat(iso)).total_seconds())


def _channel(channel: str | None) -> str:
    """A channel as people know it; the demo's own network says it is the demo's."""
    return i18n.gettext("Demo channel") if channel == DEMO_CHANNEL else channel_name(channel)


# These two as Python, not macros: every row of the queue calls them, and a Jinja macro call
# costs some ten times a function's.
@pass_context
def _open_url(context: Context, mention_id: int) -> str:
    """Where a mention opens: beside the queue it is listed in (the split view, keeping view and
    filters: the page's `list_url`), else on its own page."""
    list_url = context.get("list_url")
    if list_url:
        return f"{list_url}{'&' if '?' in list_url else '?'}m={mention_id}"
    return f"/mentions/{mention_id}"


def _external_link(url: str | None, label: str) -> Markup:
    """A link out (a post, a profile) in a new tab, without referrer or opener; none without a URL."""
    if not url:
        return Markup("")
    # escape() into an f-string: Markup.format took three times as long, on every row with a URL.
    return Markup(f'<a href="{escape(url)}" target="_blank" rel="noopener noreferrer nofollow">{escape(label)}</a>')


@pass_eval_context
def _translated(eval_ctx: EvalContext, message: str, **variables: object) -> str:
    """`_()` in templates, as Jinja's newstyle gettext has it (the translation, Markup when
    autoescaping, always %-formatted with `variables` escaped into it) but without its two
    context calls and formatting each time: a dashboard of 100 rows asks for some 400."""
    if not eval_ctx.autoescape:
        return i18n.gettext(message) % variables
    if variables:
        return Markup(i18n.gettext(message)) % variables
    return _markup(i18n.current_language(), message)


@lru_cache(maxsize=4096)
def _markup(language: str, message: str) -> Markup:
    return Markup(i18n.gettext_in(language, message)) % {}


def build_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["_"] = _translated
    env.globals["open_url"] = _open_url
    env.globals["external_link"] = _external_link
    env.filters["duration"] = _duration
    env.filters["age"] = _age
    env.filters["age_since"] = _age_since
    env.filters["channel"] = _channel
    env.filters["language_label"] = i18n.language_label
    env.filters["number"] = i18n.number
    return templates


def local_time(value: datetime | str | None, zone: str, fmt: str | None = None, *,
               now: datetime | None = None) -> str:
    """A moment in the team's timezone; the year only when it is not this year's."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    local = value.astimezone(ZoneInfo(zone))
    if fmt is None:
        this_year = (now or datetime.now(ZoneInfo(zone))).astimezone(ZoneInfo(zone)).year
        fmt = "%d-%m %H:%M" if local.year == this_year else "%d-%m-%Y %H:%M"
    return local.strftime(fmt)


def render(request: Request, name: str, status_code: int = 200, **context):
    ctx = request.app.state.ctx
    principal = getattr(request.state, "principal", None)
    base = {"user": principal.user if principal else None,
            "csrf_token": principal.csrf_token if principal else None,
            "lang": i18n.current_language(), "brand": ctx.config.brand.name, "demo": ctx.demo,
            "tz": ctx.config.sla.timezone, "local_time": partial(local_time, now=ctx.now()),
            "target_minutes": ctx.config.sla.target_minutes,
            "warning_minutes": ctx.config.sla.warning_minutes, "clock": ctx.now}
    # A full page shows (and so uses up) the pending flash; the live fragments leave it alone.
    whole_page = not name.startswith("partials/")
    base["flash"] = read_flash(request) if whole_page else None
    response = request.app.state.templates.TemplateResponse(request, name, {**base, **context},
                                                            status_code=status_code)
    if whole_page:
        clear_flash(request, response)
    return response


def safe_next(target: str | None) -> str:
    """A redirect target from a form or query: same-site paths only, never another host."""
    return target if target and target.startswith("/") and not target.startswith("//") else "/"
