"""A postmortem whose incident matched no route: stored without a channel, then moved into one
with `/postmortem move #N`, where its owner prompt and nudges start."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import BotFactory, BotHarness
from tests.e2e.conftest import INCIDENT_SECRET
from tests.support.signing import pagerduty_signature

HERE = "C0WARROOM"


@pytest.fixture
def bot(make_bot: BotFactory) -> BotHarness:
    # No route and no DEFAULT_CHANNEL: an incident without a channel stays unrouted.
    return make_bot(incident_webhook_secret=INCIDENT_SECRET)


def open_by_webhook(bot: BotHarness, incident_id: str, *, channel: str | None = None) -> Any:
    fields: dict[str, Any] = {
        "incident_id": incident_id,
        "title": "Disk full",
        "resolved_at": (bot.clock() - timedelta(hours=30)).isoformat(),
    }
    if channel is not None:
        fields["channel"] = channel
    body = json.dumps(fields).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Signature": pagerduty_signature(INCIDENT_SECRET, body),
    }
    response = bot.http.post("/webhooks/incident", content=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


def kinds_posted(bot: BotHarness, channel: str) -> list[str]:
    return [
        call.params["metadata"]["event_payload"]["kind"]
        for call in bot.slack.calls("chat.postMessage")
        if call.params["channel"] == channel
    ]


def test_moving_an_unrouted_postmortem_here_posts_its_prompt_here(bot: BotHarness) -> None:
    open_by_webhook(bot, "INC-1")
    bot.settle()
    before = bot.user("U0ALICE", channel_id=HERE).answer("status")

    answer = bot.user("U0ALICE", channel_id=HERE).answer("move #1")
    bot.settle()
    after = bot.user("U0ALICE", channel_id=HERE).answer("status")

    assert "1 postmortem has no channel" in before
    assert "with `/postmortem move #1` there." in before
    assert answer.startswith("Moved postmortem #1 *Disk full* to this channel.")
    assert kinds_posted(bot, HERE) == ["owner_prompt"]
    assert "*#1 Disk full* — Awaiting an owner" in after
    assert "have no channel" not in after
    trail = bot.runtime.postmortems.audit_trail(postmortem_id=1)
    assert [(who, what) for _, who, what in trail][-1] == ("U0ALICE", "moved_to_channel")


def test_a_moved_postmortems_nudges_count_from_the_move_not_from_the_incident(
    bot: BotHarness,
) -> None:
    open_by_webhook(bot, "INC-1")
    bot.clock.advance(timedelta(hours=2))  # unseen all this time: nobody could pick an owner
    bot.user("U0ALICE", channel_id=HERE).answer("move #1")
    bot.settle()

    bot.clock.advance(timedelta(minutes=59))
    bot.dispatch()
    within_the_hour = kinds_posted(bot, HERE)
    bot.clock.advance(timedelta(minutes=2))
    bot.dispatch()

    assert within_the_hour == ["owner_prompt"]
    assert kinds_posted(bot, HERE) == ["owner_prompt", "nudge_no_owner"]


def test_only_a_postmortem_without_a_channel_can_be_moved(bot: BotHarness) -> None:
    bot.user("U0ALICE").answer("start Checkout errors")  # #1, in C0INCIDENT

    elsewhere = bot.user("U0ALICE", channel_id=HERE).answer("move #1")
    same = bot.user("U0ALICE").answer("move #1")
    unknown = bot.user("U0ALICE", channel_id=HERE).answer("move #7")
    no_number = bot.user("U0ALICE", channel_id=HERE).answer("move")
    open_by_webhook(bot, "INC-2")  # #2, without a channel
    in_a_dm = bot.user("U0ALICE", channel_id="D0DIRECT").answer("move #2")

    assert elsewhere.startswith("Postmortem #1 belongs to <#C0INCIDENT>")
    assert same == "Postmortem #1 is already in this channel."
    assert unknown.startswith("There is no postmortem #7.")
    assert "`/postmortem move` needs the number of a postmortem" in no_number
    assert in_a_dm.startswith("A postmortem can only be moved into a channel")
    unrouted = bot.runtime.postmortems.get(postmortem_id=2)
    assert unrouted is not None
    assert unrouted.channel_id is None
    postmortem = bot.runtime.postmortems.get(postmortem_id=1)
    assert postmortem is not None
    assert postmortem.channel_id == "C0INCIDENT"


def test_a_postmortem_moved_once_cannot_be_moved_again(bot: BotHarness) -> None:
    open_by_webhook(bot, "INC-1")
    bot.user("U0ALICE", channel_id=HERE).answer("move #1")

    again = bot.user("U0BOB", channel_id="C0OTHER").answer("move #1")
    bot.settle()

    assert again.startswith(f"Postmortem #1 belongs to <#{HERE}>")
    assert kinds_posted(bot, "C0OTHER") == []
    assert kinds_posted(bot, HERE) == ["owner_prompt"]


def test_the_refusal_for_an_unrouted_postmortem_says_how_to_move_it(bot: BotHarness) -> None:
    open_by_webhook(bot, "INC-1")

    answer = bot.user("U0ALICE", channel_id=HERE).answer("held #1")

    assert answer.startswith("Postmortem #1 has no channel")
    assert "run `/postmortem move #1` in its channel" in answer


def test_sending_the_incident_again_with_a_channel_moves_it_there(bot: BotHarness) -> None:
    first = open_by_webhook(bot, "INC-1")
    again = open_by_webhook(bot, "INC-1", channel=HERE)
    once_more = open_by_webhook(bot, "INC-1", channel="C0OTHER")
    bot.settle()

    assert (first["outcome"], first["channel"]) == ("opened", None)
    assert (again["outcome"], again["channel"]) == ("already_open", HERE)
    assert once_more["channel"] == HERE  # a channel, once given, stays
    assert kinds_posted(bot, HERE) == ["owner_prompt"]
    assert kinds_posted(bot, "C0OTHER") == []
    trail = bot.runtime.postmortems.audit_trail(postmortem_id=1)
    assert [(who, what) for _, who, what in trail][-1] == ("webhook", "moved_to_channel")


def test_a_postmortem_whose_channel_refused_its_prompt_can_be_moved_to_the_right_one(
    bot: BotHarness,
) -> None:
    bot.slack.fail_next("chat.postMessage", "channel_not_found")
    open_by_webhook(bot, "INC-1", channel="C0TYPO")  # a channel id, but not a real channel
    bot.settle()

    answer = bot.user("U0ALICE", channel_id=HERE).answer("move #1")
    bot.settle()
    status = bot.user("U0ALICE", channel_id=HERE).answer("status")

    assert answer.startswith("Moved postmortem #1 *Disk full* to this channel.")
    assert kinds_posted(bot, HERE) == ["owner_prompt"]
    assert "*#1 Disk full* — Awaiting an owner" in status
    assert "could not post" not in status


def test_resending_with_the_right_channel_moves_a_postmortem_its_channel_refused(
    bot: BotHarness,
) -> None:
    bot.slack.fail_next("chat.postMessage", "channel_not_found")
    open_by_webhook(bot, "INC-1", channel="C0TYPO")
    bot.settle()

    again = open_by_webhook(bot, "INC-1", channel=HERE)
    bot.settle()

    assert (again["outcome"], again["channel"]) == ("already_open", HERE)
    assert kinds_posted(bot, HERE) == ["owner_prompt"]


def test_a_postmortem_whose_prompt_reached_its_channel_stays_there(bot: BotHarness) -> None:
    open_by_webhook(bot, "INC-1", channel="C0FIRST")
    bot.settle()

    again = open_by_webhook(bot, "INC-1", channel=HERE)
    moved = bot.user("U0ALICE", channel_id=HERE).answer("move #1")

    assert again["channel"] == "C0FIRST"
    assert moved.startswith("Postmortem #1 belongs to <#C0FIRST>")
    assert kinds_posted(bot, HERE) == []


def test_with_incident_managers_only_they_see_and_move_postmortems_without_a_channel(
    make_bot: BotFactory,
) -> None:
    # Their incidents may be private channels': listed in every channel's status, or pulled
    # into any channel by whoever guessed a number, their titles and people were anyone's.
    bot = make_bot(policy="incident_managers: [U0IM]\n", incident_webhook_secret=INCIDENT_SECRET)
    open_by_webhook(bot, "INC-1")
    bot.settle()

    seen_by_alice = bot.user("U0ALICE", channel_id=HERE).answer("status")
    moved_by_alice = bot.user("U0ALICE", channel_id=HERE).answer("move #1")
    seen_by_manager = bot.user("U0IM", channel_id=HERE).answer("status")
    moved_by_manager = bot.user("U0IM", channel_id=HERE).answer("move #1")
    bot.settle()

    assert "1 postmortem has no channel" in seen_by_alice
    assert "Disk full" not in seen_by_alice
    assert "only the incident managers (<@U0IM>) see them" in seen_by_alice
    assert moved_by_alice.startswith("Only an incident manager (<@U0IM>) can bring a postmortem")
    assert "#1 Disk full" in seen_by_manager
    assert moved_by_manager.startswith("Moved postmortem #1 *Disk full* to this channel.")
    assert kinds_posted(bot, HERE) == ["owner_prompt"]
