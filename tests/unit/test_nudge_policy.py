"""Planning nudges and the meeting rules (pure: no database, no Slack)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from bot.domain.errors import IllegalTransition, NotAllowed
from bot.domain.lifecycle import Move, State
from bot.domain.meetings import (
    MeetingRefused,
    Settled,
    check_can_steer,
    check_meeting_time,
    invite_attendees,
    invite_params,
    invite_sequence,
    meeting_called_off,
    meeting_invite_ics,
    plan_held_question_settled,
    still_to_update,
)
from bot.domain.messages import (
    HANDED_OVER_FROM,
    NUDGES,
    MessageKind,
    PlannedMessage,
    after_working_span,
    plan_on_held,
    plan_on_open,
    plan_on_owner,
    plan_on_schedule,
    plan_refused_nudges_again,
    plan_repeat_no_owner,
    plan_repeat_owner_reminder,
    still_applies,
)
from bot.domain.policy import NoDraftNudges, NoOwnerNudges, NotDoneNudges, Policy, WorkingHours
from bot.domain.postmortem import MEETING_LENGTH, Postmortem
from bot.slack.nudges import nudge_text

TUESDAY_2PM = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


def postmortem(**changes: object) -> Postmortem:
    base: dict[str, object] = {
        "id": 7,
        "incident_key": "pd:Q1",
        "title": "Checkout errors",
        "source": "pagerduty",
        "channel_id": "C1",
        "state": State.DRAFTING,
        "resolved_at": TUESDAY_2PM,
        "opened_at": TUESDAY_2PM,
        "opened_by": "U0ALICE",
        "owner_id": "U0BOB",
    }
    base.update(changes)
    return Postmortem(**base)  # type: ignore[arg-type]


def test_one_working_day_from_friday_afternoon_is_monday_afternoon() -> None:
    friday = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)

    assert after_working_span(Policy(), friday, timedelta(days=1)) == datetime(
        2026, 11, 30, 15, 0, tzinfo=UTC
    )


def test_working_days_count_in_the_recipients_zone_when_given() -> None:
    # Monday 09:00 in Los Angeles: 18:00, the close, in Berlin.
    opening_in_la = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
    berlin = Policy(workspace_timezone="Europe/Berlin")

    in_la = after_working_span(
        berlin, opening_in_la, timedelta(days=3), ZoneInfo("America/Los_Angeles")
    )

    assert in_la == datetime(2026, 12, 10, 17, 0, tzinfo=UTC)  # Thursday 09:00 there
    # Without it, in Berlin's: from Tuesday 09:00 there, Friday 09:00 (08:00 UTC).
    assert after_working_span(berlin, opening_in_la, timedelta(days=3)) == datetime(
        2026, 12, 11, 8, 0, tzinfo=UTC
    )


def test_the_owner_nudge_waits_one_working_day() -> None:
    planned = plan_on_owner(postmortem(), Policy(), TUESDAY_2PM)

    nudge = next(p for p in planned if p.kind is MessageKind.NUDGE_NO_MEETING)
    assert nudge.due_at == TUESDAY_2PM + timedelta(days=1)
    assert nudge.recipient == "U0BOB"


def test_with_always_a_day_is_24_hours_even_at_the_weekend() -> None:
    saturday = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)
    policy = Policy(working_hours=WorkingHours(always=True))

    assert after_working_span(policy, saturday, timedelta(days=1)) == saturday + timedelta(days=1)


def test_opening_plans_reminders_on_day_3_and_5_and_escalation_at_day_7() -> None:
    planned = plan_on_open(postmortem(state=State.AWAITING_OWNER), Policy(), TUESDAY_2PM)

    due = {(p.kind, p.due_at) for p in planned}
    assert (MessageKind.REMIND_MEETING_DUE, TUESDAY_2PM + timedelta(days=3)) in due
    assert (MessageKind.REMIND_MEETING_DUE, TUESDAY_2PM + timedelta(days=5)) in due
    assert (MessageKind.ESCALATE_OVERDUE, TUESDAY_2PM + timedelta(days=7)) in due
    assert (MessageKind.NUDGE_NO_OWNER, TUESDAY_2PM + timedelta(hours=1)) in due


def test_a_late_incident_asks_for_an_owner_from_now_and_is_overdue_only_once_it_could_answer() -> (
    None
):
    policy = Policy(working_hours=WorkingHours(always=True))
    late = postmortem(
        state=State.AWAITING_OWNER,
        resolved_at=TUESDAY_2PM - timedelta(days=10),
        opened_at=TUESDAY_2PM,
        owner_id=None,
    )

    planned = {(p.kind, p.due_at) for p in plan_on_open(late, policy, TUESDAY_2PM)}

    assert planned == {
        (MessageKind.OWNER_PROMPT, TUESDAY_2PM),
        (MessageKind.NUDGE_NO_OWNER, TUESDAY_2PM + timedelta(hours=1)),
        # One overdue notice, not one per day missed; not with the prompt, before anyone
        # could have answered it: when the no-owner escalation would come, instead of it.
        (MessageKind.ESCALATE_OVERDUE, TUESDAY_2PM + timedelta(hours=24)),
    }


REFUSED_ALONG_WITH_THE_PROMPT = (
    MessageKind.NUDGE_NO_OWNER,
    MessageKind.ESCALATE_NO_OWNER,
    MessageKind.ESCALATE_OVERDUE,
)


def test_a_prompt_posted_again_past_the_deadline_gets_its_overdue_notice_later_not_with_it() -> (
    None
):
    # Refused in a channel the bot was not in, posted again once it was invited, after the
    # deadline: the overdue notice came in the same second as the prompt, and (counted as
    # the escalation) stopped the channel's nudge planned an hour later.
    policy = Policy(working_hours=WorkingHours(always=True))
    late = postmortem(state=State.AWAITING_OWNER, owner_id=None, resolved_at=TUESDAY_2PM)
    thursday_a_week_on = TUESDAY_2PM + timedelta(days=9)

    planned = plan_refused_nudges_again(
        late, policy, thursday_a_week_on, REFUSED_ALONG_WITH_THE_PROMPT
    )

    assert {(p.kind, p.due_at) for p in planned} == {
        (MessageKind.NUDGE_NO_OWNER, thursday_a_week_on + timedelta(hours=1)),
        # In place of the no-owner escalation, when it would come; not both.
        (MessageKind.ESCALATE_OVERDUE, thursday_a_week_on + timedelta(hours=24)),
    }


def test_a_prompt_posted_again_before_the_deadline_keeps_both_escalations_apart() -> None:
    policy = Policy(working_hours=WorkingHours(always=True))
    unowned = postmortem(state=State.AWAITING_OWNER, owner_id=None, resolved_at=TUESDAY_2PM)
    wednesday = TUESDAY_2PM + timedelta(days=1)

    planned = plan_refused_nudges_again(unowned, policy, wednesday, REFUSED_ALONG_WITH_THE_PROMPT)

    assert {(p.kind, p.due_at) for p in planned} == {
        (MessageKind.NUDGE_NO_OWNER, wednesday + timedelta(hours=1)),
        (MessageKind.ESCALATE_NO_OWNER, wednesday + timedelta(hours=24)),
        (MessageKind.ESCALATE_OVERDUE, TUESDAY_2PM + timedelta(days=7)),
    }


def test_a_friday_evening_incident_is_escalated_after_the_channel_had_monday_morning() -> None:
    friday_evening = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
    monday_9am = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    unowned = postmortem(
        state=State.AWAITING_OWNER,
        resolved_at=friday_evening,
        opened_at=friday_evening,
        owner_id=None,
    )

    planned = {p.kind: p.due_at for p in plan_on_open(unowned, Policy(), friday_evening)}

    # Not both at Monday's opening: the first nudge, then 4 working hours to answer it.
    assert planned[MessageKind.NUDGE_NO_OWNER] == monday_9am
    assert planned[MessageKind.ESCALATE_NO_OWNER] == monday_9am + timedelta(hours=4)
    # The nudge series gives way to the escalation rather than joining it.
    assert plan_repeat_no_owner(unowned, Policy(), monday_9am) is None


def test_a_weekday_incident_is_escalated_24_hours_after_the_channel_was_asked() -> None:
    unowned = postmortem(state=State.AWAITING_OWNER, owner_id=None)

    planned = {p.kind: p.due_at for p in plan_on_open(unowned, Policy(), TUESDAY_2PM)}

    assert planned[MessageKind.ESCALATE_NO_OWNER] == TUESDAY_2PM + timedelta(hours=24)


def test_a_reminder_whose_day_has_passed_is_dropped_and_a_later_one_kept() -> None:
    policy = Policy(working_hours=WorkingHours(always=True))
    resolved = TUESDAY_2PM - timedelta(days=4)
    opened = postmortem(state=State.AWAITING_OWNER, resolved_at=resolved, owner_id=None)

    planned = plan_on_open(opened, policy, TUESDAY_2PM)

    reminders = [p.due_at for p in planned if p.kind is MessageKind.REMIND_MEETING_DUE]
    assert reminders == [resolved + timedelta(days=5)]


def test_no_owner_nudges_repeat_until_a_day_after_the_prompt_not_after_resolution() -> None:
    policy = Policy(working_hours=WorkingHours(always=True))
    late = postmortem(resolved_at=TUESDAY_2PM - timedelta(days=10), owner_id=None)

    assert plan_repeat_no_owner(late, policy, TUESDAY_2PM + timedelta(hours=1)) is not None
    assert plan_repeat_no_owner(late, policy, TUESDAY_2PM + timedelta(hours=23)) is None


@pytest.mark.parametrize(
    ("kind", "state", "applies"),
    [
        (MessageKind.NUDGE_NO_OWNER, State.DRAFTING, False),
        (MessageKind.NUDGE_NO_MEETING, State.MEETING_SCHEDULED, False),
        (MessageKind.REMIND_MEETING_DUE, State.DRAFTING, True),
        (MessageKind.REMIND_MEETING_DUE, State.MEETING_SCHEDULED, False),
        (MessageKind.ESCALATE_OVERDUE, State.DRAFTING, True),
        (MessageKind.ESCALATE_OVERDUE, State.IN_REVIEW, False),
        (MessageKind.ASK_MARK_HELD, State.IN_REVIEW, False),
        (MessageKind.ASK_MARK_HELD, State.MEETING_SCHEDULED, True),
        (MessageKind.NUDGE_NOT_DONE, State.MEETING_SCHEDULED, False),
        (MessageKind.NUDGE_NOT_DONE, State.IN_REVIEW, True),
        (MessageKind.NUDGE_NOT_DONE, State.COMPLETED, False),
        # Said on the questions posted, whatever settled them: a cancel too.
        (MessageKind.HELD_QUESTION_SETTLED, State.IN_REVIEW, True),
        (MessageKind.HELD_QUESTION_SETTLED, State.CANCELLED, True),
    ],
)
def test_a_nudge_applies_only_while_its_reason_does(
    kind: MessageKind, state: State, applies: bool
) -> None:
    assert still_applies(kind, postmortem(state=state)) is applies


def test_a_meeting_after_the_deadline_needs_a_justification() -> None:
    late = TUESDAY_2PM + timedelta(days=8)

    with pytest.raises(MeetingRefused, match="more than 7 days"):
        check_meeting_time(postmortem(), Policy(), at=late, justification="  ", now=TUESDAY_2PM)
    check_meeting_time(postmortem(), Policy(), at=late, justification="leave", now=TUESDAY_2PM)


def test_a_meeting_in_the_past_is_refused() -> None:
    with pytest.raises(MeetingRefused, match="in the past"):
        check_meeting_time(
            postmortem(),
            Policy(),
            at=TUESDAY_2PM - timedelta(minutes=1),
            justification="x",
            now=TUESDAY_2PM,
        )


def test_only_the_owner_or_an_incident_manager_moves_the_lifecycle_on() -> None:
    policy = Policy(incident_managers=("U0IM",))
    scheduled = postmortem(state=State.MEETING_SCHEDULED)

    assert check_can_steer(scheduled, policy, actor="U0IM", move=Move.MARK_MEETING_HELD) is (
        State.IN_REVIEW
    )
    with pytest.raises(NotAllowed, match="the owner <@U0BOB> or an incident manager"):
        check_can_steer(scheduled, policy, actor="U0CAROL", move=Move.MARK_MEETING_HELD)
    with pytest.raises(IllegalTransition, match="not been held"):
        check_can_steer(scheduled, policy, actor="U0BOB", move=Move.COMPLETE)


def test_the_invite_lists_owner_incident_managers_and_participants_and_names_the_roles() -> None:
    meeting = postmortem(
        state=State.MEETING_SCHEDULED,
        meeting_at=TUESDAY_2PM + timedelta(days=2),
        meeting_participants=("U0CS", "U0BOB"),
    )
    policy = Policy(incident_managers=("U0IM",))

    ics = meeting_invite_ics(
        meeting, invite_attendees(meeting, policy), now=TUESDAY_2PM, sequence=0
    )

    [event] = Calendar.from_ical(ics).walk("VEVENT")
    attendees = [str(a) for a in event.get("attendee")]
    assert attendees == ["urn:slack:user:U0BOB", "urn:slack:user:U0IM", "urn:slack:user:U0CS"]
    assert event.get("dtstart").dt == TUESDAY_2PM + timedelta(days=2)
    assert str(event.get("uid")) == "postmortem-7@postmortem-bot"
    description = str(event.get("description"))
    assert "Incident manager(s): U0IM" in description
    assert "customer support, account management, product management" in description
    assert "contributing factors" in description


def test_every_schedule_change_raises_the_invites_sequence_even_within_one_second() -> None:
    once = invite_sequence([TUESDAY_2PM])
    twice = invite_sequence([TUESDAY_2PM, TUESDAY_2PM])
    thrice = invite_sequence([TUESDAY_2PM, TUESDAY_2PM, TUESDAY_2PM + timedelta(seconds=1)])

    assert once < twice < thrice
    # Never below what earlier versions sent (the minutes since the epoch, 29930160 here).
    assert once == int(TUESDAY_2PM.timestamp()) // 60


def test_a_reschedule_replacing_an_invite_not_yet_posted_says_what_the_channel_last_heard() -> None:
    unsent = {"sequence": "5", "moved_from": "2026-11-26T14:00:00+00:00", "was_invited": "U0CS"}
    rescheduled = postmortem(
        state=State.MEETING_SCHEDULED, meeting_at=TUESDAY_2PM + timedelta(days=3)
    )
    policy = Policy()

    def params(unsent: dict[str, str]) -> dict[str, str]:
        return invite_params(
            rescheduled, rescheduled, policy, sequence=7, unsent=unsent, heard=None
        )

    assert params(unsent) == {**unsent, "sequence": "7", "invited": "U0BOB"}
    assert params({"sequence": "6"}) == {"sequence": "7", "invited": "U0BOB"}


def test_a_reschedule_after_a_hand_over_names_whom_the_earlier_invite_invited() -> None:
    # Bob was invited as the owner, then handed it to Carol: Bob holds the event, not Carol.
    handed_over = postmortem(
        state=State.MEETING_SCHEDULED,
        meeting_at=TUESDAY_2PM + timedelta(days=2),
        owner_id="U0CAROL",
    )
    moved = replace(handed_over, meeting_at=TUESDAY_2PM + timedelta(days=3))
    heard = {"sequence": "5", "invited": "U0BOB U0CS"}

    params = invite_params(handed_over, moved, Policy(), sequence=6, unsent=None, heard=heard)

    assert params["was_invited"] == "U0BOB U0CS"
    assert params["invited"] == "U0CAROL"


def test_a_cancel_calls_off_a_meeting_still_ahead_only_if_an_invite_put_it_on_calendars() -> None:
    ahead = TUESDAY_2PM + timedelta(days=1)
    scheduled = postmortem(
        state=State.MEETING_SCHEDULED, meeting_at=ahead, meeting_participants=("U0CS",)
    )
    policy = Policy(incident_managers=("U0IM",))
    posted = {"sequence": "1", "invited": "U0BOB U0IM U0CS"}

    def called_off(
        meeting: Postmortem,
        *,
        heard: dict[str, str] | None = posted,
        now: datetime = TUESDAY_2PM,
    ) -> dict[str, str]:
        return meeting_called_off(meeting, policy, now=now, unsent=None, heard=heard)

    assert called_off(scheduled) == {
        "meeting_called_off": ahead.isoformat(),
        "invited": "U0BOB U0IM U0CS",
    }
    # Handed over since: the invite named Bob, so Bob is told, not the new owner.
    assert called_off(replace(scheduled, owner_id="U0CAROL"))["invited"] == "U0BOB U0IM U0CS"
    # An invite from before the invited were recorded: as the postmortem names them.
    assert called_off(scheduled, heard={"sequence": "1"})["invited"] == "U0BOB U0IM U0CS"
    assert called_off(scheduled, heard=None) == {}  # nobody was sent an invite
    assert called_off(scheduled, now=ahead) == {}  # under way: nothing to take off a calendar
    assert called_off(replace(scheduled, state=State.IN_REVIEW)) == {}  # it was held


def test_the_held_question_is_updated_where_it_was_asked_until_it_is_held_or_cancelled() -> None:
    moved_earlier = {"settled": "moved", "by": "U0BOB", "questions": "3 5"}
    held_earlier = {"settled": "held", "by": "U0BOB", "questions": "3"}

    def settled(
        how: Settled, asked: list[int], before: list[dict[str, str]]
    ) -> list[PlannedMessage]:
        return plan_held_question_settled(
            how, asked=asked, settled_before=before, by="U0CAROL", now=TUESDAY_2PM
        )

    # Asked about the first time (3, then 5 three working days on), moved, asked again (9).
    assert settled(Settled.HELD, [3, 5, 9], [moved_earlier]) == [
        PlannedMessage(
            MessageKind.HELD_QUESTION_SETTLED,
            TUESDAY_2PM,
            params={"settled": "held", "by": "U0CAROL", "questions": "3 5 9"},
        )
    ]
    # Told it moved, a question is told what came next: moved again, or cancelled.
    [again] = settled(Settled.MOVED, [3, 5], [moved_earlier])
    assert again.params["questions"] == "3 5"
    [cancelled] = settled(Settled.CANCELLED, [3, 5], [moved_earlier])
    assert cancelled.params["questions"] == "3 5"
    # Held (or cancelled), it stays so: only 5, which the later update did not name.
    [last] = settled(Settled.CANCELLED, [3, 5], [moved_earlier, held_earlier])
    assert last.params["questions"] == "5"
    assert settled(Settled.CANCELLED, [], []) == []  # never asked (or not yet: cancelled unsent)


def test_a_hand_over_readdresses_only_the_questions_still_asking() -> None:
    def handed_over(before: list[dict[str, str]]) -> list[PlannedMessage]:
        return plan_held_question_settled(
            Settled.HANDED_OVER,
            asked=[3, 5, 9],
            settled_before=before,
            by="U0BOB",
            now=TUESDAY_2PM,
            new_owner="U0CAROL",
            handed_over_from="U0BOB",
        )

    # 3 and 5 asked about a meeting that moved: they ask nobody anything now.
    [update] = handed_over([{"settled": "moved", "by": "U0BOB", "questions": "3 5"}])
    assert update.params == {
        "settled": "handed_over",
        "by": "U0BOB",
        "questions": "9",
        "to": "U0CAROL",
        "handed_over_from": "U0BOB",
    }
    # Handed over before, a question is still open: it asks the newest owner.
    [again] = handed_over([{"settled": "handed_over", "by": "U0DAVE", "questions": "3 5 9"}])
    assert again.params["questions"] == "3 5 9"
    assert handed_over([{"settled": "cancelled", "by": "U0BOB", "questions": "3 5 9"}]) == []


def test_an_update_leaves_the_questions_a_later_one_names_to_it() -> None:
    update = {"settled": "moved", "by": "U0BOB", "questions": "3 5 9"}

    assert still_to_update(update, []) == [3, 5, 9]
    assert still_to_update(update, [{"settled": "cancelled", "questions": "3 9"}]) == [5]
    assert still_to_update(update, [{"settled": "moved", "questions": "3 5 9"}]) == []


def test_a_question_about_a_meeting_that_moved_is_told_its_new_time() -> None:
    later = TUESDAY_2PM + timedelta(days=3)

    [update] = plan_held_question_settled(
        Settled.MOVED, asked=[4], settled_before=[], by="U0BOB", now=TUESDAY_2PM, new_time=later
    )

    assert update.params == {
        "settled": "moved",
        "by": "U0BOB",
        "questions": "4",
        "meeting_at": later.isoformat(),
    }


@pytest.mark.parametrize(
    ("escalate", "said"),
    [(timedelta(hours=24), "for a day"), (timedelta(hours=6), "for 6 hours")],
)
def test_the_no_owner_escalation_says_how_long_the_channel_has_waited(
    escalate: timedelta, said: str
) -> None:
    policy = Policy(no_owner=NoOwnerNudges(escalate=escalate))

    text = nudge_text(MessageKind.ESCALATE_NO_OWNER, postmortem(owner_id=None), policy)

    assert f"has had no owner {said}." in text


# -- a meeting on the calendar ends the "schedule it" reminders and the overdue notice -----


@pytest.mark.parametrize(
    ("meeting_at", "justification"),
    [
        (TUESDAY_2PM + timedelta(days=7), None),  # exactly at the deadline
        (TUESDAY_2PM + timedelta(days=2), None),  # well before it
        (TUESDAY_2PM + timedelta(days=10), "Half the responders are at a conference"),
    ],
    ids=["at-the-deadline", "before-the-deadline", "late-with-a-justification"],
)
def test_an_accepted_meeting_on_the_calendar_stops_the_deadline_reminders(
    meeting_at: datetime, justification: str | None
) -> None:
    scheduled = postmortem(
        state=State.MEETING_SCHEDULED,
        meeting_at=meeting_at,
        meeting_justification=justification,
    )

    assert not still_applies(MessageKind.REMIND_MEETING_DUE, scheduled)
    # …while "was it held?" still comes once the meeting's time has passed.
    assert still_applies(MessageKind.ASK_MARK_HELD, scheduled)


@pytest.mark.parametrize(
    ("meeting_at", "overdue_at"),
    [
        (TUESDAY_2PM + timedelta(days=2), TUESDAY_2PM + timedelta(days=7)),  # the deadline
        (TUESDAY_2PM + timedelta(days=7), TUESDAY_2PM + timedelta(days=8)),  # a day after
        (TUESDAY_2PM + timedelta(days=10), TUESDAY_2PM + timedelta(days=11)),  # late, justified
    ],
    ids=["before-the-deadline", "at-the-deadline", "late-with-a-justification"],
)
def test_a_scheduled_meeting_left_unmarked_is_overdue_a_day_after_it_and_never_before_the_deadline(
    meeting_at: datetime, overdue_at: datetime
) -> None:
    scheduled = postmortem(state=State.MEETING_SCHEDULED, meeting_at=meeting_at)

    planned = plan_on_schedule(scheduled, Policy(), TUESDAY_2PM)

    [overdue] = [p for p in planned if p.kind is MessageKind.ESCALATE_OVERDUE]
    assert overdue.due_at == overdue_at
    assert still_applies(MessageKind.ESCALATE_OVERDUE, scheduled)
    assert not still_applies(
        MessageKind.ESCALATE_OVERDUE, postmortem(state=State.IN_REVIEW, meeting_at=meeting_at)
    )


# -- a hand-over is announced as one, and plans no "schedule it" nudge past scheduling ----


def test_a_hand_over_announcement_names_the_previous_owner() -> None:
    planned = plan_on_owner(
        postmortem(owner_id="U0CAROL"), Policy(), TUESDAY_2PM, handed_over_from="U0BOB"
    )

    [announcement] = [p for p in planned if p.kind is MessageKind.OWNER_CHOSEN]
    assert announcement.params == {HANDED_OVER_FROM: "U0BOB"}
    first = plan_on_owner(postmortem(), Policy(), TUESDAY_2PM)
    assert [p.params for p in first if p.kind is MessageKind.OWNER_CHOSEN] == [{}]


def test_a_new_owner_after_scheduling_gets_no_no_meeting_nudge_but_the_document_one() -> None:
    scheduled = postmortem(state=State.MEETING_SCHEDULED, owner_id="U0CAROL")

    planned = plan_on_owner(scheduled, Policy(), TUESDAY_2PM)

    assert [p.kind for p in planned] == [MessageKind.OWNER_CHOSEN, MessageKind.NUDGE_NO_DRAFT]


def test_a_new_owner_after_the_meeting_was_held_gets_neither_the_meeting_nor_document_nudge() -> (
    None
):
    held = postmortem(state=State.IN_REVIEW, owner_id="U0CAROL")

    planned = plan_on_owner(held, Policy(), TUESDAY_2PM)

    assert [p.kind for p in planned] == [MessageKind.OWNER_CHOSEN]


def test_a_new_owner_of_a_completed_postmortem_gets_only_the_announcement_and_the_message() -> None:
    # No "schedule the meeting" or "start the document" after `done`: what it still lacks is
    # said in the announcement, and its pending reminder of that moves to them.
    done = postmortem(state=State.COMPLETED, owner_id="U0CAROL", owner_assigned_by="U0BOB")

    planned = plan_on_owner(done, Policy(), TUESDAY_2PM, handed_over_from="U0BOB")

    assert [(p.kind, p.recipient) for p in planned] == [
        (MessageKind.OWNER_CHOSEN, None),
        (MessageKind.OWNER_TOLD, "U0CAROL"),
    ]


@pytest.mark.parametrize(
    ("state", "applies"),
    [(State.IN_REVIEW, True), (State.COMPLETED, True), (State.CANCELLED, False)],
)
def test_the_direct_message_to_a_new_owner_goes_out_after_done_not_after_a_cancel(
    state: State, applies: bool
) -> None:
    assert still_applies(MessageKind.OWNER_TOLD, postmortem(state=state)) is applies


def test_an_owner_who_has_not_started_the_document_is_nudged_two_working_days_on() -> None:
    friday = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)

    planned = plan_on_owner(postmortem(owner_id="U0CAROL"), Policy(), friday)

    [nudge] = [p for p in planned if p.kind is MessageKind.NUDGE_NO_DRAFT]
    assert nudge.recipient == "U0CAROL"
    assert nudge.due_at == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # Tuesday
    shorter = replace(Policy(), no_draft=NoDraftNudges(first=timedelta(hours=4)))
    [sooner] = [
        p
        for p in plan_on_owner(postmortem(), shorter, friday)
        if p.kind is MessageKind.NUDGE_NO_DRAFT
    ]
    assert sooner.due_at == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # Monday, 4 working hours


# -- after the meeting is held: "finish it, then done" ------------------------------------


def test_two_working_days_after_the_meeting_is_held_the_owner_is_reminded_to_finish() -> None:
    friday = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    held = postmortem(state=State.IN_REVIEW, meeting_held_at=friday)

    planned = plan_on_held(held, Policy(), friday, by="U0IM")

    assert [(p.kind, p.params) for p in planned if p.kind is MessageKind.MEETING_HELD] == [
        (MessageKind.MEETING_HELD, {"by": "U0IM"})
    ]
    [reminder] = [p for p in planned if p.kind is MessageKind.NUDGE_NOT_DONE]
    assert reminder.due_at == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # Tuesday, not Sunday
    assert reminder.recipient == "U0BOB"
    assert MessageKind.NUDGE_NOT_DONE in NUDGES  # snoozable, and `done` cancels it


def test_the_finish_reminder_repeats_every_three_working_days_until_done() -> None:
    held = postmortem(state=State.IN_REVIEW)
    sent = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # a Thursday

    repeat = plan_repeat_owner_reminder(MessageKind.NUDGE_NOT_DONE, held, Policy(), sent)

    assert repeat is not None
    assert repeat.kind is MessageKind.NUDGE_NOT_DONE
    assert repeat.due_at == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # Thu → Tue
    assert repeat.recipient == "U0BOB"
    assert (
        plan_repeat_owner_reminder(
            MessageKind.NUDGE_NOT_DONE, postmortem(state=State.COMPLETED), Policy(), sent
        )
        is None
    )


def test_a_snoozed_finish_reminder_does_not_start_a_second_series() -> None:
    held = postmortem(state=State.IN_REVIEW)
    sent = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)

    assert (
        plan_repeat_owner_reminder(
            MessageKind.NUDGE_NOT_DONE, held, Policy(), sent, pending={"nudge_not_done"}
        )
        is None
    )
    assert (
        plan_repeat_owner_reminder(
            MessageKind.NUDGE_NOT_DONE, held, Policy(), sent, pending={"ask_mark_held"}
        )
        is not None
    )


def test_the_finish_reminder_follows_the_policy() -> None:
    policy = Policy(
        working_hours=WorkingHours(always=True),
        not_done=NotDoneNudges(first=timedelta(hours=12), repeat=timedelta(days=1)),
    )
    held = postmortem(state=State.IN_REVIEW)

    [reminder] = [
        p
        for p in plan_on_held(held, policy, TUESDAY_2PM, by="U0BOB")
        if p.kind is MessageKind.NUDGE_NOT_DONE
    ]
    repeat = plan_repeat_owner_reminder(MessageKind.NUDGE_NOT_DONE, held, policy, reminder.due_at)

    assert reminder.due_at == TUESDAY_2PM + timedelta(hours=12)
    assert repeat is not None
    assert repeat.due_at == TUESDAY_2PM + timedelta(hours=36)


def test_was_the_meeting_held_is_asked_again_every_three_working_days_until_it_is() -> None:
    scheduled = postmortem(state=State.MEETING_SCHEDULED, meeting_at=TUESDAY_2PM)
    sent = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # a Thursday

    again = plan_repeat_owner_reminder(MessageKind.ASK_MARK_HELD, scheduled, Policy(), sent)
    once_held = plan_repeat_owner_reminder(
        MessageKind.ASK_MARK_HELD, postmortem(state=State.IN_REVIEW), Policy(), sent
    )

    assert again is not None
    assert (again.kind, again.recipient) == (MessageKind.ASK_MARK_HELD, "U0BOB")
    assert again.due_at == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # Thu → Tue
    assert once_held is None


def test_was_it_held_waits_for_the_meeting_to_end_and_the_overdue_notice_a_day_more() -> None:
    meeting = TUESDAY_2PM + timedelta(days=3)
    scheduled = postmortem(state=State.MEETING_SCHEDULED, meeting_at=meeting)

    assert not still_applies(MessageKind.ASK_MARK_HELD, scheduled, meeting - timedelta(hours=1))
    assert not still_applies(MessageKind.ASK_MARK_HELD, scheduled, meeting)  # under way
    assert still_applies(MessageKind.ASK_MARK_HELD, scheduled, meeting + MEETING_LENGTH)
    assert not still_applies(MessageKind.ESCALATE_OVERDUE, scheduled, meeting + timedelta(hours=23))
    assert still_applies(MessageKind.ESCALATE_OVERDUE, scheduled, meeting + timedelta(days=1))
