"""After `/postmortem done`: what the artifact still lacks is followed up with its owner.

The team may complete a postmortem at its meeting with its document or action items not
written yet (they stay open); the guidance's artifact — what went wrong, how the response
worked, the steps against a repeat — is what the postmortem is for, so its owner is reminded
of what is missing, a few times, until it is there.
"""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import BotHarness
from tests.e2e.test_document import add_action_item, document_form, filled
from tests.e2e.test_lifecycle_messages import hand_over_to_carol
from tests.support.lifecycle import completed_by_bob, posted

KIND = "nudge_artifact_gaps"


def a_week_later(bot: BotHarness, days: int = 7) -> None:
    bot.settle()  # nothing is being sent as the clock jumps
    bot.clock.advance(timedelta(days=days))
    bot.dispatch()
    bot.settle()


def test_the_owner_hears_what_a_completed_postmortem_lacks_until_it_is_written(
    bot: BotHarness,
) -> None:
    completed_by_bob(bot)  # Thursday 15:00, with no document and no action item
    bot.settle()
    bot.clock.advance(timedelta(days=4, hours=1))  # Monday 16:00: two working days later
    bot.dispatch()
    bot.settle()

    [first] = posted(bot, KIND)
    assert first["text"] == (
        ":memo: <@U0BOB>, the postmortem for *Checkout errors* (#1) is complete, but it does "
        "not say yet what went wrong to cause it (the contributing factors) or how the incident "
        "response worked, and has no action item to keep it from happening again: its document "
        "and action items stay open, so add them with `/postmortem document #1` and "
        "`/postmortem action #1 @someone YYYY-MM-DD what to do`."
    )
    assert [b["action_id"] for b in first["blocks"][1]["elements"]] == ["nudge.snooze"]

    # The document is written; only the steps against a repeat are missing now.
    form = document_form(bot, "U0BOB")
    bot.user("U0BOB").submit_view(
        filled(form, contributing_factors="A config push raced the deploy.", response="Paged fast.")
    )
    a_week_later(bot, days=3)
    [_, second] = posted(bot, KIND)
    assert second["text"] == (
        ":memo: <@U0BOB>, the postmortem for *Checkout errors* (#1) is complete, but it has no "
        "action item to keep it from happening again: its document and action items stay "
        "open, so add one with `/postmortem action #1 @someone YYYY-MM-DD what to do`."
    )

    # Then an action item: nothing is missing, so nothing more is said.
    assert "Added action item 1" in add_action_item(
        bot, "U0BOB", "<@U0DAN> 2026-12-18 Serialise config pushes and deploys"
    )
    a_week_later(bot)
    a_week_later(bot)
    assert len(posted(bot, KIND)) == 2


def test_the_owner_is_reminded_three_times_at_most(bot: BotHarness) -> None:
    completed_by_bob(bot)

    for _ in range(5):
        a_week_later(bot)

    reminders = [p["text"] for p in posted(bot, KIND)]
    assert len(reminders) == 3
    assert reminders[-1].endswith("This is my last reminder about it.")
    assert not any(r.endswith("last reminder about it.") for r in reminders[:-1])


def test_what_is_added_before_the_reminder_is_due_leaves_nothing_to_remind_of(
    bot: BotHarness,
) -> None:
    completed_by_bob(bot)
    form = document_form(bot, "U0BOB")
    bot.user("U0BOB").submit_view(
        filled(form, contributing_factors="A config push raced the deploy.", response="Paged fast.")
    )
    add_action_item(bot, "U0BOB", "<@U0DAN> 2026-12-18 Serialise config pushes and deploys")

    a_week_later(bot)
    a_week_later(bot)

    assert posted(bot, KIND) == []


