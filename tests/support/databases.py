"""Fresh, migrated databases for tests: a SQLite file, or the PostgreSQL from TEST_POSTGRES_URL."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.devtools.scratch_db import create_database, drop_database, scratch_database
from bot.migrate import upgrade_to_head
from bot.persistence.tables import Base

BACKENDS = ("sqlite", "postgresql")


def postgres_server_url() -> str | None:
    url = os.environ.get("TEST_POSTGRES_URL")
    if url:
        return url
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail("REQUIRE_POSTGRES=1 but TEST_POSTGRES_URL is not set")
    return None


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty database on the test server, dropped afterwards."""
    server = postgres_server_url()
    if server is None:
        pytest.skip("PostgreSQL tests need TEST_POSTGRES_URL (make test starts one)")
    with scratch_database(server, "pmbot") as url:
        yield url


class MigratedTemplates:
    """Migrate once per session, then hand each test a copy (SQLite) or a clone (PostgreSQL)."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._sqlite_template: Path | None = None
        self._pg_url = ""

    def sqlite(self, target: Path) -> str:
        if self._sqlite_template is None:
            self._sqlite_template = self._workdir / "template.db"
            upgrade_to_head(f"sqlite:///{self._sqlite_template}")
        shutil.copyfile(self._sqlite_template, target)
        return f"sqlite:///{target}"

    @contextmanager
    def postgres(self) -> Iterator[str]:
        """One migrated database per session, emptied before each test (much faster than
        CREATE DATABASE, which checkpoints)."""
        server = postgres_server_url()
        if server is None:
            pytest.skip("PostgreSQL tests need TEST_POSTGRES_URL (make test starts one)")
        if not self._pg_url:
            self._pg_url = create_database(server, "pmbot_test")
            upgrade_to_head(self._pg_url)
        engine = create_engine(self._pg_url)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        yield self._pg_url

    def drop(self) -> None:
        if self._pg_url:
            drop_database(self._pg_url)
