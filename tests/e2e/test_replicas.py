"""Two `postmortem-bot serve` replicas on one PostgreSQL send every message exactly once."""

from __future__ import annotations

import collections
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from bot.devtools.slack_standin import SlackStandIn
from bot.persistence.tables import OutboxRow
from tests.support.databases import fresh_postgres_database
from tests.support.processes import cli_env, running_serve
from tests.support.signing import signed_slack_headers, slash_command_body

SECRET = "replica-signing-secret"
POSTMORTEMS = 10
# Every message is due within seconds, around the clock, so real replicas can be watched.
POLICY = """
working_hours: always
nudges:
  no_owner: {first: 2s, repeat: 1h, escalate: 4s}
"""


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[tuple[list[str], SlackStandIn, str]]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    with fresh_postgres_database() as database_url, SlackStandIn() as slack, ExitStack() as stack:
        env = cli_env(
            SLACK_BOT_TOKEN="xoxb-replica",
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=slack.url,
            DATABASE_URL=database_url,
            POSTMORTEM_POLICY_FILE=str(policy),
            DISPATCH_INTERVAL_SECONDS="0.2",
            LOG_LEVEL="WARNING",
        )
        urls = [stack.enter_context(running_serve(env, cwd=tmp_path)) for _ in range(2)]
        yield urls, slack, database_url


def pending(database_url: str) -> int:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        count = connection.execute(
            select(func.count()).where(OutboxRow.status == "pending")
        ).scalar_one()
    engine.dispose()
    return int(count)


def test_two_replicas_send_every_prompt_and_nudge_exactly_once(
    replicas: tuple[list[str], SlackStandIn, str],
) -> None:
    urls, slack, database_url = replicas
    for n in range(POSTMORTEMS):
        body = slash_command_body(text=f"start Outage {n}", channel_id=f"C0REPLICA{n}")
        answer = httpx.post(  # alternate replicas: both take commands
            f"{urls[n % 2]}/slack/events", content=body, headers=signed_slack_headers(SECRET, body)
        )
        assert "Opened postmortem" in answer.json()["text"]

    # Per postmortem: the owner prompt now, the no-owner nudge at 2 s, the escalation at 4 s.
    expected = POSTMORTEMS * 3
    deadline = time.monotonic() + 30
    posts = slack.calls("chat.postMessage")
    while time.monotonic() < deadline and len(posts) < expected:
        time.sleep(0.2)
        posts = slack.calls("chat.postMessage")
    time.sleep(1.5)  # several more dispatch ticks on both replicas: nothing may be re-sent
    posts = slack.calls("chat.postMessage")

    outbox_ids = [p.params["metadata"]["event_payload"]["outbox_id"] for p in posts]
    duplicates = [i for i, n in collections.Counter(outbox_ids).items() if n > 1]
    assert duplicates == []
    kinds = collections.Counter(p.params["metadata"]["event_payload"]["kind"] for p in posts)
    assert kinds == {
        "owner_prompt": POSTMORTEMS,
        "nudge_no_owner": POSTMORTEMS,
        "escalate_no_owner": POSTMORTEMS,
    }
    assert pending(database_url) == POSTMORTEMS * 3  # the day-3/5/7 reminders, not yet due
