"""Shared fixtures: every database test runs on SQLite and PostgreSQL; Slack is a local stand-in."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from bot.bootstrap import Runtime, build_runtime
from bot.config import Settings, load_settings
from bot.devtools.live_server import LiveServer
from bot.devtools.slack_standin import SlackStandIn
from bot.persistence.tables import OutboxRow
from tests.support.clock import FakeClock
from tests.support.databases import BACKENDS, MigratedTemplates, fresh_postgres_database
from tests.support.slack_user import SlackUser

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-standin-token"


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedTemplates]:
    migrated = MigratedTemplates(tmp_path_factory.mktemp("templates"))
    yield migrated
    migrated.drop()


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, templates: MigratedTemplates, tmp_path: Path
) -> Iterator[str]:
    """A fresh migrated database: the test runs once on each backend."""
    if request.param == "sqlite":
        yield templates.sqlite(tmp_path / "bot.db")
    else:
        with templates.postgres() as url:
            yield url


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables yet (for migrations and `serve`), on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        with fresh_postgres_database() as url:
            yield url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        yield standin


def make_settings(database_url: str, slack: SlackStandIn, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack.url,
        "database_url": database_url,
        "dispatch_interval_seconds": 3600.0,
    }
    values.update(overrides)
    return load_settings(**values)


@dataclass
class BotHarness:
    runtime: Runtime
    slack: SlackStandIn
    clock: FakeClock
    http: httpx.Client
    users: dict[str, SlackUser] = field(default_factory=dict)

    def user(self, user_id: str, *, channel_id: str = "C0INCIDENT") -> SlackUser:
        return SlackUser(self.http, SIGNING_SECRET, user_id, channel_id=channel_id)

    def settle(self, timeout: float = 5.0) -> None:
        """Wait until the outbox pump has sent (and recorded) everything due now."""
        deadline = time.monotonic() + timeout
        due_now = select(func.count()).where(
            OutboxRow.status == "pending", OutboxRow.due_at <= self.clock()
        )
        while True:
            with self.runtime.engine.connect() as connection:
                if connection.execute(due_now).scalar_one() == 0:
                    return
            if time.monotonic() > deadline:
                raise AssertionError("outbox rows due now were still pending after the timeout")
            time.sleep(0.01)

    def dispatch(self) -> None:
        """Send everything due now (what the pump and the scheduler do in production).

        The pump may have claimed some of those rows itself; wait until it has sent them too.
        """
        self.runtime.dispatcher.drain(now=self.clock())
        self.settle()


BotFactory = Callable[..., BotHarness]


@pytest.fixture
def make_bot(
    database_url: str, slack: SlackStandIn, clock: FakeClock, tmp_path: Path
) -> Iterator[BotFactory]:
    """``make_bot(policy=YAML, **settings)`` → the real app over real HTTP, pump running.

    The periodic scheduler does not run: tests dispatch with the clock they control.
    """
    with ExitStack() as stack:

        def build(*, policy: str | None = None, **overrides: object) -> BotHarness:
            if policy is not None:
                path = tmp_path / "policy.yaml"
                path.write_text(policy)
                overrides["postmortem_policy_file"] = str(path)
            runtime = build_runtime(make_settings(database_url, slack, **overrides), clock=clock)
            stack.callback(runtime.stop)
            runtime.pump.start()
            server = stack.enter_context(LiveServer(runtime.web_app))
            http = stack.enter_context(httpx.Client(base_url=server.url, timeout=10))
            return BotHarness(runtime=runtime, slack=slack, clock=clock, http=http)

        yield build


@pytest.fixture
def bot(make_bot: BotFactory) -> BotHarness:
    """The real app over real HTTP with the default settings."""
    return make_bot()
