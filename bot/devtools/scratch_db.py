"""Throwaway PostgreSQL databases on a server (tests and benchmarks create and drop them)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, make_url, text


def create_database(server_url: str, prefix: str) -> str:
    """Create an empty database with a unique name on ``server_url``; return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    _run(server_url, f'CREATE DATABASE "{name}"')
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(database_url: str) -> None:
    """Drop the database ``database_url`` names, disconnecting anyone still using it."""
    url = make_url(database_url)
    _run(database_url, f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)', admin=True)


@contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[str]:
    """An empty database for the duration of the block."""
    database_url = create_database(server_url, prefix)
    try:
        yield database_url
    finally:
        drop_database(database_url)


def _run(url: str, statement: str, *, admin: bool = False) -> None:
    # DROP DATABASE cannot run while connected to that database: use the maintenance one.
    target = make_url(url).set(database="postgres") if admin else make_url(url)
    engine = create_engine(target, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()
