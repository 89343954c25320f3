"""The console script as an operator meets it: clear errors, and `serve` that migrates first."""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, inspect, text

from bot.devtools.slack_standin import SlackStandIn
from tests.support.databases import fresh_postgres_database
from tests.support.processes import cli_env, run_cli, running_serve

REPLICAS = 6


def test_serve_without_credentials_names_the_missing_variables_in_one_line(
    tmp_path: Path,
) -> None:
    result = run_cli("serve", env=cli_env(DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}"))

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET must be set" in lines[0]


def test_serve_without_a_signing_secret_names_only_that_variable(tmp_path: Path) -> None:
    result = run_cli(
        "serve",
        env=cli_env(SLACK_BOT_TOKEN="xoxb-1", DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}"),
    )

    assert result.returncode != 0
    assert "SLACK_SIGNING_SECRET must be set" in result.stderr
    assert "SLACK_BOT_TOKEN" not in result.stderr


def test_a_policy_file_with_an_unknown_key_stops_start_up_naming_key_and_line(
    tmp_path: Path,
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("nudges:\n  no_owner:\n    first: 1h\n    sometimes: 2h\n")

    result = run_cli(
        "serve",
        env=cli_env(
            SLACK_BOT_TOKEN="xoxb-1",
            SLACK_SIGNING_SECRET="s",
            DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
            POSTMORTEM_POLICY_FILE=str(policy),
        ),
    )

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "nudges.no_owner.sometimes (line 4)" in result.stderr


def test_a_port_already_in_use_is_one_line_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        database = tmp_path / "x.db"
        result = run_cli(
            "serve",
            env=cli_env(
                SLACK_BOT_TOKEN="xoxb-1",
                SLACK_SIGNING_SECRET="s",
                DATABASE_URL=f"sqlite:///{database}",
                HOST="127.0.0.1",
                PORT=str(port),
            ),
        )

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"postmortem-bot: cannot listen on 127.0.0.1:{port}: Address already in use; set PORT "
        "(or HOST) to a free address, or stop what is using it"
    ]
    assert not database.exists()  # nothing was migrated first


def test_migrate_brings_an_empty_database_to_head(empty_database: str) -> None:
    result = run_cli("migrate", env=cli_env(DATABASE_URL=empty_database))

    assert result.returncode == 0, result.stderr
    engine = create_engine(empty_database)
    assert "postmortems" in inspect(engine).get_table_names()
    engine.dispose()


def test_replicas_migrating_one_empty_postgresql_database_at_once_all_start() -> None:
    """Replicas deployed together each run the migrations first: they take turns, so none
    fails on the tables another is creating (PostgreSQL refused the second CREATE TYPE)."""
    with fresh_postgres_database() as empty_database:
        migrated_together(empty_database)


def migrated_together(empty_database: str) -> None:
    with ThreadPoolExecutor(REPLICAS) as pool:
        results = list(
            pool.map(
                lambda _: run_cli("migrate", env=cli_env(DATABASE_URL=empty_database)),
                range(REPLICAS),
            )
        )

    assert [r.returncode for r in results] == [0] * REPLICAS, [r.stderr for r in results]
    engine = create_engine(empty_database)
    with engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    engine.dispose()
    assert len(versions) == 1


def test_serve_migrates_then_answers_health_and_readiness(empty_database: str) -> None:
    with SlackStandIn() as slack:
        env = cli_env(
            SLACK_BOT_TOKEN="xoxb-1",
            SLACK_SIGNING_SECRET="secret",
            SLACK_API_URL=slack.url,
            DATABASE_URL=empty_database,
        )
        with running_serve(env, "--no-scheduler") as url:
            ready = httpx.get(f"{url}/readyz", timeout=5)

    assert ready.status_code == 200
    assert ready.json()["database"] == "reachable"
    engine = create_engine(empty_database)
    assert "outbox" in inspect(engine).get_table_names()
    engine.dispose()


@pytest.mark.parametrize(
    ("database_url", "said"),
    [
        ("bogus://x", "cannot use DATABASE_URL bogus://x: Can't load plugin"),
        ("sqlite:////nonexistent/folder/x.db", "unable to open database file"),
        ("mysql://bot:hunter2@127.0.0.1/x", "its driver is not installed (MySQLdb)"),
        ("postgresql+psycopg2://bot:hunter2@127.0.0.1/x", "use postgresql+psycopg://"),
        (
            "postgresql+psycopg://bot:hunter2@127.0.0.1:1/x",
            "cannot use DATABASE_URL postgresql+psycopg://bot:***@127.0.0.1:1/x",
        ),
    ],
)
def test_a_database_that_cannot_be_used_is_one_line_without_the_password(
    database_url: str, said: str
) -> None:
    result = run_cli("migrate", env=cli_env(DATABASE_URL=database_url))

    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert said in line
    assert "hunter2" not in line


def test_an_unknown_log_level_is_named_before_anything_starts(tmp_path: Path) -> None:
    result = run_cli(
        "migrate", env=cli_env(LOG_LEVEL="verbose", DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    )

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "postmortem-bot: invalid settings: LOG_LEVEL: Input should be 'DEBUG', 'INFO', "
        "'WARNING', 'ERROR' or 'CRITICAL'"
    ]


@pytest.mark.parametrize("variable", ["SLACK_API_URL", "PAGERDUTY_API_URL"])
def test_an_api_address_that_is_not_one_is_named_before_anything_starts(
    tmp_path: Path, variable: str
) -> None:
    result = run_cli(
        "migrate",
        env=cli_env(DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", **{variable: "notaurl"}),
    )

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"postmortem-bot: invalid settings: {variable}: Value error, 'notaurl' is not an "
        "http(s):// address"
    ]


@pytest.mark.parametrize("channel", ["#incidents", "incidents", "U0123ABCD"])
def test_a_default_channel_that_is_not_a_channel_id_is_named_before_anything_starts(
    tmp_path: Path, channel: str
) -> None:
    # A name would be stored as the channel, and no command run in the channel would ever
    # find its postmortems.
    env = cli_env(DEFAULT_CHANNEL=channel, DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")

    result = run_cli("migrate", env=env)

    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(
        f"postmortem-bot: invalid settings: DEFAULT_CHANNEL: Value error, '{channel}'"
    )
    assert "like C0123ABCD" in line
    assert not (tmp_path / "x.db").exists()


@pytest.mark.parametrize("port", ["99999", "-1", "http"])
def test_a_port_out_of_range_is_named_before_anything_starts(tmp_path: Path, port: str) -> None:
    env = cli_env(
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s",
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
        PORT=port,
    )

    from_env = run_cli("serve", env=env)
    from_flag = run_cli("serve", "--port", port, env=env | {"PORT": "3000"})

    for result in (from_env, from_flag):
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert "port" in result.stderr.lower()
    assert not (tmp_path / "x.db").exists()  # refused before migrating anything


def test_a_migrations_folder_that_is_not_one_is_named(tmp_path: Path) -> None:
    result = run_cli(
        "migrate",
        env=cli_env(
            DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
            POSTMORTEM_MIGRATIONS_DIR=str(tmp_path / "nowhere"),
        ),
    )

    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert f"POSTMORTEM_MIGRATIONS_DIR={tmp_path / 'nowhere'} has no migrations" in line
