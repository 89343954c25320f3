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
