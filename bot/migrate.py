"""Running Alembic migrations from code (``serve`` migrates to head before it listens)."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config


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
    command.upgrade(alembic_config(database_url), "head")
