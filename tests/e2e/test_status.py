"""`/postmortem status`: state, owner and deadlines of the channel's postmortem."""

from __future__ import annotations

from tests.conftest import BotHarness


def test_status_shows_state_owner_and_the_meeting_deadline(bot: BotHarness) -> None:
    bot.user("U0ALICE").answer("start Checkout errors")

    before = bot.user("U0ALICE").answer("status")
    bot.user("U0BOB").click({"action_id": "owner.claim_self", "value": "1"})
    bot.settle()
    after = bot.user("U0ALICE").answer("status")

    assert "#1 Checkout errors* — Awaiting an owner" in before
    assert "nobody yet" in before
    assert "meeting due by <!date^" in before
    assert "2026-12-01 14:00 UTC" in before  # a week after the (controlled) resolution time
    assert "Owned, drafting" in after
    assert "Owner: <@U0BOB>" in after


def test_status_in_a_quiet_channel_says_how_to_start(bot: BotHarness) -> None:
    assert "no open postmortem in this channel" in bot.user("U0ALICE").answer("status")


def test_status_of_another_channels_postmortem_or_an_unknown_number_says_there_is_none(
    bot: BotHarness,
) -> None:
    bot.user("U0ALICE", channel_id="C0OTHER").answer("start Elsewhere")

    elsewhere = bot.user("U0ALICE").answer("status #1")
    unknown = bot.user("U0ALICE").answer("status #42")

    assert "There is no postmortem #1 in this channel" in elsewhere
    assert "Elsewhere" not in elsewhere
    assert "There is no postmortem #42 in this channel" in unknown


def test_status_with_words_instead_of_a_number_answers_with_the_usage(bot: BotHarness) -> None:
    answer = bot.user("U0ALICE").answer("status of everything")

    assert "`/postmortem status` takes at most a postmortem number" in answer
    assert "/postmortem help" in answer
