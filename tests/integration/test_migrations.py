"""Models and migrations never drift: upgrade to head, then `alembic check`, on both databases."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect

from bot.migrate import alembic_config, upgrade_to_head


def test_upgrade_to_head_creates_every_table_and_matches_the_models(empty_database: str) -> None:
    upgrade_to_head(empty_database)

    command.check(alembic_config(empty_database))  # raises if models and migrations differ
    engine = create_engine(empty_database)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"postmortems", "audit_events", "outbox", "processed_deliveries"} <= tables


def test_upgrading_twice_is_harmless(empty_database: str) -> None:
    upgrade_to_head(empty_database)
    upgrade_to_head(empty_database)
