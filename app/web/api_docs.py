"""The published API: its OpenAPI schema at /api/openapi.json and a readable page of it at
/api/docs, both for signed-in users. The page is drawn on the server from the schema (no
script, nothing from elsewhere), so it works under the strict Content-Security-Policy."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.web.deps import ApiUser, PageUser
from app.web.rendering import render
from app.web.schemas import errors

router = APIRouter(prefix="/api", tags=["api"])
METHODS = ("get", "post", "put", "patch", "delete")


def type_of(schema: dict[str, Any]) -> str:
    """A schema fragment as a short type: `QueueItem`, `list of int`, `str | null`, `one of ok, warning`."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema or "oneOf" in schema:
        return " | ".join(type_of(s) for s in schema.get("anyOf") or schema["oneOf"])
    if "enum" in schema:
        return "one of " + ", ".join(map(str, schema["enum"]))
    if "const" in schema:
        return repr(schema["const"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {type_of(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map of {type_of(schema['additionalProperties'])}"
    return f"{kind} ({schema['format']})" if "format" in schema else kind


def _operation(method: str, path: str, op: dict[str, Any]) -> dict[str, Any]:
    body = op.get("requestBody", {}).get("content", {})
    responses = []
    for status, response in op.get("responses", {}).items():
        content = response.get("content", {})
        shown = [f"{media}: {type_of(c.get('schema', {}))}" for media, c in content.items()]
        responses.append({"status": status, "description": response.get("description", ""), "content": shown})
    return {"method": method.upper(), "path": path, "id": op.get("operationId", f"{method}-{path}"),
            "summary": op.get("summary", ""), "description": op.get("description", ""),
            "parameters": [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                            "type": type_of(p.get("schema", {}))} for p in op.get("parameters", [])],
            "body": [f"{media}: {type_of(c.get('schema', {}))}" for media, c in body.items()],
            "responses": responses}


def docs_view(schema: dict[str, Any]) -> dict[str, Any]:
    """Every operation (method, path, summary, parameters, body, responses) and every model."""
    operations = [_operation(method, path, item[method]) for path, item in schema["paths"].items()
                  for method in METHODS if method in item]
    models = []
    for name, model in sorted(schema.get("components", {}).get("schemas", {}).items()):
        required = set(model.get("required", ()))
        models.append({"name": name, "description": model.get("description", ""),
                       "fields": [{"name": field, "type": type_of(spec), "required": field in required,
                                   "description": spec.get("description", "")}
                                  for field, spec in model.get("properties", {}).items()]})
    return {"info": schema["info"], "operations": operations, "models": models}


@router.get("/openapi.json", response_model=dict[str, Any], responses=errors())
async def openapi_schema(request: Request, user: ApiUser):
    """This API's OpenAPI 3 schema: every route, its parameters, bodies and response models."""
    return request.app.openapi()


@router.get("/docs", response_class=HTMLResponse, responses={303: {"description": "not signed in: to /login"}})
async def docs_page(request: Request, user: PageUser):
    """The schema as a page people can read."""
    return render(request, "api_docs.html", **docs_view(request.app.openapi()))
