"""A channel with several open postmortems: commands never guess which one is meant."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from tests.conftest import BotFactory, BotHarness
from tests.e2e.conftest import INCIDENT_SECRET
from tests.support.signing import pagerduty_signature


def open_by_webhook(bot: BotHarness, incident_id: str, title: str) -> None:
    """Webhooks open one postmortem per incident, so two incidents share a channel."""
    resolved = (bot.clock() - timedelta(minutes=30)).isoformat()
    body = json.dumps(
        {"incident_id": incident_id, "title": title, "resolved_at": resolved, "channel": "C0OPS"}
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Signature": pagerduty_signature(INCIDENT_SECRET, body),
    }
    assert bot.http.post("/webhooks/incident", content=body, headers=headers).status_code == 201


def owner_of(bot: BotHarness, postmortem_id: int) -> str | None:
    postmortem = bot.runtime.postmortems.get(postmortem_id=postmortem_id)
    assert postmortem is not None
    return postmortem.owner_id


def two_open(incident_bot: BotFactory) -> BotHarness:
    bot = incident_bot()
    open_by_webhook(bot, "INC-1", "Checkout errors")
    open_by_webhook(bot, "INC-2", "Search outage")
    bot.settle()
    return bot


def test_a_command_without_a_number_asks_which_postmortem_is_meant(
    incident_bot: BotFactory,
) -> None:
    bot = two_open(incident_bot)

    bot.user("U0ALICE", channel_id="C0OPS").command("owner <@U0BOB|bob>")

    answer = bot.slack.wait_for("chat.postEphemeral")[0].params["text"]
    assert "This channel has 2 open postmortems" in answer
    assert "#1 Checkout errors" in answer
    assert "#2 Search outage" in answer
    assert owner_of(bot, 1) is None


def test_the_number_picks_the_postmortem_and_leaves_the_other_alone(
    incident_bot: BotFactory,
) -> None:
    bot = two_open(incident_bot)
    alice = bot.user("U0ALICE", channel_id="C0OPS")

    alice.command("owner #1 <@U0BOB|bob>")
    answer = bot.slack.wait_for("chat.postEphemeral")[0].params["text"]
    held = alice.answer("held #2")

    assert answer == "<@U0BOB> now owns postmortem #1; I told the channel."
    assert "it has no owner yet" in held  # #2 was asked about, not #1
    assert owner_of(bot, 1) == "U0BOB"
    assert owner_of(bot, 2) is None


def test_a_number_from_another_channel_is_refused_with_where_it_lives(
    incident_bot: BotFactory,
) -> None:
    bot = two_open(incident_bot)

    bot.user("U0ALICE", channel_id="C0ELSEWHERE").command("owner #1 <@U0BOB|bob>")

    answer = bot.slack.wait_for("chat.postEphemeral")[0].params["text"]
    assert answer == "Postmortem #1 belongs to <#C0OPS>: run the command there."
    assert owner_of(bot, 1) is None


def test_action_item_commands_without_a_number_show_the_command_to_type_with_one(
    incident_bot: BotFactory,
) -> None:
    bot = two_open(incident_bot)
    alice = bot.user("U0ALICE", channel_id="C0OPS")

    done = alice.answer("action done 1")
    alice.command("action <@U0BOB|bob> 2026-12-04 Alert on queue depth")
    added = bot.slack.wait_for("chat.postEphemeral")[0].params["text"]

    assert re.search(r"e\.g\. `/postmortem action #\d done 1`", done)
    assert re.search(r"e\.g\. `/postmortem action #\d` followed by the rest of what", added)


def test_the_suggested_command_keeps_what_held_was_said_with(incident_bot: BotFactory) -> None:
    bot = two_open(incident_bot)
    alice = bot.user("U0ALICE", channel_id="C0OPS")

    unscheduled = alice.answer("held unscheduled")
    early = alice.answer("held early")

    assert re.search(r"e\.g\. `/postmortem held #\d unscheduled`\.$", unscheduled)
    assert re.search(r"e\.g\. `/postmortem held #\d early`\.$", early)


def test_the_commands_the_bot_suggests_name_their_postmortem_so_they_work_as_written(
    incident_bot: BotFactory,
) -> None:
    bot = two_open(incident_bot)
    bob = bot.user("U0BOB", channel_id="C0OPS")
    bob.command("owner #2 <@U0BOB|bob>")
    bot.slack.wait_for("chat.postEphemeral")
    bot.settle()
    [next_steps] = [
        c.params["text"]
        for c in bot.slack.calls("chat.postMessage")
        if c.params["metadata"]["event_payload"]["kind"] == "owner_chosen"
    ]
    suggested = re.findall(r"`/postmortem ([a-z]+ #2)`", next_steps)

    answers = [bob.answer(typed) for typed in suggested]

    assert sorted(suggested) == ["document #2", "done #2", "held #2", "schedule #2"]
    assert not any("open postmortems" in answer for answer in answers)
    assert (
        "No meeting is on the calendar for postmortem #2 yet" in answers[suggested.index("held #2")]
    )


def test_status_lists_a_channels_postmortems_most_pressing_first_however_many(
    incident_bot: BotFactory,
) -> None:
    # Up to five it listed the newest first, from six on the most pressing first.
    bot = incident_bot()
    open_by_webhook(bot, "INC-1", "Checkout errors")  # its deadline comes first
    bot.clock.advance(timedelta(hours=2))
    open_by_webhook(bot, "INC-2", "Search outage")
    bot.settle()

    status = bot.user("U0ALICE", channel_id="C0OPS").answer("status")

    assert status.index("*#1 Checkout errors*") < status.index("*#2 Search outage*")


def test_status_shows_the_severity_and_a_possible_false_alarm(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()
    resolved = (bot.clock() - timedelta(minutes=30)).isoformat()
    body = json.dumps(
        {
            "incident_id": "INC-9",
            "title": "Pager storm",
            "resolved_at": resolved,
            "channel": "C0OPS",
            "severity": "SEV3",
            "false_alarm": True,
        }
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Signature": pagerduty_signature(INCIDENT_SECRET, body),
    }
    assert bot.http.post("/webhooks/incident", content=body, headers=headers).status_code == 201

    status = bot.user("U0ALICE", channel_id="C0OPS").answer("status")

    assert "• Severity: SEV3 · possible false alarm" in status
