"""Fresh, migrated databases for tests: a SQLite file, or the PostgreSQL from TEST_POSTGRES_URL."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

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
    name = f"pmbot_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class MigratedTemplates:
    """Migrate once per session, then hand each test a copy (SQLite) or a clone (PostgreSQL)."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._sqlite_template: Path | None = None
        self._pg_template: str | None = None
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
        if self._pg_template is None:
            self._pg_template = f"pmbot_test_{uuid.uuid4().hex[:8]}"
            admin = create_engine(server, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{self._pg_template}"'))
            admin.dispose()
            self._pg_url = (
                make_url(server)
                .set(database=self._pg_template)
                .render_as_string(hide_password=False)
            )
            upgrade_to_head(self._pg_url)
        engine = create_engine(self._pg_url)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        yield self._pg_url

    def drop(self) -> None:
        server = postgres_server_url() if self._pg_template else None
        if server is None or self._pg_template is None:
            return
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self._pg_template}" WITH (FORCE)'))
        admin.dispose()
