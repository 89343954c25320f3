"""Running Alembic migrations from code (``serve`` migrates to head before it listens)."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bot.config import DatabaseUnusableError, MigrationsNotFoundError


def migrations_dir() -> Path:
    """POSTMORTEM_MIGRATIONS_DIR if set; else ``migrations/`` beside the package (a checkout)
    or in the working directory (the image)."""
    configured = os.environ.get("POSTMORTEM_MIGRATIONS_DIR", "").strip()
    if configured:
        if not (Path(configured) / "env.py").is_file():
            raise MigrationsNotFoundError(
                f"POSTMORTEM_MIGRATIONS_DIR={configured} has no migrations (no env.py there): "
                "point it at the project's migrations/ folder"
            )
        return Path(configured)
    for candidate in (
        Path(__file__).resolve().parent.parent / "migrations",
        Path.cwd() / "migrations",
    ):
        if (candidate / "env.py").is_file():
            return candidate
    raise MigrationsNotFoundError(
        "cannot find the migrations/ folder (looked beside the package and in "
        f"{Path.cwd()}): run from the project folder or set POSTMORTEM_MIGRATIONS_DIR"
    )


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
    except ImportError as error:
        # e.g. postgresql+psycopg2:// or mysql:// — a driver this project does not install.
        raise DatabaseUnusableError(
            f"cannot use DATABASE_URL {_shown(database_url)}: its driver is not installed "
            f"({error.name or error}); use postgresql+psycopg://… or sqlite:///…"
        ) from error


def _shown(database_url: str) -> str:
    """The URL without its password, fit for a log line."""
    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable)"
