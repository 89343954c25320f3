"""Sending a message again: first look for it in the channel, and if Slack cannot say, wait.

A retried row (its first attempt failed in a way that leaves it unclear whether Slack got
the message, e.g. a chat.postMessage that outlived the client's timeout) is looked for in
``conversations.history`` before it is posted. A history that cannot be read *for now* must
not count as "not there": the message would be posted twice.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.web import SlackResponse
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.bootstrap import Runtime
from bot.devtools.loopback import LoopbackServer
from bot.devtools.slack_standin import SlackStandIn
from bot.domain.postmortem import IncidentReport
from bot.persistence.db import create_session_factory
from bot.persistence.tables import OutboxRow, PostmortemRow
from bot.persistence.uow import UnitOfWork
from bot.services.dispatch import Dispatcher
from bot.slack.ids import METADATA_EVENT_TYPE
from bot.slack.messenger import SlackMessenger
from tests.support.clock import FakeClock
from tests.support.dispatch_worker import ALWAYS

CHANNEL = "C0INCIDENT"


@pytest.fixture(autouse=True)
def clock_near_real_time(clock: FakeClock) -> None:
    """The stand-in stamps messages with real time; the history is searched from the row's
    creation (fake time) on: keep the two together, whatever day the tests run."""
    clock.set(datetime.now(UTC).replace(microsecond=0))


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC; PostgreSQL an aware time."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def prompt_row(runtime: Runtime) -> OutboxRow:
    with Session(runtime.engine) as session:
        return session.scalars(select(OutboxRow).where(OutboxRow.kind == "owner_prompt")).one()


def recorded_prompt_ts(runtime: Runtime) -> str | None:
    with runtime.engine.connect() as connection:
        return connection.execute(select(PostmortemRow.prompt_ts)).scalar_one()


def a_prompt_whose_first_attempt_failed(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock, *, reached_slack: bool
) -> str | None:
    """An owner prompt tried once already: its row says so (attempts 1, due again now).

    With ``reached_slack`` Slack did take that first post (it answered too late): the
    message is in the channel, with the row's metadata, as the dispatcher posts it. Returns
    its ts.
    """
    opened(runtime, clock)
    row = prompt_row(runtime)
    ts = posted_by_a_first_attempt(slack, row, CHANNEL) if reached_slack else None
    tried_once(runtime, row, clock)
    return ts


def opened(runtime: Runtime, clock: FakeClock) -> int:
    return runtime.postmortems.open_postmortem(
        report=IncidentReport(
            key="pd:Q1", title="Checkout errors", source="pagerduty", resolved_at=clock()
        ),
        channel_id=CHANNEL,
        opened_by="U0ALICE",
    ).postmortem.id


def posted_by_a_first_attempt(slack: SlackStandIn, row: OutboxRow, channel: str) -> str:
    """The row's message, in ``channel`` with its metadata, as the dispatcher posts it."""
    return str(
        WebClient(base_url=slack.url, token="xoxb-t").chat_postMessage(
            channel=channel,
            text=f"the {row.kind}, as the first attempt posted it",
            metadata={
                "event_type": METADATA_EVENT_TYPE,
                "event_payload": {
                    "outbox_id": row.id,
                    "postmortem_id": row.postmortem_id,
                    "kind": row.kind,
                },
            },
        )["ts"]
    )


def tried_once(runtime: Runtime, row: OutboxRow, clock: FakeClock) -> None:
    """The row says its first attempt failed unclearly, and it is due again now."""
    with runtime.engine.begin() as connection:
        connection.execute(
            update(OutboxRow)
            .where(OutboxRow.id == row.id)
            .values(attempts=1, last_error="network: timed out", due_at=clock())
        )


def posts(slack: SlackStandIn) -> int:
    return len(slack.calls("chat.postMessage"))


