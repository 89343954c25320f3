"""What people are told as a postmortem moves on: over real HTTP, against the Slack stand-in.

A new owner after a hand-over, the schedule form once the deadline has passed, the reminder
to finish after the meeting was held.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import BotHarness
from tests.support.lifecycle import (
    errors,
    opened_form,
    owned_by_bob,
    posted,
    schedule_at,
    submitted,
)
from tests.support.slack_user import block_text


def schedule(bot: BotHarness, *, after: timedelta, why: str | None = None) -> None:
    schedule_at(bot, bot.clock() + after, why=why)


def hand_over_to_carol(bot: BotHarness, *, by: str = "U0BOB") -> tuple[str, str]:
    """Hand it over; the prompt as updated, and what the new owner is told."""
    updates = len(bot.slack.calls("chat.update"))
    announcements = len(posted(bot, "owner_chosen"))
    bot.user(by).command("owner <@U0CAROL|carol>")
    bot.slack.wait_for("chat.update", updates + 1)
    bot.settle()
    prompt = block_text(bot.slack.calls("chat.update")[-1].params["blocks"])
    told = posted(bot, "owner_chosen")
    assert len(told) == announcements + 1
    return prompt, str(told[-1]["text"])


# -- after a hand-over, the new owner's steps follow the state ------------------------------


def test_the_new_owner_of_a_scheduled_postmortem_is_told_its_time_and_then_held(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)
    schedule(bot, after=timedelta(hours=2))

    prompt, told = hand_over_to_carol(bot)

    assert "<@U0CAROL> (handed over by <@U0BOB>)" in prompt
    assert "chosen by" not in prompt
    assert told.startswith("<@U0CAROL>, you now own the postmortem for *Checkout errors*")
    assert "Schedule the postmortem meeting" not in told
    assert "The meeting is on the calendar for" in told
    assert told.index("`/postmortem held #1`") < told.index("`/postmortem done #1`")


def test_the_new_owner_after_the_meeting_was_held_is_told_to_finish_then_done(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)
    schedule(bot, after=timedelta(hours=1))
    bot.clock.advance(timedelta(hours=2))
    assert "as held" in bot.user("U0BOB").answer("held")
    bot.settle()

    prompt, told = hand_over_to_carol(bot)

    assert "<@U0CAROL> (handed over by <@U0BOB>)" in prompt
    assert "`/postmortem schedule #1`" not in told
    assert "`/postmortem held #1`" not in told
    assert "Finish the document" in told
    assert "`/postmortem done #1`" in told


def test_a_hand_over_before_any_meeting_says_handed_over_not_chosen(bot: BotHarness) -> None:
    owned_by_bob(bot)

    prompt, told = hand_over_to_carol(bot)

    assert "<@U0CAROL> (handed over by <@U0BOB>)" in prompt
    assert "chosen by" not in prompt
    assert told.startswith("<@U0CAROL>, you now own the postmortem for *Checkout errors*")
    assert "`/postmortem schedule #1`" in told


# -- the schedule form once the deadline has passed ------------------------------------------


def test_an_overdue_postmortems_schedule_form_prefills_a_future_time_and_asks_for_the_reason(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)
    bot.clock.advance(timedelta(days=8))  # the 7-day deadline passed yesterday

    bot.user("U0BOB").answer("schedule")
    form = opened_form(bot)

    [when] = [b for b in form["blocks"] if b.get("block_id") == "meeting_time"]
    prefilled = datetime.fromtimestamp(when["element"]["initial_date_time"], UTC)
    assert prefilled > bot.clock()
    intro = block_text(form["blocks"][0])
    assert "is *overdue*: its meeting was due by" in intro
    assert "a reason is required" in intro
    [why] = [b for b in form["blocks"] if b.get("block_id") == "meeting_justification"]
    assert why.get("optional", False) is False  # Slack will not submit it empty
    assert "required" in why["label"]["text"]

    refused = errors(bot.user("U0BOB").submit_view(submitted(form, at=prefilled)))
    accepted = errors(
        bot.user("U0BOB").submit_view(submitted(form, at=prefilled, why="We missed it"))
    )
    bot.settle()

    assert "in the past" not in refused.get("meeting_time", "")
    assert "justification" in refused["meeting_time"]
    assert accepted == {}
    [invite] = posted(bot, "meeting_invite")
    assert "because: _We missed it_" in invite["text"]


# -- after the meeting is held: finish it, then `done` ---------------------------------------


def test_two_working_days_after_the_meeting_was_held_the_owner_is_reminded_to_finish(
    make_bot: Any,
) -> None:
    bot: BotHarness = make_bot(policy="working_hours: always\n")
    owned_by_bob(bot)
    schedule(bot, after=timedelta(hours=1))
    bot.clock.advance(timedelta(hours=2))
    bot.user("U0BOB").answer("held")
    bot.settle()

    bot.clock.advance(timedelta(days=2))
    bot.dispatch()

    [reminder] = posted(bot, "nudge_not_done")
    assert "<@U0BOB>" in reminder["text"]
    assert "`/postmortem done #1`" in reminder["text"]


def test_an_owner_someone_else_chose_is_told_directly_as_well_as_in_the_channel(
    bot: BotHarness,
) -> None:
    bot.user("U0ALICE").answer("start Checkout errors")
    bot.slack.wait_for("chat.postMessage")
    bot.user("U0ALICE").click(
        {"action_id": "owner.pick_anyone", "block_id": "owner:1", "selected_user": "U0DAVE"}
    )
    bot.slack.wait_for("chat.update")
    bot.settle()

    [direct] = posted(bot, "owner_told")
    assert direct["channel"] == "U0DAVE"  # a direct message: Dave may not be in the channel
    assert direct["text"] == (
        ":wave: <@U0ALICE> chose you to own the postmortem for *Checkout errors* (#1) in "
        "<#C0INCIDENT>. Owning it is not blame: you coordinate a collaborative, blameless "
        "review and do the admin; writing it is everyone's work. Your next steps are in "
        "<#C0INCIDENT>, where the commands work. Not the right person? Agree on someone there "
        "and hand it over with `/postmortem owner #1 @someone`."
    )


def test_whoever_volunteers_gets_no_direct_message(bot: BotHarness) -> None:
    owned_by_bob(bot)  # Bob clicked "I'll own it"

    assert posted(bot, "owner_told") == []


def test_a_new_owner_handed_the_postmortem_is_told_directly(bot: BotHarness) -> None:
    owned_by_bob(bot)

    hand_over_to_carol(bot)

    [direct] = posted(bot, "owner_told")
    assert direct["channel"] == "U0CAROL"
    assert direct["text"].startswith(
        ":wave: <@U0BOB> handed you the postmortem for *Checkout errors* (#1) in <#C0INCIDENT>."
    )


def test_a_direct_message_held_up_until_after_a_hand_over_goes_only_to_the_new_owner(
    bot: BotHarness,
) -> None:
    bot.user("U0ALICE").answer("start Checkout errors")
    bot.slack.wait_for("chat.postMessage")
    bot.settle()
    bot.slack.fail_next("chat.postMessage", "service_unavailable", count=2)  # Slack hiccups
    bot.user("U0ALICE").click(
        {"action_id": "owner.pick_anyone", "block_id": "owner:1", "selected_user": "U0DAVE"}
    )
    bot.slack.wait_for("chat.update")
    bot.settle()
    bot.user("U0DAVE").command("owner <@U0ERIN|erin>")  # Dave hands it on before hearing
    bot.slack.wait_for("chat.update", 2)
    bot.settle()

    bot.clock.advance(timedelta(minutes=5))
    bot.dispatch()

    def told_directly(user: str) -> list[str]:
        return [
            m["text"]
            for m in bot.slack.messages(user)
            if m["metadata"]["event_payload"]["kind"] == "owner_told"
        ]

    assert told_directly("U0DAVE") == []  # he owns it no more: "chose you" would be wrong
    [erin] = told_directly("U0ERIN")
    assert erin.startswith(":wave: <@U0DAVE> handed you the postmortem")
