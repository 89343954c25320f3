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

    def sqlite(self, target: Path) -> str:
        if self._sqlite_template is None:
            self._sqlite_template = self._workdir / "template.db"
            upgrade_to_head(f"sqlite:///{self._sqlite_template}")
        shutil.copyfile(self._sqlite_template, target)
        return f"sqlite:///{target}"

    @contextmanager
    def postgres(self) -> Iterator[str]:
        server = postgres_server_url()
        if server is None:
            pytest.skip("PostgreSQL tests need TEST_POSTGRES_URL (make test starts one)")
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        if self._pg_template is None:
            self._pg_template = f"pmbot_template_{uuid.uuid4().hex[:8]}"
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{self._pg_template}"'))
            template_url = make_url(server).set(database=self._pg_template)
            upgrade_to_head(template_url.render_as_string(hide_password=False))
        name = f"pmbot_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self._pg_template}"'))
        try:
            yield make_url(server).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

    def drop(self) -> None:
        server = postgres_server_url() if self._pg_template else None
        if server is None or self._pg_template is None:
            return
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self._pg_template}" WITH (FORCE)'))
        admin.dispose()
