"""Alembic environment: the URL comes from the app's settings, the schema from its models."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection, text

from bot.config import load_settings
from bot.persistence.db import create_db_engine
from bot.persistence.tables import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata

# Replicas deployed together each migrate before serving. On PostgreSQL every migration runs
# in one transaction, and this lock (held until it commits) makes them take turns: the next
# one then finds the schema at head and does nothing, instead of failing on a table or type
# the first is creating. (SQLite is for one process.)
MIGRATION_LOCK_KEY = 7_402_319_118


def _run_in_turn(connection: Connection) -> None:
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        context.run_migrations()


def _url() -> str:
    return str(config.attributes.get("database_url") or load_settings().database_url)


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        _run_in_turn(connection)
        return
    engine = create_db_engine(_url())
    with engine.connect() as connection:
        _configure(connection)
        _run_in_turn(connection)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
