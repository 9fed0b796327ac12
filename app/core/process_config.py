"""The config sections about running processes rather than the product: `[database]` (the
connection pool) and `[worker]` (how workers share sources). Read by app/core/config.py."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DatabaseSection(BaseModel):
    """`[database]`: PostgreSQL's connection pool per process (SQLite opens what it needs).
    Each `webcare` process holds at most pool_size + max_overflow connections, plus one for
    LISTEN in a web process: keep their sum over all processes below the server's
    max_connections."""
    model_config = ConfigDict(extra="forbid", frozen=True)

    pool_size: int = Field(10, ge=1, le=1000)
    max_overflow: int = Field(10, ge=0, le=1000)
    pool_timeout_seconds: float = Field(30.0, gt=0, le=600)   # waiting for a free connection


class WorkerSection(BaseModel):
    """`[worker]`: how workers share sources. A worker holds a source's lease while it polls and
    renews it every lease_seconds / 4; when a worker dies, another takes the source over as
    soon as the lease runs out, at most lease_seconds later."""
    model_config = ConfigDict(extra="forbid", frozen=True)

    lease_seconds: int = Field(20, ge=5, le=300)