def assert_waits_then_finds_it(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> OutboxRow:
    """Not posted again now; the row waits; once the history answers, the first post counts.

    Returns the row as it was while it waited (a sent row keeps no error)."""
    [first] = slack.messages(CHANNEL)
    report = runtime.dispatcher.drain(now=clock())

    assert posts(slack) == 1, "posted a second copy without knowing whether Slack had one"
    assert report.sent == 0
    waiting = prompt_row(runtime)
    assert waiting.status == "pending"
    assert aware(waiting.due_at) > clock()

    clock.advance(timedelta(minutes=1))
    runtime.dispatcher.drain(now=clock())

    assert posts(slack) == 1
    assert len(slack.messages(CHANNEL)) == 1
    sent = prompt_row(runtime)
    assert (sent.status, sent.slack_ts) == ("sent", first["ts"])
    assert recorded_prompt_ts(runtime) == first["ts"]
    return waiting


def bot_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("bot.") and r.levelno >= logging.WARNING]


def test_a_posted_message_is_not_posted_again_while_the_history_answers_internal_error(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    a_prompt_whose_first_attempt_failed(runtime, slack, clock, reached_slack=True)
    slack.fail_next("conversations.history", "internal_error")

    with caplog.at_level(logging.WARNING):
        waiting = assert_waits_then_finds_it(runtime, slack, clock)

    assert len(slack.calls("conversations.history")) == 2
    assert "internal_error" in (waiting.last_error or "")
    [warning] = bot_warnings(caplog)
    assert "internal_error" in warning.getMessage()


# -- conversations.history unreachable for one call -----------------------------------------


class _BadGateway(LoopbackServer):
    """What a proxy in front of Slack answers when Slack is down: 502, an HTML page."""

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
                self.send_response(502)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@contextmanager
def unreachable_history(how: str) -> Iterator[str]:
    """A base URL where conversations.history fails in the way ``how`` says."""
    if how == "bad_gateway":
        with _BadGateway() as server:
            yield f"{server.base_url}/api/"
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        if how == "silent":
            sock.listen(8)  # connections complete in the backlog; nothing ever answers
        # else "refused": a bound port nobody listens on refuses connections
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/api/"


@contextmanager
def history_once_from(client: WebClient, base_url: str) -> Iterator[None]:
    """The next conversations.history call (only) goes to ``base_url``, with a 1 s timeout."""
    real = client.conversations_history
    calls: list[None] = []

    def elsewhere(**kwargs: Any) -> SlackResponse:
        if calls:
            return real(**kwargs)
        calls.append(None)
        saved = client.base_url, client.timeout
        client.base_url, client.timeout = base_url, 1
        try:
            return real(**kwargs)
        finally:
            client.base_url, client.timeout = saved

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(client, "conversations_history", elsewhere)
        yield


@pytest.mark.parametrize("how", ["refused", "silent", "bad_gateway"])
def test_a_posted_message_is_not_posted_again_while_the_history_is_unreachable(
    runtime: Runtime,
    slack: SlackStandIn,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    how: str,
) -> None:
    a_prompt_whose_first_attempt_failed(runtime, slack, clock, reached_slack=True)

    with (
        caplog.at_level(logging.WARNING),
        unreachable_history(how) as url,
        history_once_from(runtime.client, url),
    ):
        waiting = assert_waits_then_finds_it(runtime, slack, clock)

    # One line saying what happened, and no stack trace (not once per retry of every row).
    assert [r for r in caplog.records if r.exc_info] == []
    [warning] = bot_warnings(caplog)
    assert "not sending it now" in warning.getMessage()
    assert "unexpected" not in (waiting.last_error or "")


# -- a channel the bot cannot read --------------------------------------------------------


@pytest.mark.parametrize("error", ["not_in_channel", "missing_scope", "access_denied"])
def test_a_message_is_still_sent_where_the_bot_cannot_read_the_history(
    runtime: Runtime,
    slack: SlackStandIn,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    error: str,
) -> None:
    # It posts there with chat:write.public: there is nothing to look for, so it sends.
    a_prompt_whose_first_attempt_failed(runtime, slack, clock, reached_slack=False)
    slack.fail_next("conversations.history", error)

    with caplog.at_level(logging.WARNING):
        report = runtime.dispatcher.drain(now=clock())

    assert len(slack.calls("conversations.history")) == 1
    assert posts(slack) == 1
    [message] = slack.messages(CHANNEL)
    row = prompt_row(runtime)
    assert (row.status, row.slack_ts) == ("sent", message["ts"])
    assert report.sent == 1
    [warning] = bot_warnings(caplog)
    assert error in warning.getMessage()
    assert "sending" in warning.getMessage()


def an_owner_told_whose_first_attempt_reached_slack(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> str:
    """Bob was chosen by Alice: the direct message telling him, posted by its first attempt
    (to his user id, as the dispatcher posts it) though the answer never came back."""
    runtime.postmortems.claim_ownership(
        postmortem_id=opened(runtime, clock),
        owner="U0BOB",
        chosen_by="U0ALICE",
        channel_id=CHANNEL,
    )
    row = owner_told_row(runtime)
    assert row.channel_id == "U0BOB"
    ts = posted_by_a_first_attempt(slack, row, "U0BOB")
    tried_once(runtime, row, clock)
    return ts


def owner_told_row(runtime: Runtime) -> OutboxRow:
    with Session(runtime.engine) as session:
        return session.scalars(select(OutboxRow).where(OutboxRow.kind == "owner_told")).one()


def test_a_direct_message_that_reached_slack_is_found_in_the_dm_not_posted_again(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    first = an_owner_told_whose_first_attempt_reached_slack(runtime, slack, clock)

    runtime.dispatcher.drain(now=clock())

    assert [c.params["channel"] for c in slack.calls("conversations.history")] == ["D0BOB"]
    told = [
        m for m in slack.messages("U0BOB") if m["metadata"]["event_payload"]["kind"] == "owner_told"
    ]
    assert len(told) == 1
    row = owner_told_row(runtime)
    assert (row.status, row.slack_ts) == ("sent", first)


def test_a_direct_message_is_sent_when_slack_will_not_open_the_dm_to_look(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    # An install from before the app asked for im:write: nothing to look in, so it is sent
    # (a copy may follow a lost answer, as before; nothing is lost).
    an_owner_told_whose_first_attempt_reached_slack(runtime, slack, clock)
    slack.fail_next("conversations.open", "missing_scope")

    with caplog.at_level(logging.WARNING):
        runtime.dispatcher.drain(now=clock())

    assert slack.calls("conversations.history") == []
    assert owner_told_row(runtime).status == "sent"
    assert any(
        "cannot open the DM with U0BOB (missing_scope: the app needs im:write)" in r.getMessage()
        for r in caplog.records
    )


def test_a_direct_message_waits_while_slack_cannot_say_whether_it_has_it(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    an_owner_told_whose_first_attempt_reached_slack(runtime, slack, clock)
    slack.fail_next("conversations.open", "internal_error")

    runtime.dispatcher.drain(now=clock())

    assert owner_told_row(runtime).status == "pending"
    told = [
        m for m in slack.messages("U0BOB") if m["metadata"]["event_payload"]["kind"] == "owner_told"
    ]
    assert len(told) == 1


def test_a_reminder_sent_to_its_owner_directly_is_found_there_not_sent_again(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    # The incident channel was archived: the reminder's first attempt went to Dan directly,
    # and its answer was lost.
    opened(runtime, clock)
    runtime.documents.add_action_item(
        channel_id=CHANNEL,
        actor="U0BOB",
        owner_id="U0DAN",
        due_on=(clock() + timedelta(days=2)).date(),
        text="Alert on queue depth",
    )
    with Session(runtime.engine) as session:
        row = session.scalars(select(OutboxRow).where(OutboxRow.kind == "action_item_due")).one()
    first = posted_by_a_first_attempt(slack, row, "U0DAN")
    tried_once(runtime, row, clock)
    slack.fail_next("conversations.history", "is_archived")
    sessions = create_session_factory(runtime.engine)
    anytime = Dispatcher(
        uow_factory=lambda: UnitOfWork(sessions),
        messenger=SlackMessenger(WebClient(base_url=slack.url, token="xoxb-t")),
        policy=ALWAYS,
        worker_id="anytime",
    )

    anytime.drain(now=clock() + timedelta(days=2, hours=12))  # on its day, wherever Dan is

    reminders = [
        m for m in slack.messages("U0DAN") if m["metadata"]["event_payload"]["outbox_id"] == row.id
    ]
    assert len(reminders) == 1
    with Session(runtime.engine) as session:
        sent = session.get(OutboxRow, row.id)
        assert sent is not None
        assert (sent.status, sent.slack_ts) == ("sent", first)
