"""Slack's Web API failing or slow when the first requests arrive: commands and clicks still work.

Requests are authorized from the signing secret and the configured token, with no Web API
call (Bolt's default is an ``auth.test`` on the first request, inside Slack's 3 s for the ack).
Neither ``make_bot`` nor the stand-in calls ``auth.test`` by itself, so any recorded call of it
comes from handling the test's requests.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from bot.devtools.slack_standin import SlackStandIn
from bot.persistence.tables import PostmortemRow
from tests.conftest import BotHarness
from tests.support.slack_user import block_text, buttons

# Far more auth.test calls than a test can make: Slack stays failing throughout.
ALWAYS = 1000


def auth_test_errors(slack: SlackStandIn) -> None:
    slack.fail_next("auth.test", "fatal_error", count=ALWAYS)


def auth_test_rate_limited(slack: SlackStandIn) -> None:
    slack.rate_limit_next("auth.test", retry_after=30, count=ALWAYS)


@pytest.mark.parametrize(
    "slack_failing", [auth_test_errors, auth_test_rate_limited], ids=["error", "rate_limited"]
)
def test_a_start_and_a_claim_work_while_slack_fails_auth_test(
    bot: BotHarness, slack_failing: Callable[[SlackStandIn], None]
) -> None:
    slack_failing(bot.slack)

    started = bot.user("U0ALICE").command("start Checkout errors")

    assert started.status_code == 200
    assert "Opened postmortem #1" in started.text, started.text
    [prompt] = bot.slack.wait_for("chat.postMessage")
    claim = next(
        e for e in buttons(prompt.params["blocks"]) if e["action_id"] == "owner.claim_self"
    )
    ts = bot.slack.messages("C0INCIDENT")[0]["ts"]

    clicked = bot.user("U0BOB").click(
        {"action_id": "owner.claim_self", "value": claim["value"]}, message_ts=ts
    )

    assert clicked.status_code == 200
    assert "reinstall" not in clicked.text, clicked.text
    [update] = bot.slack.wait_for("chat.update")
    assert "Owner:* <@U0BOB>" in block_text(update.params["blocks"])
    with bot.runtime.engine.connect() as connection:
        [stored] = connection.execute(select(PostmortemRow)).all()
    assert stored.title == "Checkout errors"
    assert stored.owner_id == "U0BOB"


def test_the_first_command_is_answered_without_waiting_for_a_slow_auth_test(
    bot: BotHarness,
) -> None:
    bot.slack.delay("auth.test", 8)

    answer = bot.user("U0ALICE").answer("start Checkout errors")

    # The stand-in records a call when it arrives, before holding it: none was on the way.
    assert bot.slack.calls("auth.test") == []
    assert "Opened postmortem #1" in answer
