"""Running Alembic migrations from code (``serve`` migrates to head before it listens)."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bot.config import DatabaseUnusableError


def migrations_dir() -> Path:
    """``migrations/`` beside the package (a checkout), else in the working directory (image)."""
    candidates = [
        Path(os.environ.get("POSTMORTEM_MIGRATIONS_DIR", "")),
        Path(__file__).resolve().parent.parent / "migrations",
        Path.cwd() / "migrations",
    ]
    for candidate in candidates:
        if str(candidate) not in ("", ".") and (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError("cannot find the migrations/ folder (set POSTMORTEM_MIGRATIONS_DIR)")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logger"] = False
    return config


def upgrade_to_head(database_url: str) -> None:
    try:
        command.upgrade(alembic_config(database_url), "head")
    except SQLAlchemyError as error:
        # The driver's first line says what is wrong (unknown dialect, no such host, a
        # folder that does not exist); the rest is a stack an operator does not need.
        reason = str(error).strip().splitlines()[0]
        raise DatabaseUnusableError(
            f"cannot use DATABASE_URL {_shown(database_url)}: {reason}"
        ) from error


def _shown(database_url: str) -> str:
    """The URL without its password, fit for a log line."""
    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable)"
