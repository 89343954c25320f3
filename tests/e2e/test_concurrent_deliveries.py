"""Two first deliveries of one incident at once, through the real HTTP app: the slower one
finds the postmortem the faster one opened, and what only it said (the channel) still counts.

The order is made, not hoped for: the first delivery names someone by email, the Slack
stand-in holds that users.lookupByEmail (it records a call on arrival, then waits), and the
second delivery is sent only once the look-up has arrived, and answered while it is held.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy import select

from bot.persistence.tables import PostmortemRow
from bot.services.incidents import LOOKUP_SECONDS
from tests.conftest import BotFactory, BotHarness
from tests.e2e.conftest import INCIDENT_SECRET
from tests.e2e.test_incident_webhook import incident
from tests.support.signing import pagerduty_signature

CHANNEL = "C0CHECKOUT"
# How long the stand-in holds the first delivery's look-up: time enough for the second
# delivery to be answered meanwhile, and well inside the look-up deadline, so the first
# delivery goes on as soon as the look-up answers.
HELD = LOOKUP_SECONDS * 2 / 3


def deliver(http: httpx.Client, payload: dict[str, Any]) -> httpx.Response:
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Signature": pagerduty_signature(INCIDENT_SECRET, body),
    }
    return http.post("/webhooks/incident", content=body, headers=headers)


def postmortems(bot: BotHarness) -> list[Any]:
    with bot.runtime.engine.connect() as connection:
        return list(connection.execute(select(PostmortemRow)))


def test_a_channel_named_by_the_slower_of_two_concurrent_first_deliveries_is_not_lost(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()  # no route and no DEFAULT_CHANNEL: without a channel, unrouted
    bot.slack.add_user("U0ALICE", "alice@example.com")
    bot.slack.delay("users.lookupByEmail", HELD)
    slower = incident(channel=CHANNEL, people={"led_response": [{"email": "alice@example.com"}]})
    faster = incident(channel=None, people={"primary_on_call": [{"slack_user_id": "U0BOB"}]})

    with (
        httpx.Client(base_url=bot.http.base_url, timeout=10) as own_connection,
        ThreadPoolExecutor(max_workers=1) as sender,
    ):
        first = sender.submit(deliver, own_connection, slower)
        bot.slack.wait_for("users.lookupByEmail")  # the slower one is held in its look-up
        second = deliver(bot.http, faster)
        answer = first.result(timeout=10)
    bot.settle()

    # The faster one opened it unrouted, while the slower one was still looking Alice up.
    assert second.status_code == 201, second.text
    assert second.json() == {
        "ok": True,
        "outcome": "opened",
        "postmortem_id": 1,
        "channel": None,
        "state": "awaiting_owner",
    }
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "ok": True,
        "outcome": "already_open",
        "postmortem_id": 1,
        "channel": CHANNEL,
        "state": "awaiting_owner",
    }
    [row] = postmortems(bot)
    assert (row.incident_key, row.channel_id) == ("opsgenie:INC-42", CHANNEL)
    prompts = [
        call.params
        for call in bot.slack.calls("chat.postMessage")
        if call.params["metadata"]["event_payload"]["kind"] == "owner_prompt"
    ]
    assert [(p["channel"], p["metadata"]["event_payload"]["postmortem_id"]) for p in prompts] == [
        (CHANNEL, 1)
    ]
    trail = bot.runtime.postmortems.audit_trail(postmortem_id=1)
    assert [(who, what) for _, who, what in trail][-1] == ("opsgenie", "moved_to_channel")
