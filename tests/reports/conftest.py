"""The report tests' fixtures: a context for the fixture week (tests/support/report_week.py)."""
from __future__ import annotations

import pytest_asyncio

from app.core.config import Settings
from app.core.context import AppContext
from app.core.db import Database
from tests.support.app import make_config
from tests.support.report_week import NOW, REPORT_TOML, Week, build_week


@pytest_asyncio.fixture
async def ctx(db_url, tmp_path, push_secret):
    """The shared `ctx`, with the fixture week's team settings and clock."""
    context = AppContext(settings=Settings(data_dir=tmp_path), config=make_config(tmp_path, REPORT_TOML),
                         db=Database(db_url), secret_key="x" * 40, clock=lambda: NOW)
    yield context
    await context.db.dispose()


@pytest_asyncio.fixture
async def week(ctx) -> Week:
    return await build_week(ctx)
