"""What every API schema shares: the base of response models, timestamps as the API writes
them, and the error body with the statuses a route can answer besides its success."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

# The API writes timestamps with Python's isoformat() (UTC as "+00:00"); typed as text so
# validation keeps them byte for byte, described as date-time for the schema's readers.
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class Out(BaseModel):
    """A response model: a field the route returns but the model does not name is an error,
    not silently dropped, so the published schema stays exactly what clients get."""
    model_config = ConfigDict(extra="forbid")


def json_once(model: type[Out], data: Any) -> Response:
    """`data` checked against its response model and written as JSON in one pass by pydantic's
    own serializer. Returned as is, FastAPI would validate it, walk the result again with
    jsonable_encoder and then json.dumps it: on a busy route that walk cost more than the SQL.
    The route keeps `response_model=` for the published schema."""
    return Response(model.model_validate(data).model_dump_json(), media_type="application/json")


class ValidationIssue(BaseModel):
    """One problem FastAPI found in the request before any service ran."""
    model_config = ConfigDict(extra="allow")

    loc: list[str | int]
    msg: str
    type: str


class ErrorOut(BaseModel):
    """A refusal: what went wrong in plain words, or, for a request that did not parse, each
    problem found. Some errors add fields beside `detail` (the push's `errors`)."""
    model_config = ConfigDict(extra="allow")

    detail: str | list[ValidationIssue]


# Every signed-in API route can answer these.
AUTH_STATUSES = (401, 403)
DESCRIPTIONS = {401: "no login session or API token (the push: a bad or stale signature)",
                403: "the wrong role, or a cookie-authenticated write without its CSRF token",
                404: "not found", 409: "the mention (or promise) is not in a state that allows this",
                413: "too large", 422: "invalid input",
                502: "posting into the channel failed (AI drafts: the model server failed)",
                503: "a needed service or secret is missing",
                504: "the model server did not answer in time"}


def errors(*statuses: int, signed_in: bool = True, json_route: bool = True,
           **models: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the error statuses it answers besides the refusals every
    signed-in route has, each with the shared ErrorOut (or a model given as `s422=...`).
    Errors are JSON even where the route answers CSV or a stream (`json_route=False`)."""
    answer: dict[int | str, dict[str, Any]] = {}
    for status in (*AUTH_STATUSES, *statuses) if signed_in else statuses:
        model = models.get(f"s{status}", ErrorOut)
        if json_route:
            answer[status] = {"model": model, "description": DESCRIPTIONS[status]}
        else:  # FastAPI would file a model under the route's own media type
            schema = {"$ref": f"#/components/schemas/{model.__name__}"}
            answer[status] = {"description": DESCRIPTIONS[status], "content": {"application/json": {"schema": schema}}}
    return answer
