"""What `serve` logs while starting: nothing that would send an operator looking for a fault."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import BotFactory


def test_starting_with_the_bot_token_in_the_environment_warns_of_no_unused_token(
    make_bot: BotFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Bolt reads SLACK_BOT_TOKEN by itself; the bot hands it a client built from that token.
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-the-environment")

    with caplog.at_level(logging.WARNING):
        make_bot()

    assert [r.getMessage() for r in caplog.records if r.name.startswith("slack_bolt")] == []
