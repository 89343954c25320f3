"""Models and migrations never drift: upgrade to head, then `alembic check`, on both databases."""

from __future__ import annotations

import re

from alembic import command
from sqlalchemy import create_engine, inspect, text

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


def partial_indexes(url: str) -> dict[str, str]:
    """Each partial index's definition as the database stores it (`alembic check` compares
    indexed columns, not their WHERE clauses)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                rows = connection.execute(text("SELECT indexname, indexdef FROM pg_indexes"))
            else:
                rows = connection.execute(
                    text("SELECT name, sql FROM sqlite_master WHERE type = 'index'")
                )
            return {name: sql for name, sql in rows if sql and " WHERE " in sql.upper()}
    finally:
        engine.dispose()


def test_the_partial_indexes_keep_their_conditions(empty_database: str) -> None:
    upgrade_to_head(empty_database)

    found = partial_indexes(empty_database)

    # PostgreSQL writes it back its own way: "WHERE ((status)::text = 'pending'::text)".
    assert re.search(r"status\)?(::text)? = 'pending'", found["ix_outbox_pending_due"])
    assert re.search(r"done_at IS NULL", found["ix_action_items_open_by_owner"])


def test_every_migration_downgrades_and_upgrades_again(empty_database: str) -> None:
    config = alembic_config(empty_database)
    upgrade_to_head(empty_database)

    command.downgrade(config, "base")
    command.upgrade(config, "head")

    command.check(config)
