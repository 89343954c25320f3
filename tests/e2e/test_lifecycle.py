"""Schedule the meeting, mark it held, complete it: the real HTTP app and the Slack stand-in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import select

from bot.persistence.tables import OutboxRow, PostmortemRow
from tests.conftest import BotFactory, BotHarness
from tests.e2e.test_document import add_action_item
from tests.support.lifecycle import (
    completed_by_bob,
    errors,
    held_by_bob,
    opened_form,
    owned_by_bob,
    posted,
    schedule_at,
    schedule_form,
    submitted,
)
from tests.support.slack_user import buttons


def test_only_the_owner_may_schedule_and_others_are_told_why(bot: BotHarness) -> None:
    owned_by_bob(bot)

    answer = bot.user("U0CAROL").answer("schedule")

    assert "Only the owner <@U0BOB> can schedule the meeting for postmortem #1." in answer
    assert bot.slack.calls("views.open") == []


def test_a_schedule_form_whose_sender_no_longer_owns_it_is_refused_without_a_mention(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)
    bot.user("U0BOB").answer("schedule")
    form = schedule_form(bot, after=timedelta(days=2))
    bot.user("U0BOB").answer("owner <@U0CAROL>")  # handed over while the form was open
    bot.slack.wait_for("chat.postEphemeral")

    refused = errors(bot.user("U0BOB").submit_view(form))

    # A form's errors are plain text, where "<@U0CAROL>" would show as it is.
    assert refused == {
        "meeting_time": "Only its owner (`/postmortem status #1` names them) can schedule the "
        "meeting for postmortem #1. Ask them to, or to hand the postmortem to you: they run "
        "`/postmortem owner #1 @your-name`."
    }
    assert posted(bot, "meeting_invite") == []


def test_a_meeting_more_than_7_days_after_resolution_is_refused_inline_with_the_reason(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)
    assert bot.user("U0BOB").answer("schedule") == ""
    opened = bot.slack.wait_for("views.open")[0].params["view"]
    assert opened["callback_id"] == "postmortem.schedule"

    refused = errors(bot.user("U0BOB").submit_view(schedule_form(bot, after=timedelta(days=8))))

    assert "more than 7 days after the incident was resolved" in refused["meeting_time"]
    assert "justification" in refused["meeting_time"]
    assert posted(bot, "meeting_invite") == []


def test_a_meeting_in_the_past_is_refused(bot: BotHarness) -> None:
    owned_by_bob(bot)
    bot.user("U0BOB").answer("schedule")

    refused = errors(bot.user("U0BOB").submit_view(schedule_form(bot, after=-timedelta(hours=1))))

    assert "in the past" in refused["meeting_time"]


def test_a_late_meeting_with_a_justification_is_scheduled_recorded_and_invited(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)
    bot.user("U0BOB").answer("schedule")
    form = schedule_form(
        bot, after=timedelta(days=9), why="The on-call lead is on leave", people=("U0CS", "U0PM")
    )

    assert errors(bot.user("U0BOB").submit_view(form)) == {}
    bot.settle()

    [invite] = posted(bot, "meeting_invite")
    assert "<@U0BOB>" in invite["text"]
    assert "<@U0CS>, <@U0PM>" in invite["text"]
    assert "customer support, account management, product management" in invite["text"]
    assert "The on-call lead is on leave" in invite["text"]
    [upload] = bot.slack.wait_for("files.getUploadURLExternal")
    assert upload.params["filename"] == "postmortem-1-meeting.ics"
    [complete] = bot.slack.wait_for("files.completeUploadExternal")
    assert complete.params["channel_id"] == "C0INCIDENT"
    trail = bot.runtime.postmortems.audit_trail(postmortem_id=1)
    assert [what for _, _, what in trail][-1] == "meeting_scheduled"
    stored = bot.runtime.postmortems.get(postmortem_id=1)
    assert stored is not None
    assert stored.meeting_justification == "The on-call lead is on leave"
    assert stored.meeting_participants == ("U0CS", "U0PM")


BERLIN_OFFICE_HOURS = """
workspace_timezone: Europe/Berlin
working_hours: {days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}
"""


def test_a_meeting_outside_working_hours_is_scheduled_and_the_announcement_says_so(
    make_bot: BotFactory,
) -> None:
    bot = make_bot(policy=BERLIN_OFFICE_HOURS)
    owned_by_bob(bot)
    saturday_10am_berlin = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)

    schedule_at(bot, saturday_10am_berlin)

    [invite] = posted(bot, "meeting_invite")
    assert (
        "\nNote: that is Saturday 10:00 in Europe/Berlin, outside the team's working hours "
        "there (Mon-Fri 09:00-17:00); the owner and participants may not be there.\n"
    ) in invite["text"]
    stored = bot.runtime.postmortems.get(postmortem_id=1)
    assert stored is not None
    assert stored.meeting_at == saturday_10am_berlin

    # Moved into working hours: the new announcement has no note.
    thursday_11am_berlin = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    schedule_at(bot, thursday_11am_berlin)

    [_, moved] = posted(bot, "meeting_invite")
    assert "moved from" in moved["text"]
    assert "Note:" not in moved["text"]


def test_the_form_prefills_a_time_in_working_hours_by_a_deadline_that_falls_at_night(
    make_bot: BotFactory,
) -> None:
    bot = make_bot(policy=BERLIN_OFFICE_HOURS)
    bot.clock.set(datetime(2026, 11, 24, 2, 0, tzinfo=UTC))  # resolved Tuesday 03:00 in Berlin
    owned_by_bob(bot)
    bot.clock.set(datetime(2026, 11, 30, 11, 0, tzinfo=UTC))  # Monday 12:00: due in 15 hours
    bot.user("U0BOB").answer("schedule")
    view = opened_form(bot)
    prefilled = next(b for b in view["blocks"] if b.get("block_id") == "meeting_time")
    suggested = datetime.fromtimestamp(prefilled["element"]["initial_date_time"], UTC)

    assert errors(bot.user("U0BOB").submit_view(submitted(view, at=suggested))) == {}
    bot.settle()

    assert suggested == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # Monday 16:00 in Berlin
    [invite] = posted(bot, "meeting_invite")
    assert "Note:" not in invite["text"]


def test_done_needs_the_meeting_held_first_then_the_channel_is_told_each_step(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)
    bot.user("U0BOB").answer("schedule")
    bot.user("U0BOB").submit_view(schedule_form(bot, after=timedelta(days=2)))

    too_early = bot.user("U0BOB").answer("done")
    bot.clock.advance(timedelta(days=2, hours=1))
    held = bot.user("U0BOB").answer("held")
    done = bot.user("U0BOB").answer("done")
    bot.settle()

    assert "meeting has not been held yet" in too_early
    assert "as held" in held
    assert "is complete" in done
    assert "was held (marked by <@U0BOB>)" in posted(bot, "meeting_held")[0]["text"]
    assert "is complete" in posted(bot, "completed")[0]["text"]
    trail = [what for _, _, what in bot.runtime.postmortems.audit_trail(postmortem_id=1)]
    assert trail[-3:] == ["meeting_scheduled", "meeting_held", "completed"]
    # Completed: nothing is left to nudge about.
    bot.clock.advance(timedelta(days=10))
    bot.dispatch()
    assert posted(bot, "escalate_overdue") == []
    assert posted(bot, "remind_meeting_due") == []


def test_once_held_every_pointer_to_action_items_shows_a_command_that_works_as_written(
    bot: BotHarness,
) -> None:
    held_by_bob(bot)  # Thursday 15:00
    bot.settle()
    held_again = bot.user("U0BOB").answer("held")
    bot.clock.advance(timedelta(days=4))  # Monday: the "finish the document" reminder is out
    bot.dispatch()

    usable = "`/postmortem action #1 @someone YYYY-MM-DD what to do`"
    [held] = posted(bot, "meeting_held")
    [reminder] = posted(bot, "nudge_not_done")
    for text in (held["text"], reminder["text"], held_again):
        assert f"agree action items with owners and due dates ({usable})" in text
    # As suggested, with its placeholders filled in, it records the item.
    filled_in = usable.strip("`").removeprefix("/postmortem action ")
    filled_in = filled_in.replace("@someone", "<@U0DAN|dan>").replace("YYYY-MM-DD", "2026-12-18")
    assert "Added action item 1" in add_action_item(
        bot, "U0BOB", filled_in.replace("what to do", "Alert on queue depth")
    )


# Thursday 26 November 2026, 15:00 UTC, as a Slack date: each reader sees their own zone.
THURSDAY_3PM_IN_EACH_ZONE = "<!date^1795705200^{date_short_pretty} at {time}|2026-11-26 15:00 UTC>"


def test_a_lifecycle_command_on_a_completed_postmortem_says_what_it_still_lacks(
    bot: BotHarness,
) -> None:
    completed_by_bob(bot)  # with no document and no action item

    answers = [bot.user("U0BOB").answer(f"{verb} #1") for verb in ("held", "schedule", "done")]

    for answer, asked in zip(
        answers,
        (
            "mark this postmortem's meeting as held",
            "schedule this postmortem's meeting",
            "mark this postmortem done",
        ),
        strict=True,
    ):
        assert answer == (
            f"I can't {asked}: it is already complete (since {THURSDAY_3PM_IN_EACH_ZONE}, "
            "marked by <@U0BOB>). The postmortem does not say yet what went wrong to cause it (the "
            "contributing factors) or how the incident response worked, and has no action item "
            "to keep it from happening again: its document and action items stay open, so add "
            "them with `/postmortem document #1` and `/postmortem action #1 @someone YYYY-MM-DD "
            "what to do`."
        )


def test_a_schedule_form_sent_after_done_says_since_when_in_the_workspaces_zone(
    make_bot: BotFactory,
) -> None:
    bot = make_bot(policy=BERLIN_OFFICE_HOURS)
    owned_by_bob(bot)
    bot.user("U0BOB").answer("schedule")
    bot.user("U0BOB").submit_view(schedule_form(bot, after=timedelta(days=2)))
    bot.user("U0BOB").answer("schedule")  # to move it; left open while it is held and done
    left_open = opened_form(bot)
    bot.clock.advance(timedelta(days=2, hours=1))
    bot.user("U0BOB").answer("held")
    bot.user("U0BOB").answer("done")

    refused = errors(
        bot.user("U0BOB").submit_view(submitted(left_open, at=bot.clock() + timedelta(days=1)))
    )

    # A form's error is plain text, where a Slack date or a mention would show as markup.
    assert refused["meeting_time"].startswith(
        "I can't schedule this postmortem's meeting: it is already complete (since Thu 26 Nov "
        "2026 16:00 in Europe/Berlin). The postmortem does not say yet"
    )


def test_a_meeting_still_on_the_calendar_cannot_be_marked_held(bot: BotHarness) -> None:
    owned_by_bob(bot)
    bot.user("U0BOB").answer("schedule")
    bot.user("U0BOB").submit_view(schedule_form(bot, after=timedelta(days=2)))

    bot.clock.advance(timedelta(days=1))
    early = bot.user("U0BOB").answer("held")
    done = bot.user("U0BOB").answer("done")
    bot.clock.advance(timedelta(days=1))
    on_time = bot.user("U0BOB").answer("held")

    assert (
        "is on the calendar for "
        "<!date^1795701600^{date_short_pretty} at {time}|2026-11-26 14:00 UTC>: "
    ) in early
    assert "mark it held once it has taken place" in early
    assert "`/postmortem held #1 early`" in early
    assert "meeting has not been held yet" in done
    assert "as held" in on_time
    trail = [what for _, _, what in bot.runtime.postmortems.audit_trail(postmortem_id=1)]
    assert trail.count("meeting_held") == 1


def test_a_meeting_that_took_place_early_is_recorded_with_held_early(bot: BotHarness) -> None:
    owned_by_bob(bot)
    bot.user("U0BOB").answer("schedule")
    bot.user("U0BOB").submit_view(schedule_form(bot, after=timedelta(days=2)))
    bot.clock.advance(timedelta(days=1))

    answer = bot.user("U0BOB").answer("held early")
    done = bot.user("U0BOB").answer("done")

    assert "as held" in answer
    assert "is complete" in done
    trail = bot.runtime.postmortems.audit_trail(postmortem_id=1)
    assert [what for _, _, what in trail][-2:] == ["meeting_held", "completed"]


def held_row(bot: BotHarness) -> Any:
    with bot.runtime.engine.connect() as connection:
        [row] = connection.execute(select(PostmortemRow)).all()
    assert row.meeting_held_at is not None
    return row


def test_a_meeting_marked_held_days_later_is_recorded_at_its_scheduled_time(
    bot: BotHarness,
) -> None:
    # Marked held a week on, past the deadline: the record (and the exported document) must
    # not make a meeting that was on time look late.
    owned_by_bob(bot)
    bot.user("U0BOB").answer("schedule")
    bot.user("U0BOB").submit_view(schedule_form(bot, after=timedelta(days=2)))
    bot.clock.advance(timedelta(days=8))

    bot.user("U0BOB").answer("held")
    status = bot.user("U0BOB").answer("status")

    assert "• Meeting held <!date^1795701600^" in status  # Thu 26 Nov 14:00 UTC, as scheduled
    row = held_row(bot)
    assert row.meeting_held_at.replace(tzinfo=UTC) == row.meeting_at.replace(tzinfo=UTC)
    trail = bot.runtime.postmortems.audit_trail(postmortem_id=1)
    assert trail[-1][0] == bot.clock()  # the audit keeps when it was marked


def test_a_meeting_held_early_is_recorded_when_it_was_marked(bot: BotHarness) -> None:
    owned_by_bob(bot)
    bot.user("U0BOB").answer("schedule")
    bot.user("U0BOB").submit_view(schedule_form(bot, after=timedelta(days=2)))
    bot.clock.advance(timedelta(days=1))

    bot.user("U0BOB").answer("held early")

    row = held_row(bot)
    assert row.meeting_held_at.replace(tzinfo=UTC) == bot.clock()  # before its scheduled time


def test_a_meeting_held_without_being_scheduled_here_is_recorded_when_said_so(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)
    bot.clock.advance(timedelta(days=1))

    plain = bot.user("U0BOB").answer("held")
    said = bot.user("U0BOB").answer("held unscheduled")
    status = bot.user("U0BOB").answer("status")
    bot.settle()

    assert plain.startswith("No meeting is on the calendar for postmortem #1 yet")
    assert "record it with `/postmortem held #1 unscheduled`" in plain
    assert said == "Marked the meeting for postmortem #1 as held; I told the channel."
    assert "Meeting held" in status
    assert "was held (marked by <@U0BOB>)" in posted(bot, "meeting_held")[0]["text"]
    trail = [what for _, _, what in bot.runtime.postmortems.audit_trail(postmortem_id=1)]
    assert trail.count("meeting_held") == 1
    # Held: the meeting's reminders and escalation stop; the owner is asked to finish it.
    bot.clock.advance(timedelta(days=8))  # Thursday, past the meeting's deadline
    bot.dispatch()
    for kind in ("nudge_no_meeting", "remind_meeting_due", "escalate_overdue"):
        assert posted(bot, kind) == [], kind
    assert posted(bot, "nudge_not_done") != []
    assert "is complete" in bot.user("U0BOB").answer("done")


def test_the_no_meeting_reminder_says_how_to_record_a_meeting_held_without_it(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)

    bot.clock.advance(timedelta(days=3))
    bot.dispatch()

    [reminder] = [p["text"] for p in posted(bot, "nudge_no_meeting")]
    assert "record it with `/postmortem held #1 unscheduled`" in reminder


def test_status_with_a_number_shows_that_postmortem_even_once_completed(bot: BotHarness) -> None:
    completed_by_bob(bot)

    listed = bot.user("U0ALICE").answer("status")
    asked = bot.user("U0ALICE").answer("status #1")

    assert listed.startswith(
        "There is no open postmortem in this channel (`/postmortem start` opens one). Its last "
        "one is complete; its document and action items stay open:\n"
        "*#1 Checkout errors* — Completed\n"
    )
    assert "#1 Checkout errors* — Completed" in asked
    assert "Owner: <@U0BOB>" in asked
    assert "• Meeting held <!date^" in asked
    assert "• Completed <!date^" in asked


def test_in_the_channel_of_its_only_completed_postmortem_export_details_and_document_act_on_it(
    bot: BotHarness,
) -> None:
    completed_by_bob(bot)

    answers = {verb: bot.user("U0BOB").answer(verb) for verb in ("export", "details", "document")}
    opened = bot.slack.wait_for("views.open", count=3)  # the schedule form, then these two

    assert answers["export"] == (
        "I'm posting postmortem #1's document and action items here as a Markdown file."
    )
    assert answers["details"] == answers["document"] == ""
    # Each form opens from its own lazy listener, so in either order.
    titles = {call.params["view"]["title"]["text"] for call in opened[1:]}
    assert titles == {"Incident details", "Postmortem document"}


def test_in_a_channel_with_several_completed_postmortems_a_command_without_its_number_names_one(
    bot: BotHarness,
) -> None:
    completed_by_bob(bot)
    bot.user("U0ALICE").answer("start Queue backlog")
    bot.settle()
    prompt = posted(bot, "owner_prompt")[-1]
    bot.user("U0BOB").click(
        {"action_id": "owner.claim_self", "value": buttons(prompt["blocks"])[0]["value"]}
    )
    assert "as held" in bot.user("U0BOB").answer("held #2 unscheduled")
    assert bot.user("U0BOB").answer("done #2").startswith("Postmortem #2 is complete")

    export = bot.user("U0BOB").answer("export")
    document = bot.user("U0BOB").answer("document")

    assert export == (
        "There is no open postmortem in this channel, and it has more than one closed. To export "
        "one of them, add its number after the command, e.g. `/postmortem export #2` for the "
        "latest, *#2 Queue backlog* (`/postmortem status #2` shows it)."
    )
    assert "e.g. `/postmortem document #2` for the latest" in document
    bot.settle()  # a form wrongly opened would open from a lazy listener, after the answer
    assert len(bot.slack.calls("views.open")) == 1  # the schedule form only


def test_a_lifecycle_command_without_a_number_after_done_names_the_completed_postmortem(
    bot: BotHarness,
) -> None:
    completed_by_bob(bot)

    again = bot.user("U0BOB").answer("done")

    assert again == (
        "There is no open postmortem in this channel: its last one, *#1 Checkout errors*, is "
        "complete (`/postmortem status #1` shows what is still open in it). A new incident gets "
        "its own postmortem with `/postmortem start <title>`."
    )


def test_the_mark_held_button_on_the_reminder_marks_it_held(bot: BotHarness) -> None:
    owned_by_bob(bot)
    bot.user("U0BOB").answer("schedule")
    bot.user("U0BOB").submit_view(schedule_form(bot, after=timedelta(hours=1)))
    bot.clock.advance(timedelta(hours=2))
    bot.dispatch()
    [ask] = posted(bot, "ask_mark_held")
    button = next(b for b in buttons(ask["blocks"]) if b["action_id"] == "lifecycle.mark_held")

    bot.user("U0BOB").click(button)
    bot.settle()

    assert posted(bot, "meeting_held")
    stored = bot.runtime.postmortems.get(postmortem_id=1)
    assert stored is not None
    assert stored.state.value == "in_review"


def held_by_command(bot: BotHarness, ask: dict[str, Any]) -> None:
    bot.user("U0BOB").answer("held")


def held_by_its_button(bot: BotHarness, ask: dict[str, Any]) -> None:
    button = next(b for b in buttons(ask["blocks"]) if b["action_id"] == "lifecycle.mark_held")
    bot.user("U0BOB").click(button, message_ts=ask["ts"])


def moved_to_tomorrow(bot: BotHarness, ask: dict[str, Any]) -> None:
    bot.user("U0BOB").answer("schedule")
    bot.user("U0BOB").submit_view(schedule_form(bot, after=timedelta(days=1)))


def cancelled_by_alice(bot: BotHarness, ask: dict[str, Any]) -> None:
    bot.user("U0ALICE").answer("cancel opened twice: #2 is this incident's")


def questions_shown(bot: BotHarness) -> list[dict[str, Any]]:
    """The "was it held?" questions as the channel shows them now (updates included)."""
    return [
        m
        for m in bot.slack.messages("C0INCIDENT")
        if m.get("metadata", {}).get("event_payload", {}).get("kind") == "ask_mark_held"
    ]


@pytest.mark.parametrize(
    ("settle", "says"),
    [
        (held_by_command, "was marked held by <@U0BOB>."),
        (held_by_its_button, "was marked held by <@U0BOB>."),
        (moved_to_tomorrow, "(by <@U0BOB>): I'll ask again after it."),
        (cancelled_by_alice, "was cancelled (by <@U0ALICE>): there is no meeting to mark held."),
    ],
)
def test_the_was_it_held_question_says_how_it_was_settled_and_loses_its_buttons(
    bot: BotHarness, settle: Callable[[BotHarness, dict[str, Any]], None], says: str
) -> None:
    owned_by_bob(bot)
    bot.user("U0BOB").answer("schedule")
    bot.user("U0BOB").submit_view(schedule_form(bot, after=timedelta(hours=1)))
    bot.clock.advance(timedelta(hours=2))
    bot.dispatch()
    [ask] = questions_shown(bot)

    settle(bot, ask)
    bot.settle()

    [question] = questions_shown(bot)
    assert question["ts"] == ask["ts"]
    assert question["text"].endswith(says)
    assert buttons(question["blocks"]) == []


def asked_bob_an_hour_on(bot: BotHarness) -> dict[str, Any]:
    """Bob schedules the meeting an hour from now; once it is over, he is asked whether it
    took place. The question."""
    owned_by_bob(bot)
    bot.user("U0BOB").answer("schedule")
    bot.user("U0BOB").submit_view(schedule_form(bot, after=timedelta(hours=1)))
    bot.clock.advance(timedelta(hours=2))
    bot.dispatch()
    [ask] = questions_shown(bot)
    return ask


def moved_again(bot: BotHarness, ask: dict[str, Any]) -> None:
    bot.user("U0BOB").answer("schedule")
    bot.user("U0BOB").submit_view(schedule_form(bot, after=timedelta(days=2)))


@pytest.mark.parametrize(
    ("then", "says"),
    [
        (moved_again, "(by <@U0BOB>): I'll ask again after it."),
        (cancelled_by_alice, "was cancelled (by <@U0ALICE>): there is no meeting to mark held."),
    ],
)
def test_a_question_told_its_meeting_moved_is_told_what_happened_next(
    bot: BotHarness, then: Callable[[BotHarness, dict[str, Any]], None], says: str
) -> None:
    ask = asked_bob_an_hour_on(bot)
    moved_to_tomorrow(bot, ask)
    bot.settle()
    [told_it_moved] = questions_shown(bot)

    then(bot, ask)
    bot.settle()

    [question] = questions_shown(bot)
    assert question["ts"] == ask["ts"]
    assert question["text"] != told_it_moved["text"]  # not tomorrow's time, once it moved on
    assert question["text"].endswith(says)
    assert buttons(question["blocks"]) == []


def test_a_question_handed_over_asks_the_new_owner_whose_click_marks_it_held(
    bot: BotHarness,
) -> None:
    ask = asked_bob_an_hour_on(bot)

    bot.user("U0BOB").command("owner <@U0CAROL|carol>")
    bot.slack.wait_for("chat.postEphemeral")  # answered after the hand-over committed
    bot.settle()
    [question] = questions_shown(bot)
    mark_held = next(
        b for b in buttons(question["blocks"]) if b["action_id"] == "lifecycle.mark_held"
    )
    bot.user("U0CAROL").click(mark_held, message_ts=question["ts"])
    bot.settle()

    assert question["ts"] == ask["ts"]
    assert question["text"].startswith(
        ":white_check_mark: <@U0CAROL> (the postmortem was handed over to you by <@U0BOB>), "
        "the postmortem meeting for *Checkout errors* (#1) was due to start "
    )
    assert "Did it take place? Click *Mark meeting held*" in question["text"]
    [settled] = questions_shown(bot)
    assert settled["text"].endswith("was marked held by <@U0CAROL>.")
    assert buttons(settled["blocks"]) == []


def test_a_rescheduled_meeting_updates_the_same_calendar_event_and_says_what_moved(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)
    first_time = bot.clock() + timedelta(days=2)
    bot.user("U0BOB").answer("schedule")
    bot.user("U0BOB").submit_view(
        schedule_form(bot, after=timedelta(days=2), people=("U0CS", "U0PM"))
    )
    bot.settle()

    # Moved a day later, without the product manager, within the same second.
    bot.user("U0BOB").answer("schedule")
    bot.user("U0BOB").submit_view(schedule_form(bot, after=timedelta(days=3), people=("U0CS",)))
    bot.settle()

    events = [
        Calendar.from_ical(upload.params["text"]).walk("VEVENT")[0]
        for upload in bot.slack.wait_for("_upload", count=2)
    ]
    assert [str(e.get("uid")) for e in events] == ["postmortem-1@postmortem-bot"] * 2
    assert int(events[1].get("sequence")) > int(events[0].get("sequence"))
    first, moved = (p["text"] for p in posted(bot, "meeting_invite"))
    assert "moved" not in first
    assert moved.startswith(
        f":calendar: The postmortem meeting for *Checkout errors* (#1) is moved from "
        f"<!date^{int(first_time.timestamp())}^"
    )
    assert f" to <!date^{int((first_time + timedelta(days=1)).timestamp())}^" in moved
    assert "The updated invite (.ics) is just above" in moved
    assert "• No longer invited: <@U0PM>: delete the earlier event from your calendar" in moved


def test_snooze_sends_the_same_nudge_again_a_day_later_and_only_once(
    make_bot: BotFactory,
) -> None:
    # Escalated after two days: a day's snooze of the first nudge still ends before it.
    bot = make_bot(policy="nudges:\n  no_owner: {escalate: 48h}\n")
    bot.user("U0ALICE").answer("start Checkout errors")
    bot.settle()
    bot.clock.advance(timedelta(hours=1))
    bot.dispatch()
    [nudge] = posted(bot, "nudge_no_owner")
    snooze = next(b for b in buttons(nudge["blocks"]) if b["action_id"] == "nudge.snooze")

    bot.user("U0CAROL").click(snooze)
    bot.user("U0CAROL").click(snooze)
    bot.settle()
    notices = [c.params["text"] for c in bot.slack.wait_for("chat.postEphemeral", 2)]
    bot.clock.advance(timedelta(hours=23))
    bot.dispatch()
    before = len(posted(bot, "nudge_no_owner"))
    bot.clock.advance(timedelta(hours=1, minutes=1))
    bot.dispatch()

    assert "Snoozed" in notices[0]
    assert "already snoozed" in notices[1]
    assert before == 1  # the 4-hourly repeat folded into the snooze
    assert len(posted(bot, "nudge_no_owner")) == 2
    trail = [what for _, _, what in bot.runtime.postmortems.audit_trail(postmortem_id=1)]
    assert "nudge_snoozed" in trail


def test_a_bystander_cannot_snooze_the_owners_reminder(bot: BotHarness) -> None:
    owned_by_bob(bot)
    bot.user("U0BOB").answer("schedule")
    bot.user("U0BOB").submit_view(schedule_form(bot, after=timedelta(hours=1)))
    bot.clock.advance(timedelta(hours=2))
    bot.dispatch()
    [ask] = posted(bot, "ask_mark_held")
    snooze = next(b for b in buttons(ask["blocks"]) if b["action_id"] == "nudge.snooze")

    bot.user("U0CAROL").click(snooze)
    bot.settle()
    [refused] = [c.params for c in bot.slack.wait_for("chat.postEphemeral")]
    bot.user("U0BOB").click(snooze)
    bot.settle()

    assert refused["user"] == "U0CAROL"
    assert refused["text"] == "Only the owner <@U0BOB> can snooze the reminders of postmortem #1."
    assert "Snoozed" in bot.slack.calls("chat.postEphemeral")[-1].params["text"]
    trail = bot.runtime.postmortems.audit_trail(postmortem_id=1)
    assert [who for _, who, what in trail if what == "nudge_snoozed"] == ["U0BOB"]


def test_a_dead_message_shows_in_status(bot: BotHarness) -> None:
    bot.slack.fail_next("chat.postMessage", "is_archived")
    bot.user("U0ALICE").answer("start Checkout errors")
    bot.settle()

    status = bot.user("U0ALICE").answer("status")

    assert "could not post the owner prompt here" in status
    assert "<#C0INCIDENT> is archived. Unarchive it" in status
    assert "pick one from the prompt" not in status


def test_handing_over_a_scheduled_postmortem_keeps_its_reminders_and_redirects_the_owners(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)
    bot.user("U0BOB").answer("schedule")
    bot.user("U0BOB").submit_view(schedule_form(bot, after=timedelta(hours=1)))
    bot.settle()

    bot.user("U0BOB").command("owner <@U0CAROL|carol>")
    bot.slack.wait_for("chat.postEphemeral")  # answered after the hand-over committed
    bot.settle()

    with bot.runtime.engine.connect() as connection:
        rows = list(
            connection.execute(
                select(OutboxRow.kind, OutboxRow.recipient).where(OutboxRow.status == "pending")
            )
        )
    kinds = {kind for kind, _ in rows}
    assert {"ask_mark_held", "escalate_overdue"} <= kinds
    assert "remind_meeting_due" not in kinds  # a meeting on the calendar ended those
    assert ("ask_mark_held", "U0CAROL") in rows
    assert not any(recipient == "U0BOB" for _, recipient in rows)


def test_an_invite_whose_file_upload_fails_is_retried_whole_and_never_half_delivered(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)
    bot.user("U0BOB").answer("schedule")
    bot.slack.fail_next("files.getUploadURLExternal", "internal_error")

    bot.user("U0BOB").submit_view(schedule_form(bot, after=timedelta(hours=2)))
    bot.settle()
    assert posted(bot, "meeting_invite") == []  # no announcement without its file

    bot.clock.advance(timedelta(minutes=5))  # past the back-off
    bot.dispatch()

    assert len(posted(bot, "meeting_invite")) == 1
    assert len(bot.slack.calls("files.completeUploadExternal")) == 1


def test_when_slack_will_not_open_the_schedule_form_the_owner_is_told(bot: BotHarness) -> None:
    owned_by_bob(bot)
    bot.slack.fail_next("views.open", "expired_trigger_id")

    bot.user("U0BOB").command("schedule")

    notice = bot.slack.wait_for("chat.postEphemeral")[0].params
    assert notice["user"] == "U0BOB"
    assert "wouldn't open the form (expired_trigger_id)" in notice["text"]
    assert "`/postmortem schedule` again" in notice["text"]