def test_handed_over_after_done_the_new_owner_hears_what_it_lacks_and_is_reminded_of_it(
    bot: BotHarness,
) -> None:
    completed_by_bob(bot)  # Thursday 15:00, with no document and no action item
    bot.settle()

    prompt, told = hand_over_to_carol(bot)  # Bob is leaving: `/postmortem owner @carol`

    answer = bot.slack.calls("chat.postEphemeral")[-1].params
    assert (answer["user"], answer["text"]) == (
        "U0BOB",
        "<@U0CAROL> now owns postmortem #1; I told the channel.",
    )
    assert "<@U0CAROL> (handed over by <@U0BOB>)" in prompt
    assert "Postmortem #1 · complete since <!date^" in prompt
    assert told.startswith(
        "<@U0CAROL>, you now own the postmortem for *Checkout errors* (handed over by "
        "<@U0BOB>). Thank you for taking it on!\nIt is already complete (since <!date^"
    )
    assert told.endswith(
        "no meeting is left to hold. What is left:\n"
        "1. The postmortem does not say yet what went wrong to cause it (the contributing "
        "factors) or how the incident response worked, and has no action item to keep it from "
        "happening again: its document and action items stay open, so add them with "
        "`/postmortem document #1` and `/postmortem action #1 @someone YYYY-MM-DD what to do`.\n"
        "2. Then `/postmortem export #1` posts its document as Markdown, to keep.\n"
        "You coordinate; everyone writes. Keep it blameless."
    )
    [direct] = posted(bot, "owner_told")
    assert direct["channel"] == "U0CAROL"
    assert direct["text"].startswith(
        ":wave: <@U0BOB> handed you the postmortem for *Checkout errors* (#1) in <#C0INCIDENT>, "
        "which is already complete: no meeting is left to hold. The postmortem does not say yet"
    )

    bot.clock.advance(timedelta(days=4, hours=1))  # Monday 16:00: two working days after done
    bot.dispatch()
    bot.settle()

    [reminder] = posted(bot, KIND)
    assert reminder["text"].startswith(
        ":memo: <@U0CAROL>, the postmortem for *Checkout errors* (#1) is complete, but it does "
        "not say yet"
    )
    a_week_later(bot)
    for before_done in ("nudge_no_meeting", "nudge_no_draft", "nudge_not_done"):
        assert posted(bot, before_done) == []


def test_handed_over_after_done_the_export_still_names_who_ran_the_meeting(
    bot: BotHarness,
) -> None:
    bot.slack.add_user("U0BOB", real_name="Bob")
    bot.slack.add_user("U0CAROL", real_name="Carol")
    completed_by_bob(bot)  # Bob scheduled the meeting, held it, and was done
    bot.settle()
    hand_over_to_carol(bot)

    bot.user("U0CAROL").answer("export #1")
    bot.settle()

    _invite, export = bot.slack.wait_for("_upload", count=2)  # the meeting's .ics, then this
    markdown = export.params["text"]
    assert "- Owner: @Carol\n" in markdown
    assert "- Participants: @Bob\n" in markdown


def test_its_owner_hands_a_completed_postmortem_over_from_a_direct_message(
    bot: BotHarness,
) -> None:
    # Months later its incident channel may be archived, where slash commands do not run:
    # named by its number, the postmortem is handed over from anywhere, by those who may.
    completed_by_bob(bot)
    bot.settle()

    bot.user("U0DAN", channel_id="D0DAN").command("owner #1 <@U0DAN|dan>")
    refused = bot.slack.wait_for("chat.postEphemeral")[-1].params["text"]
    bot.user("U0BOB", channel_id="D0BOB").command("owner #1 <@U0CAROL|carol>")
    answer = bot.slack.wait_for("chat.postEphemeral", 2)[-1].params

    assert refused == "Postmortem #1 belongs to <#C0INCIDENT>: run the command there."
    assert (answer["channel"], answer["user"], answer["text"]) == (
        "D0BOB",
        "U0BOB",
        "<@U0CAROL> now owns postmortem #1; I told the channel.",
    )
    bot.settle()
    [told] = posted(bot, "owner_told")
    assert told["channel"] == "U0CAROL"
