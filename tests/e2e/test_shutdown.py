"""`postmortem-bot serve` stopped by SIGTERM or SIGINT (every deploy, `docker stop`, Ctrl+C)
shuts down cleanly: the messages on their way to Slack finish and are recorded, the rows it
claimed and did not send are released at once, and it exits 0."""

from __future__ import annotations

import signal

import httpx
import pytest
from sqlalchemy import create_engine, select

from bot.devtools.slack_standin import SlackStandIn
from bot.persistence.tables import OutboxRow
from tests.support.processes import cli_env, serve_process
from tests.support.signing import signed_slack_headers, slash_command_body

SECRET = "shutdown-signing-secret"
STARTS = 6
# Long enough that the signal arrives while prompts are on their way to Slack.
SLACK_LATENCY = 3.0


def outbox(database_url: str) -> list[OutboxRow]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = list(connection.execute(select(OutboxRow)).all())
    engine.dispose()
    return rows  # type: ignore[return-value]


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_a_stop_signal_finishes_the_messages_in_flight_and_releases_the_rest(
    slack: SlackStandIn, empty_database: str, stop_signal: signal.Signals
) -> None:
    env = cli_env(
        SLACK_BOT_TOKEN="xoxb-shutdown",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack.url,
        DATABASE_URL=empty_database,
        DISPATCH_INTERVAL_SECONDS="0.2",
        LOG_LEVEL="INFO",
    )
    slack.delay("chat.postMessage", SLACK_LATENCY)
    with serve_process(env) as serving:
        url, process = serving.url, serving.process
        for n in range(STARTS):
            body = slash_command_body(text=f"start Outage {n}", channel_id=f"C0SHUTDOWN{n}")
            answer = httpx.post(
                f"{url}/slack/events",
                content=body,
                headers=signed_slack_headers(SECRET, body),
                timeout=10,
            )
            assert "Opened postmortem" in answer.json()["text"]
        # The pump and the periodic job each claimed a prompt as it was opened and posted it;
        # the first of them to finish claimed the prompts opened meanwhile, and is posting
        # one of those now, the rest of its batch waiting behind it.
        slack.wait_for("chat.postMessage", count=3, timeout=60)

        process.send_signal(stop_signal)
        status = process.wait(timeout=60)
        log = serving.printed()

    assert status == 0, log
    assert "postmortem-bot stopped" in log, log
    assert "Traceback" not in log, log
    assert "Slack did not take" not in log, log  # held back on stopping: Slack refused nothing
    # Every message that reached Slack is recorded as sent, none twice...
    posted = [
        c.params["metadata"]["event_payload"]["outbox_id"] for c in slack.calls("chat.postMessage")
    ]
    assert len(posted) == len(set(posted))
    rows = outbox(empty_database)
    assert {r.id for r in rows if r.status == "sent"} == set(posted)
    # ...and nothing is left leased by the process that stopped: the next one sends the rest
    # straight away instead of after the lease runs out.
    prompts = [r for r in rows if r.kind == "owner_prompt"]
    assert len(prompts) == STARTS
    assert [r.id for r in rows if r.status == "pending" and r.lease_owner is not None] == []
    unsent = [r for r in prompts if r.status == "pending"]
    assert unsent, "stopping sent the whole batch instead of handing it back"
    assert [r.id for r in unsent if r.attempts != 0] == []  # handed back, no attempt counted
