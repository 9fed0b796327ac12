"""The project's own shape, checked: the layout rules that keep it easy to change (README,
"How it fits together") fail here the day someone breaks them."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from app.core.config import SourceConfig
from app.core.sources import BUILT_IN_KINDS, options_model, source_kinds
from connectors.registry import CONNECTORS, connector_class

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app"
ENTRY_POINTS = {"__init__.py", "main.py", "cli.py"}
MAX_MODULE_LINES = 400
OPEN_RULE_OWNER = APP / "mentions" / "queries.py"


def python_files(*folders: Path) -> list[Path]:
    return sorted(p for folder in folders for p in folder.rglob("*.py") if "migrations" not in p.parts)


def imported_modules(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_app_holds_only_entry_points_beside_its_capability_folders():
    loose = sorted(p.name for p in APP.glob("*.py") if p.name not in ENTRY_POINTS)
    assert loose == [], f"modules belong in a capability folder: {loose}"


@pytest.mark.parametrize("path", python_files(APP, ROOT / "connectors"), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_longer_than_the_limit(path: Path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.relative_to(ROOT)} has {lines} lines; split it by job"


@pytest.mark.parametrize("path", python_files(ROOT / "connectors"), ids=lambda p: p.name)
def test_connectors_import_nothing_from_the_app(path: Path):
    modules = imported_modules(ast.parse(path.read_text(encoding="utf-8")))
    assert not {m for m in modules if m == "app" or m.startswith("app.")}


def test_every_source_kind_has_a_connector_or_is_built_in():
    kinds = source_kinds()  # what SourceConfig accepts as `kind`
    for kind in kinds:
        assert (kind in CONNECTORS) != (kind in BUILT_IN_KINDS), f"kind {kind!r}: a connector or built in, once"
        if kind in CONNECTORS:
            assert connector_class(kind).kind == kind
        assert issubclass(options_model(kind), BaseModel), f"kind {kind!r} declares no options model"
    assert set(CONNECTORS) | set(BUILT_IN_KINDS) == set(kinds)
    with pytest.raises(ValidationError, match="unknown kind"):
        SourceConfig(name="s", kind="myspace")


def second_open_rules(source: str) -> list[str]:
    """Places in `source` that write the open-mention rule out again instead of importing it."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            values = {e.value for e in node.elts if isinstance(e, ast.Constant)}
            # every status listed (MENTION_STATUSES) is a vocabulary, not the rule
            if {"open", "claimed"} <= values and not {"answered", "dismissed"} & values:
                found.append(f"line {node.lineno}: a literal list of the open statuses")
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and "OPEN_STATUS" in t.id for t in targets):
                found.append(f"line {node.lineno}: a second OPEN_STATUSES")
        elif (isinstance(node, ast.Attribute) and node.attr == "in_" and isinstance(node.value, ast.Attribute)
              and node.value.attr == "status" and isinstance(node.value.value, ast.Name)
              and node.value.value.id == "Mention"):
            found.append(f"line {node.lineno}: Mention.status.in_(...) outside the rule's owner")
    return found


def test_the_checker_finds_a_second_open_rule():
    planted = 'OPEN_STATUSES = ("open", "claimed")\nq = Mention.status.in_(OPEN_STATUSES)\n'
    assert len(second_open_rules(planted)) == 3
    assert second_open_rules("from app.mentions.queries import waiting_inbound\nq = waiting_inbound()\n") == []


@pytest.mark.parametrize("path", [p for p in python_files(APP) if p != OPEN_RULE_OWNER],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_the_open_mention_rule_is_defined_once(path: Path):
    assert second_open_rules(path.read_text(encoding="utf-8")) == [], \
        "import open_status / is_open / waiting_inbound from app/mentions/queries.py"


@pytest.mark.parametrize("path", python_files(ROOT / "tests", ROOT / "bench"), ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_imports_a_conftest(path: Path):
    modules = imported_modules(ast.parse(path.read_text(encoding="utf-8")))
    assert not {m for m in modules if m.split(".")[-1] == "conftest"}, "shared helpers live in tests/support/"


def http_exception_uses(source: str) -> list[str]:
    """Places in `source` that import or name an HTTPException (FastAPI's or Starlette's)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and any(a.name == "HTTPException" for a in node.names):
            found.append(f"line {node.lineno}: imports HTTPException from {node.module}")
        elif isinstance(node, ast.Attribute) and node.attr == "HTTPException":
            found.append(f"line {node.lineno}: uses {ast.unparse(node)}")
    return found


def speaks_http(path: Path) -> bool:
    """The HTTP layer: app/web/ and the capabilities' route and page modules."""
    return "web" in path.relative_to(APP).parts[:1] or path.name.endswith(("routes.py", "pages.py"))


def test_the_checker_finds_an_http_exception():
    planted = ("from fastapi import Depends, HTTPException\n"
               "import starlette\nraise starlette.exceptions.HTTPException(404)\n")
    assert len(http_exception_uses(planted)) == 2
    assert http_exception_uses("from app.core.errors import NotFound\nraise NotFound('no such mention')\n") == []
    assert speaks_http(APP / "web" / "deps.py") and speaks_http(APP / "mentions" / "compose_routes.py")
    assert not speaks_http(APP / "mentions" / "saved_texts.py")


@pytest.mark.parametrize("path", [p for p in python_files(APP) if not speaks_http(p)],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_services_raise_domain_errors_not_http_exceptions(path: Path):
    assert http_exception_uses(path.read_text(encoding="utf-8")) == [], \
        "raise an error from app/core/errors.py; app/web/errors.py turns it into HTTP"


def _unbounded_ids(app) -> list[str]:
    """Routes whose `…_id` path parameter is a plain int: an id past int4 would reach the
    database and fail there (a 500 on PostgreSQL) instead of answering 422 or 404."""
    from annotated_types import Le
    from fastapi.routing import APIRoute

    found = []
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        for param in route.dependant.path_params:
            if param.name.endswith("_id") and not any(isinstance(m, Le) for m in param.field_info.metadata):
                found.append(f"{route.path} {param.name}")
    return found


def test_the_checker_finds_an_unbounded_id():
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/things/{thing_id}")
    async def thing(thing_id: int):  # pragma: no cover - only inspected
        return {}
    assert _unbounded_ids(app) == ["/things/{thing_id} thing_id"]


def test_every_path_id_is_bounded(tmp_path):
    """`app.core.bounds.RowId` for every `…_id` in a path (schemathesis finds the rest at random)."""
    from app.core.config import Settings
    from app.core.context import AppContext
    from app.core.db import Database
    from app.main import create_app
    from tests.support.app import make_config

    ctx = AppContext(settings=Settings(data_dir=tmp_path), config=make_config(tmp_path),
                     db=Database(f"sqlite+aiosqlite:///{tmp_path}/c.db"), secret_key="x" * 40)
    assert _unbounded_ids(create_app(ctx)) == []
