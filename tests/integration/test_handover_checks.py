"""`/postmortem owner` through the real HTTP app: who may become owner, who may hand over,
and which postmortem a command may act on. The answer comes as an ephemeral, after the ack."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import BotFactory, BotHarness
from tests.support.lifecycle import completed_by_bob
from tests.support.signing import pagerduty_signature
from tests.support.waiting import wait_until

INCIDENT_SECRET = "incident-webhook-secret"
MANAGER = "U0MANAGER"


@pytest.fixture
def webhook_bot(make_bot: BotFactory) -> BotFactory:
    """``webhook_bot(policy=…)``: the shared factory, with incident webhooks on."""

    def build(*, policy: str | None = None) -> BotHarness:
        return make_bot(policy=policy, incident_webhook_secret=INCIDENT_SECRET)

    return build


def open_by_webhook(bot: BotHarness, incident_id: str, title: str, channel: str | None) -> None:
    resolved = (bot.clock() - timedelta(minutes=30)).isoformat()
    fields: dict[str, Any] = {"incident_id": incident_id, "title": title, "resolved_at": resolved}
    if channel is not None:
        fields["channel"] = channel
    body = json.dumps(fields).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Signature": pagerduty_signature(INCIDENT_SECRET, body),
    }
    assert bot.http.post("/webhooks/incident", content=body, headers=headers).status_code == 201


def owner_command(bot: BotHarness, by: str, text: str, *, channel_id: str = "C0INCIDENT") -> str:
    """Type `/postmortem owner …`; the empty ack, then the ephemeral the bot sends ``by``."""
    told_before = len(bot.slack.calls("chat.postEphemeral"))
    response = bot.user(by, channel_id=channel_id).command(text)
    assert response.status_code == 200
    assert response.content == b""  # acked at once; the answer needs users.info first
    notice = bot.slack.wait_for("chat.postEphemeral", told_before + 1)[told_before].params
    assert (notice["user"], notice["channel"]) == (by, channel_id)
    return str(notice["text"])


def owner_of(bot: BotHarness, postmortem_id: int = 1) -> str | None:
    postmortem = bot.runtime.postmortems.get(postmortem_id=postmortem_id)
    assert postmortem is not None
    return postmortem.owner_id


def started_by_alice(bot: BotHarness) -> None:
    bot.user("U0ALICE").answer("start Checkout errors")
    bot.settle()


def owned_by_bob(bot: BotHarness) -> None:
    started_by_alice(bot)
    bot.user("U0BOB").click({"action_id": "owner.claim_self", "value": "1"})
    bot.slack.wait_for("chat.update")
    bot.settle()


NOT_A_PERSON = [
    pytest.param("U0ROBOT", {"is_bot": True}, "<@U0ROBOT> is a bot", id="bot"),
    pytest.param("USLACKBOT", {}, "<@USLACKBOT> is a bot", id="slackbot"),
    pytest.param("U0GONE", {"deleted": True}, "<@U0GONE>'s account is deactivated", id="left"),
]


@pytest.mark.parametrize(("user_id", "account", "reason"), NOT_A_PERSON)
def test_naming_a_bot_or_a_deactivated_account_as_first_owner_is_refused(
    webhook_bot: BotFactory, user_id: str, account: dict[str, Any], reason: str
) -> None:
    bot = webhook_bot()
    bot.slack.add_user(user_id, **account)
    started_by_alice(bot)

    answer = owner_command(bot, "U0ALICE", f"owner <@{user_id}>")

    assert reason in answer
    assert "pick someone else" in answer
    assert owner_of(bot) is None


@pytest.mark.parametrize(("user_id", "account", "reason"), NOT_A_PERSON)
def test_handing_over_to_a_bot_or_a_deactivated_account_is_refused_and_the_owner_stays(
    webhook_bot: BotFactory, user_id: str, account: dict[str, Any], reason: str
) -> None:
    bot = webhook_bot()
    bot.slack.add_user(user_id, **account)
    owned_by_bob(bot)

    answer = owner_command(bot, "U0BOB", f"owner #1 <@{user_id}>")

    assert reason in answer
    assert owner_of(bot) == "U0BOB"
    trail = bot.runtime.postmortems.audit_trail(postmortem_id=1)
    assert "owner_handed_over" not in [what for _, _, what in trail]


def test_naming_an_owner_by_command_says_so_to_the_person_who_asked(
    webhook_bot: BotFactory,
) -> None:
    bot = webhook_bot()
    started_by_alice(bot)

    answer = owner_command(bot, "U0CAROL", "owner <@U0DAVE|dave>")

    assert answer == "<@U0DAVE> now owns postmortem #1; I told the channel."
    assert owner_of(bot) == "U0DAVE"


def test_a_choice_by_command_stands_when_slack_cannot_say_who_it_is(
    webhook_bot: BotFactory,
) -> None:
    bot = webhook_bot()
    owned_by_bob(bot)
    bot.slack.fail_next("users.info", "internal_error")

    answer = owner_command(bot, "U0BOB", "owner <@U0CAROL|carol>")

    assert answer == "<@U0CAROL> now owns postmortem #1; I told the channel."
    assert owner_of(bot) == "U0CAROL"


def test_an_incident_manager_can_hand_over_a_postmortem_whose_owner_left(
    webhook_bot: BotFactory,
) -> None:
    bot = webhook_bot(policy=f"incident_managers: [{MANAGER}]\n")
    owned_by_bob(bot)  # Bob took it himself: he is owner and assigner
    bot.slack.add_user("U0BOB", deleted=True)  # …and then left the company

    answer = owner_command(bot, MANAGER, "owner <@U0CAROL|carol>")

    assert answer == "<@U0CAROL> now owns postmortem #1; I told the channel."
    assert owner_of(bot) == "U0CAROL"
    trail = bot.runtime.postmortems.audit_trail(postmortem_id=1)
    assert (MANAGER, "owner_handed_over") in [(who, what) for _, who, what in trail]


def test_an_incident_manager_can_hand_over_a_completed_postmortem_whose_owner_left(
    webhook_bot: BotFactory,
) -> None:
    # Its owner is still reminded of what it lacks: someone must be, once Bob has left.
    bot = webhook_bot(policy=f"incident_managers: [{MANAGER}]\n")
    completed_by_bob(bot)
    bot.settle()
    bot.slack.add_user("U0BOB", deleted=True)

    answer = owner_command(bot, MANAGER, "owner <@U0CAROL|carol>")

    assert answer == "<@U0CAROL> now owns postmortem #1; I told the channel."
    assert owner_of(bot) == "U0CAROL"
    trail = bot.runtime.postmortems.audit_trail(postmortem_id=1)
    assert [(who, what) for _, who, what in trail][-1] == (MANAGER, "owner_handed_over")


def test_a_cancelled_postmortem_is_not_handed_over_and_the_answer_says_it_was_cancelled(
    webhook_bot: BotFactory,
) -> None:
    bot = webhook_bot()
    owned_by_bob(bot)
    bot.user("U0BOB").answer("cancel Opened twice for one incident")
    bot.settle()

    answer = owner_command(bot, "U0BOB", "owner #1 <@U0CAROL|carol>")

    assert answer == (
        "I can't hand this postmortem over: it was cancelled. Nothing is left to do; a new "
        "incident gets its own postmortem with `/postmortem start`."
    )
    assert owner_of(bot) == "U0BOB"


def test_someone_who_is_not_an_incident_manager_still_cannot_hand_over(
    webhook_bot: BotFactory,
) -> None:
    bot = webhook_bot(policy=f"incident_managers: [{MANAGER}]\n")
    owned_by_bob(bot)

    answer = owner_command(bot, "U0MALLORY", "owner <@U0MALLORY|mallory>")

    assert "Only the current owner <@U0BOB>" in answer
    assert f"or an incident manager (<@{MANAGER}>)" in answer
    assert owner_of(bot) == "U0BOB"


def test_several_open_postmortems_are_listed_with_titles_that_cannot_ping_or_link(
    webhook_bot: BotFactory,
) -> None:
    bot = webhook_bot()
    open_by_webhook(bot, "INC-1", "Checkout <!channel> & <https://evil.example|login>", "C0OPS")
    open_by_webhook(bot, "INC-2", "Search outage", "C0OPS")
    bot.settle()

    answer = owner_command(bot, "U0ALICE", "owner <@U0BOB|bob>", channel_id="C0OPS")

    assert "#1 Checkout &lt;!channel&gt; &amp; &lt;https://evil.example|login&gt;" in answer
    assert "<!channel>" not in answer
    assert "<https://" not in answer
    assert owner_of(bot, 1) is None


def test_the_example_for_several_open_postmortems_is_the_command_that_was_typed(
    webhook_bot: BotFactory,
) -> None:
    bot = webhook_bot()
    open_by_webhook(bot, "INC-1", "Checkout errors", "C0OPS")
    open_by_webhook(bot, "INC-2", "Search outage", "C0OPS")
    bot.settle()

    answer = owner_command(bot, "U0ALICE", "owner <@U0BOB|bob>", channel_id="C0OPS")
    held = bot.user("U0ALICE", channel_id="C0OPS").answer("held")

    assert "e.g. `/postmortem owner #2` followed by the rest of what you typed" in answer
    assert "held" not in answer
    assert "`/postmortem owner" not in held


def test_a_postmortem_number_that_never_existed_is_said_not_to_exist(
    webhook_bot: BotFactory,
) -> None:
    bot = webhook_bot()
    started_by_alice(bot)

    owner_answer = owner_command(bot, "U0ALICE", "owner #9 <@U0BOB|bob>")
    held_answer = bot.user("U0ALICE").answer("held #9")

    for answer in (owner_answer, held_answer):
        assert answer.startswith("There is no postmortem #9.")
        assert "no longer exists" not in answer


def test_acting_on_a_postmortem_without_a_channel_is_refused_with_how_to_route_it(
    webhook_bot: BotFactory,
) -> None:
    bot = webhook_bot()  # no route matches and DEFAULT_CHANNEL is unset
    open_by_webhook(bot, "INC-UNROUTED", "Disk full", channel=None)
    bot.settle()

    answer = owner_command(bot, "U0ALICE", "owner #1 <@U0BOB|bob>")
    held = bot.user("U0ALICE").answer("held #1")

    assert answer.startswith("Postmortem #1 has no channel")
    assert "`routes:`" in answer
    assert "`POSTMORTEM_POLICY_FILE`" in answer
    assert "`DEFAULT_CHANNEL`" in answer
    assert "Sorry" not in answer
    assert held == answer
    assert owner_of(bot) is None


def test_the_answer_comes_by_direct_message_where_the_channel_wont_show_it(
    webhook_bot: BotFactory,
) -> None:
    # The prompt could not be posted (a private channel the bot is not in): naming the
    # owner by command is the way out, and its answer must not be lost the same way.
    bot = webhook_bot()
    bot.slack.fail_next("chat.postMessage", "channel_not_found")
    started_by_alice(bot)
    bot.slack.fail_next("chat.postEphemeral", "channel_not_found")

    bot.user("U0ALICE").command("owner <@U0BOB|bob>")

    def answers() -> list[dict[str, Any]]:
        return [
            call.params
            for call in bot.slack.calls("chat.postMessage")
            if call.params["channel"] == "U0ALICE" and "now owns" in str(call.params.get("text"))
        ]

    wait_until(lambda: answers() != [])
    bot.settle()
    assert [a["text"] for a in answers()] == [
        (
            "(About <#C0INCIDENT>, where I can't post.) "
            "<@U0BOB> now owns postmortem #1; I told the channel."
        )
    ]
    assert owner_of(bot) == "U0BOB"
