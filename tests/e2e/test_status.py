"""`/postmortem status`: state, owner and deadlines of the channel's postmortem."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import BotFactory, BotHarness


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
    assert "Owned, meeting not scheduled" in after
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


MANAGED = "incident_managers: [U0MANAGER]\n"


def test_status_all_lists_every_channels_open_postmortems_overdue_meetings_first(
    make_bot: BotFactory,
) -> None:
    bot = make_bot(policy=MANAGED)
    bot.user("U0ALICE", channel_id="C0OLD").answer("start Old outage")
    bot.settle()
    bot.clock.advance(timedelta(days=3))
    bot.user("U0ALICE", channel_id="C0NEW").answer("start New outage")
    bot.user("U0BOB", channel_id="C0NEW").click({"action_id": "owner.claim_self", "value": "2"})
    bot.slack.wait_for("chat.update")  # the claim is answered after its ack: wait for it
    bot.user("U0ALICE", channel_id="C0DONE").answer("start Cancelled one")
    bot.user("U0ALICE", channel_id="C0DONE").answer("cancel #3 opened twice: #2 is this one")
    bot.settle()  # before the clock jumps past the pump's lease
    bot.clock.advance(timedelta(days=5))  # the first is 8 days resolved, the second 5

    overview = bot.user("U0MANAGER", channel_id="D0MANAGER").answer("status all")

    lines = overview.splitlines()
    assert lines[0] == (
        "*2 open postmortems in every channel*, 1 with the meeting overdue, those needing "
        "help first:"
    )
    assert lines[1].startswith("• *#1 Old outage* in <#C0OLD> — Awaiting an owner · _no owner")
    assert lines[1].endswith(":warning: meeting overdue")
    assert lines[2].startswith(
        "• *#2 New outage* in <#C0NEW> — Owned, meeting not scheduled · <@U0BOB> ·"
    )
    assert "overdue" not in lines[2]
    assert "Cancelled one" not in overview
    assert lines[-1] == "`/postmortem status #N` in a postmortem's channel shows it in full."


def test_status_all_flags_a_postmortem_whose_owner_prompt_slack_refused_before_overdue_ones(
    make_bot: BotFactory,
) -> None:
    bot = make_bot(policy=MANAGED)
    bot.user("U0ALICE", channel_id="C0OLD").answer("start Old outage")
    bot.settle()
    bot.clock.advance(timedelta(days=8))  # its meeting is overdue now
    bot.dispatch()  # its nudges, before Slack refuses the next message
    # A private channel the bot was not invited to: nobody there sees the owner prompt.
    bot.slack.fail_next("chat.postMessage", "not_in_channel")
    bot.user("U0ALICE", channel_id="C0PRIV").answer("start Private outage")
    bot.settle()

    overview = bot.user("U0MANAGER", channel_id="D0MANAGER").answer("status all")

    lines = overview.splitlines()
    assert lines[0] == (
        "*2 open postmortems in every channel*, 1 whose messages Slack refused, 1 with the "
        "meeting overdue, those needing help first:"
    )
    assert lines[1].startswith(
        "• *#2 Private outage* in <#C0PRIV> — Awaiting an owner · _no owner yet_ ·"
    )
    assert lines[1].endswith(
        " · :warning: Slack refused its owner prompt (`not_in_channel`), so nobody was asked to "
        "pick an owner: invite me to <#C0PRIV> (`/invite @postmortem-bot`) and run "
        "`/postmortem start` there again, or `/postmortem move #2` in the right channel"
    )
    assert lines[2].startswith("• *#1 Old outage* in <#C0OLD>")
    assert lines[2].endswith(":warning: meeting overdue")
    assert "refused" not in lines[2]


def test_status_all_is_for_the_incident_managers_and_says_so(make_bot: BotFactory) -> None:
    unmanaged = make_bot()
    unmanaged.user("U0ALICE", channel_id="C0SECRET").answer("start Secret outage")
    without_managers = unmanaged.user("U0ALICE").answer("status all")
    managed = make_bot(policy=MANAGED)
    with_managers = managed.user("U0ALICE").answer("status all")

    assert without_managers.startswith(
        "`/postmortem status all` is for the incident managers, and the policy file names none"
    )
    assert with_managers.startswith(
        "`/postmortem status all` is for the incident managers: it lists incidents of channels"
    )
    assert "Secret outage" not in without_managers + with_managers


def test_status_all_with_nothing_open_says_so(make_bot: BotFactory) -> None:
    bot = make_bot(policy=MANAGED)

    assert bot.user("U0MANAGER").answer("status all") == "No postmortem is open in any channel."
