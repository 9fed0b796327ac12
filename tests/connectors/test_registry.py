"""The project checks itself: every connector is registered, satisfies the Protocol, and has a
test module that runs the conformance suite against its fake."""
from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import httpx
import pytest
from pydantic import BaseModel

import connectors
from app.core.config import SourceConfig
from app.core.sources import options_model
from connectors.base import Capabilities
from connectors.registry import CONNECTORS, build_connector, connector_class
from tests.support.connectors.conformance import ConnectorConformance
from tests.support.connectors.verify_conformance import VerifyConformance

TESTS = Path(__file__).parent


def connector_classes_in_package() -> dict[str, type]:
    """kind -> class for every class in connectors/ that looks like a connector."""
    found: dict[str, type] = {}
    for module_info in pkgutil.iter_modules(connectors.__path__):
        module = importlib.import_module(f"connectors.{module_info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (cls.__module__ == module.__name__ and isinstance(getattr(cls, "kind", None), str)
                    and callable(getattr(cls, "fetch", None))):
                found[cls.kind] = cls
    return found


def test_every_connector_in_the_package_is_registered() -> None:
    unregistered = set(connector_classes_in_package()) - set(CONNECTORS)
    assert not unregistered, f"add to connectors/registry.py CONNECTORS: {sorted(unregistered)}"


@pytest.mark.parametrize("kind", sorted(CONNECTORS))
def test_registered_class_satisfies_the_protocol(kind) -> None:
    cls = connector_class(kind)
    assert cls.kind == kind
    assert isinstance(cls.capabilities, Capabilities)
    assert inspect.iscoroutinefunction(cls.fetch) and inspect.iscoroutinefunction(cls.reply)
    assert list(inspect.signature(cls.__init__).parameters)[1:3] == ["source", "client"]
    assert "since" in inspect.signature(cls.fetch).parameters


@pytest.mark.parametrize("kind", sorted(CONNECTORS))
def test_registered_class_declares_the_options_the_config_loader_reads(kind) -> None:
    options = connector_class(kind).options
    assert issubclass(options, BaseModel) and options_model(kind) is options
    assert options.model_config.get("extra") == "forbid" and options.model_config.get("frozen")
    assert not set(options.model_fields) & set(SourceConfig.model_fields), "common keys belong to SourceConfig"
    assert set(connector_class(kind).capabilities.credentials) <= set(options.model_fields)
    # What a connector reads is checked against these fields by the conformance suite
    # (test_reads_what_its_options_declare), which the next test makes every kind run.


@pytest.mark.parametrize("kind", sorted(CONNECTORS))
def test_registered_kind_has_a_conformance_test_module(kind) -> None:
    path = TESTS / f"test_{kind}.py"
    assert path.exists(), f"{path.relative_to(TESTS.parent.parent)} is missing: every connector needs one"
    module = importlib.import_module(f"tests.connectors.test_{kind}")
    suites = [cls for _, cls in inspect.getmembers(module, inspect.isclass)
              if issubclass(cls, ConnectorConformance) and cls is not ConnectorConformance
              and cls.__name__.startswith("Test")]
    assert suites, f"tests/connectors/test_{kind}.py must define a Test… subclass of ConnectorConformance"


@pytest.mark.parametrize("kind", sorted(CONNECTORS))
def test_a_connector_that_verifies_runs_the_verify_suite(kind) -> None:
    cls = connector_class(kind)
    if not cls.capabilities.verify_batch:
        return  # verify is optional
    assert inspect.iscoroutinefunction(getattr(cls, "verify", None)), f"{kind} declares verify_batch but has no verify"
    module = importlib.import_module(f"tests.connectors.test_{kind}")
    suites = [c for _, c in inspect.getmembers(module, inspect.isclass)
              if issubclass(c, VerifyConformance) and c is not VerifyConformance and c.__name__.startswith("Test")]
    assert suites, f"tests/connectors/test_{kind}.py must define a Test… subclass of VerifyConformance"


def test_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="mastodon"):
        connector_class("myspace")


@pytest.mark.asyncio
async def test_build_connector_passes_source_and_client() -> None:
    async with httpx.AsyncClient() as client:
        connector = build_connector({"name": "m", "kind": "mastodon", "base_url": "https://social.example",
                                     "hashtags": ["acme"]}, client)
    assert connector.kind == "mastodon" and connector.client is client
