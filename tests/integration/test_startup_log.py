"""What `serve` logs while starting: nothing that would send an operator looking for a fault."""

from __future__ import annotations

import logging

import pytest
from starlette.testclient import TestClient

from bot.bootstrap import build_runtime
from bot.devtools.slack_standin import SlackStandIn
from tests.conftest import BotFactory, make_settings
from tests.support.waiting import wait_until


def test_starting_with_the_bot_token_in_the_environment_warns_of_no_unused_token(
    make_bot: BotFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Bolt reads SLACK_BOT_TOKEN by itself; the bot hands it a client built from that token.
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-the-environment")

    with caplog.at_level(logging.WARNING):
        make_bot()

    assert [r.getMessage() for r in caplog.records if r.name.startswith("slack_bolt")] == []


def test_an_unreachable_database_is_one_line_per_readiness_probe_not_a_stack_trace(
    slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = build_runtime(
        make_settings("postgresql+psycopg://bot:hunter2@127.0.0.1:1/postmortems", slack)
    )
    try:
        with TestClient(runtime.web_app) as client, caplog.at_level(logging.WARNING):
            answer = client.get("/readyz")
    finally:
        runtime.stop()

    assert answer.status_code == 503
    [said] = [r for r in caplog.records if "readiness" in r.getMessage()]
    assert said.exc_info is None
    assert "\n" not in said.getMessage()
    assert "hunter2" not in said.getMessage()


def test_a_database_outage_is_logged_in_full_once_then_one_line_per_retry(
    slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = build_runtime(
        make_settings(
            "postgresql+psycopg://bot:hunter2@127.0.0.1:1/postmortems",
            slack,
            dispatch_interval_seconds=0.05,
        )
    )
    try:
        with caplog.at_level(logging.INFO):
            runtime.start_background()
            wait_until(lambda: len(failures(caplog)) >= 6, timeout=20)
    finally:
        runtime.stop()

    said = failures(caplog)
    for who in ("outbox pump", "periodic dispatch"):
        theirs = [r for r in said if r.getMessage().startswith(who)]
        # In full the first time; then one line each, saying it is the same failure.
        assert [bool(r.exc_info) for r in theirs[:1]] in ([], [True])
        assert not [r for r in theirs[1:] if r.exc_info], who
        assert all("still failing (OperationalError" in r.getMessage() for r in theirs[1:])
    apscheduler_errors = [
        r for r in caplog.records if r.name.startswith("apscheduler") and r.levelno >= logging.ERROR
    ]
    assert apscheduler_errors == []


def failures(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "dispatch" in r.getMessage() and "fail" in r.getMessage()]
