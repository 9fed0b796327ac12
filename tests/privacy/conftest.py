"""The privacy tests' context: the fixture week's team settings and clock
(tests/support/report_week.py), so figures before and after a purge can be compared."""
from __future__ import annotations

import pytest_asyncio

from app.core.config import Settings
from app.core.context import AppContext
from app.core.db import Database
from tests.support.app import make_config
from tests.support.report_week import NOW, REPORT_TOML


@pytest_asyncio.fixture
async def ctx(db_url, tmp_path, push_secret):
    context = AppContext(settings=Settings(data_dir=tmp_path), config=make_config(tmp_path, REPORT_TOML),
                         db=Database(db_url), secret_key="x" * 40, clock=lambda: NOW)
    yield context
    await context.db.dispose()
