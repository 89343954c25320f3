"""Fixtures for integration tests: the whole runtime, wired as in production, pump stopped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.bootstrap import Runtime, build_runtime
from bot.devtools.slack_standin import SlackStandIn
from tests.conftest import make_settings
from tests.support.clock import FakeClock


@pytest.fixture
def runtime(database_url: str, slack: SlackStandIn, clock: FakeClock) -> Iterator[Runtime]:
    """Built but not started: a test starts the pump itself when it wants one."""
    built = build_runtime(make_settings(database_url, slack), clock=clock)
    try:
        yield built
    finally:
        built.stop()
