"""Walking the app's routes (FastAPI keeps included routers nested, with their prefix apart)."""
from __future__ import annotations

from fastapi.routing import APIRoute
from starlette.routing import Mount


def api_routes(app, prefix: str = "") -> list[tuple[str, APIRoute]]:
    """Every APIRoute with its full path; only /static is mounted beside them."""
    found = []
    for route in app.routes:
        if isinstance(route, APIRoute):
            found.append((prefix + route.path, route))
        elif hasattr(route, "original_router"):  # FastAPI's included routers, newer versions
            found += api_routes(route.original_router, prefix + route.include_context.prefix)
        else:
            assert isinstance(route, Mount) and route.path == "/static", f"unexpected route {route}"
    return found


def all_routes(app) -> list[tuple[str, str]]:
    """(method, full path) of every route, HEAD left out."""
    return [(m, path) for path, route in api_routes(app) for m in sorted(route.methods) if m != "HEAD"]
