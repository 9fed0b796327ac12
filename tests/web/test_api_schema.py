"""The published API: every JSON route under /api declares what it returns (and its errors),
the schema at /api/openapi.json is valid OpenAPI 3 and lists every /api route, and it and its
page are for signed-in users only."""
from __future__ import annotations

import re

import pytest
from fastapi.responses import JSONResponse
from openapi_spec_validator import validate

from app.main import create_app
from tests.support.app import add_user, bearer
from tests.support.push import mention, push
from tests.support.routes import api_routes

pytestmark = pytest.mark.asyncio


def api_only(app) -> list[tuple[str, object]]:
    return [(path, route) for path, route in api_routes(app) if path.startswith("/api/")]


def answers_json(route) -> bool:
    response_class = route.response_class
    media_type = getattr(response_class, "media_type", None) or JSONResponse.media_type
    return media_type == "application/json"


async def test_every_json_route_under_api_declares_its_response_model_and_error_bodies(ctx):
    routes = api_only(create_app(ctx))
    assert len(routes) >= 25
    for path, route in routes:
        if not answers_json(route):
            continue
        assert route.response_model is not None, f"{path} declares no response model"
        errors = {status: spec for status, spec in route.responses.items() if int(status) >= 400}
        assert errors, f"{path} declares none of its error answers"
        for status, spec in errors.items():
            assert "model" in spec or "content" in spec, f"{path} {status} has no body described"


async def test_routes_that_do_not_answer_json_declare_their_media_type(ctx):
    media = {path: route.response_class.media_type for path, route in api_routes(create_app(ctx))
             if not answers_json(route)}
    assert media["/api/events"] == "text/event-stream"
    assert media["/api/reports/sla.csv"].startswith("text/csv")
    assert media["/api/reports/mentions.csv"].startswith("text/csv")
    assert media["/metrics"].startswith("text/plain")
    assert media["/api/docs"].startswith("text/html")


async def test_openapi_json_is_valid_and_lists_every_api_route(app_client, ctx):
    token = await add_user(ctx, "dev")
    r = await app_client.get("/api/openapi.json", headers=bearer(token))
    assert r.status_code == 200
    schema = r.json()
    validate(schema)  # raises on anything that is not OpenAPI 3
    listed = {(method.upper(), path) for path, item in schema["paths"].items() for method in item}
    served = {(method, path) for path, route in api_only(create_app(ctx)) for method in route.methods
              if method != "HEAD"}
    assert {op for op in listed if op[1].startswith("/api/")} == served
    queue = schema["paths"]["/api/queue"]["get"]["responses"]
    assert queue["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/QueueOut"}
    assert queue["401"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorOut"}
    # Errors stay JSON where the route itself answers CSV.
    csv = schema["paths"]["/api/reports/sla.csv"]["get"]["responses"]
    assert set(csv["200"]["content"]) == {"text/csv; charset=utf-8"}
    assert set(csv["422"]["content"]) == {"application/json"}
    item = schema["components"]["schemas"]["QueueItem"]["properties"]
    contract = {"id", "source", "channel", "external_id", "url", "author", "author_name", "text", "language",
                "category", "posted_at", "due_at", "seconds_left", "clock_running", "sla_state", "status",
                "claimed_by"}
    assert contract <= set(item)


async def test_the_schema_describes_exactly_what_the_queue_and_a_mention_send(app_client, ctx):
    """The response models forbid unknown fields, so a field the route sends but the schema
    does not list would fail here (500) instead of disappearing."""
    await push(app_client, [mention("s1", 70, channel="mastodon"), mention("s2", 5, channel="mastodon")])
    h = bearer(await add_user(ctx, "dev"))
    schema = (await app_client.get("/api/openapi.json", headers=h)).json()["components"]["schemas"]
    queue = (await app_client.get("/api/queue", headers=h)).json()
    assert set(queue["items"][0]) == set(schema["QueueItem"]["properties"])
    detail = (await app_client.get(f"/api/mentions/{queue['items'][0]['id']}", headers=h)).json()
    assert set(detail) == set(schema["MentionOut"]["properties"])
    assert detail["posted_at"].endswith("+00:00")  # timestamps as they always were written


async def test_schema_and_docs_refuse_anonymous_users(app_client):
    r = await app_client.get("/api/openapi.json")
    assert r.status_code == 401 and r.json()["detail"]
    docs = await app_client.get("/api/docs", follow_redirects=False)
    assert docs.status_code == 303 and docs.headers["location"] == "/login?next=/api/docs"


async def test_docs_page_lists_every_operation_and_needs_no_script(app_client, ctx):
    h = bearer(await add_user(ctx, "dev"))
    schema = (await app_client.get("/api/openapi.json", headers=h)).json()
    page = await app_client.get("/api/docs", headers=h)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    for path, item in schema["paths"].items():
        for method in item:
            assert f"{method.upper()} {path}" in page.text, f"{method} {path} missing from the docs page"
    assert "QueueOut" in page.text and "ErrorOut" in page.text and "seconds_left" in page.text
    # CSP-clean: only the app's own script file, no inline script or style, nothing from elsewhere.
    assert re.findall(r"<script[^>]*>", page.text) == ['<script src="/static/app.js">']
    assert " style=" not in page.text and "<style" not in page.text and "https://" not in page.text
