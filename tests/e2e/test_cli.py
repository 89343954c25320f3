"""The console script as an operator meets it: clear errors, and `serve` that migrates first."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, inspect

from bot.devtools.slack_standin import SlackStandIn
from tests.support.databases import fresh_postgres_database


def run_cli(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


NEUTRAL_DIRECTORY = Path(__file__).parent


def base_env(**extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    return keep | extra


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'serve.db'}"
    else:
        with fresh_postgres_database() as url:
            yield url


def test_serve_without_credentials_names_the_missing_variables_in_one_line(
    tmp_path: Path,
) -> None:
    result = run_cli("serve", env=base_env(DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}"))

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET must be set" in lines[0]


def test_serve_without_a_signing_secret_names_only_that_variable(tmp_path: Path) -> None:
    result = run_cli(
        "serve",
        env=base_env(SLACK_BOT_TOKEN="xoxb-1", DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}"),
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
        env=base_env(
            SLACK_BOT_TOKEN="xoxb-1",
            SLACK_SIGNING_SECRET="s",
            DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
            POSTMORTEM_POLICY_FILE=str(policy),
        ),
    )

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "nudges.no_owner.sometimes (line 4)" in result.stderr


def test_migrate_brings_an_empty_database_to_head(empty_database: str) -> None:
    result = run_cli("migrate", env=base_env(DATABASE_URL=empty_database))

    assert result.returncode == 0, result.stderr
    engine = create_engine(empty_database)
    assert "postmortems" in inspect(engine).get_table_names()
    engine.dispose()


def test_serve_migrates_then_answers_health_and_readiness(empty_database: str) -> None:
    port = free_port()
    with SlackStandIn() as slack:
        env = base_env(
            SLACK_BOT_TOKEN="xoxb-1",
            SLACK_SIGNING_SECRET="secret",
            SLACK_API_URL=slack.url,
            DATABASE_URL=empty_database,
            PORT=str(port),
            HOST="127.0.0.1",
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--no-scheduler"],
            env=env,
            cwd=NEUTRAL_DIRECTORY,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            health = None
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            assert health is not None, process.stderr.read() if process.stderr else ""
            assert health.status_code == 200
            ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
            assert ready.status_code == 200
            assert ready.json()["database"] == "reachable"
            engine = create_engine(empty_database)
            assert "outbox" in inspect(engine).get_table_names()
            engine.dispose()
        finally:
            process.terminate()
            process.wait(timeout=10)
