"""What people read: spans follow the policy, steps name their commands, refusals are sentences."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from icalendar import Calendar
from slack_sdk.models.blocks import Block

from bot.domain.completion import already_complete
from bot.domain.document import Gap
from bot.domain.errors import IllegalTransition, NotAllowed
from bot.domain.lifecycle import STATE_LABELS, TRANSITIONS, Move, State, next_state
from bot.domain.meetings import (
    MeetingRefused,
    check_can_steer,
    check_meeting_time,
    check_meeting_took_place,
    invite_attendees,
    invite_description,
    meeting_invite_ics,
)
from bot.domain.messages import (
    NUDGES,
    MessageKind,
    human_span,
    plan_prompt_undeliverable,
    still_applies,
)
from bot.domain.policy import MeetingDueNudges, Policy
from bot.domain.postmortem import Postmortem
from bot.slack.blocks import (
    next_steps_text,
    owner_chosen,
    owner_prompt,
    prompt_undeliverable_text,
    slack_date,
    status_text,
)
from bot.slack.nudges import (
    action_item_reminder_text,
    completed_text,
    held_question_settled_text,
    meeting_held_text,
    meeting_invite_text,
    nudge_text,
    owner_told_text,
)

TUESDAY_2PM = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
MANIFEST = Path(__file__).resolve().parents[2] / "slack-app-manifest.yaml"


def postmortem(**changes: object) -> Postmortem:
    base: dict[str, object] = {
        "id": 7,
        "incident_key": "slack:Q1",
        "title": "Payments outage",
        "source": "slack",
        "channel_id": "C0PRIVATE",
        "state": State.DRAFTING,
        "resolved_at": TUESDAY_2PM,
        "opened_at": TUESDAY_2PM,
        "opened_by": "U0ALICE",
        "owner_id": "U0BOB",
        "owner_assigned_by": "U0BOB",
    }
    base.update(changes)
    return Postmortem(**base)  # type: ignore[arg-type]


def with_deadline(deadline: timedelta) -> Policy:
    return Policy(meeting_due=MeetingDueNudges(deadline=deadline, remind=()))


def blocks_text(blocks: list[Block]) -> str:
    return repr([b.to_dict() for b in blocks])


# -- spans follow the policy's deadline ----------------------------------------------------


@pytest.mark.parametrize(
    ("span", "said"),
    [
        (timedelta(days=7), "7 days"),
        (timedelta(weeks=1), "7 days"),
        (timedelta(hours=12), "12 hours"),
        (timedelta(days=1), "a day"),
        (timedelta(hours=36), "36 hours"),
        (timedelta(minutes=90), "90 minutes"),
        (timedelta(hours=1), "an hour"),
        (timedelta(seconds=90), "90 seconds"),
    ],
)
def test_a_span_reads_as_people_say_it(span: timedelta, said: str) -> None:
    assert human_span(span) == said


def test_a_meeting_too_late_for_a_12_hour_deadline_is_refused_in_hours_not_a_timedelta() -> None:
    policy = with_deadline(timedelta(hours=12))

    with pytest.raises(MeetingRefused) as refused:
        check_meeting_time(
            postmortem(),
            policy,
            at=TUESDAY_2PM + timedelta(hours=13),
            justification=None,
            now=TUESDAY_2PM,
        )

    message = str(refused.value)
    assert "more than 12 hours after the incident was resolved" in message
    assert "12:00:00" not in message
    assert "days" not in message


def test_a_meeting_too_late_is_refused_naming_the_deadline_in_the_workspaces_zone() -> None:
    berlin = Policy(workspace_timezone="Europe/Berlin")

    with pytest.raises(MeetingRefused) as refused:
        check_meeting_time(
            postmortem(),
            berlin,
            at=TUESDAY_2PM + timedelta(days=8),
            justification=None,
            now=TUESDAY_2PM,
        )

    # The schedule form's inline error: plain text, where a Slack date cannot show.
    assert str(refused.value).startswith(
        "That is after Tue 01 Dec 2026 15:00 in Europe/Berlin — more than 7 days after the "
        "incident was resolved."
    )


@pytest.mark.parametrize(
    ("deadline", "said"),
    [
        (timedelta(hours=12), "12 hours"),
        (timedelta(days=1), "a day"),
        (timedelta(days=7), "7 days"),
    ],
)
def test_every_deadline_text_says_the_policys_span_and_never_a_week(
    deadline: timedelta, said: str
) -> None:
    policy = with_deadline(deadline)
    unowned = postmortem(owner_id=None, owner_assigned_by=None, state=State.AWAITING_OWNER)
    late = postmortem(
        state=State.MEETING_SCHEDULED,
        meeting_at=TUESDAY_2PM + deadline + timedelta(days=2),
        meeting_justification="The on-call lead is on leave",
    )
    attendees = invite_attendees(late, policy)
    ics = meeting_invite_ics(
        late, attendees, now=TUESDAY_2PM, sequence=0, goal=policy.meeting_due.deadline
    )
    [event] = Calendar.from_ical(ics).walk("VEVENT")

    texts = {
        "owner prompt": blocks_text(owner_prompt(unowned, policy)),
        "next steps": next_steps_text(postmortem(), policy),
        "meeting invite": meeting_invite_text(late, policy),
        "invite description": invite_description(late, attendees, goal=deadline),
        ".ics description": str(event.get("description")),
    }

    for where, text in texts.items():
        assert said in text, where
        assert "week" not in text, where
        assert "7-day" not in text, where


# -- the owner's next steps name the commands ----------------------------------------------


def test_the_owners_next_steps_name_the_commands_that_move_the_postmortem_on() -> None:
    text = next_steps_text(postmortem(), Policy())

    positions = [text.index(f"`/postmortem {c} #7`") for c in ("schedule", "held", "done")]
    assert positions == sorted(positions)


# -- a suggested command works as written ----------------------------------------------------

# `/postmortem action` alone (or with only a number) answers with a usage error: a message
# that suggests recording an action item shows what the command takes.
BARE_ACTION = re.compile(r"`/postmortem action(?: #\d+)?`")
USABLE_ACTION = "`/postmortem action #7 @someone YYYY-MM-DD what to do`"


def test_the_meeting_held_message_shows_how_to_record_an_action_item() -> None:
    held = postmortem(state=State.IN_REVIEW, meeting_held_at=TUESDAY_2PM)

    text = meeting_held_text(held, by="U0BOB")

    assert f"agree action items with owners and due dates ({USABLE_ACTION})" in text
    assert not BARE_ACTION.search(text)


def test_the_finish_the_document_reminder_shows_how_to_record_an_action_item() -> None:
    held = postmortem(state=State.IN_REVIEW, meeting_held_at=TUESDAY_2PM)

    text = nudge_text(MessageKind.NUDGE_NOT_DONE, held, Policy())

    assert f"agree action items with owners and due dates ({USABLE_ACTION})" in text


def test_the_already_held_refusal_shows_how_to_record_an_action_item() -> None:
    with pytest.raises(IllegalTransition) as refused:
        next_state(State.IN_REVIEW, Move.MARK_MEETING_HELD, postmortem_id=7)

    assert f"agree action items with owners and due dates ({USABLE_ACTION})" in str(refused.value)


# -- refusals are plain sentences ------------------------------------------------------------

ILLEGAL = [(s, m) for s in State for m in Move if (s, m) not in TRANSITIONS]


def refusal(state: State, move: Move) -> str:
    with pytest.raises(IllegalTransition) as refused:
        next_state(state, move)
    return str(refused.value)


@pytest.mark.parametrize(("state", "move"), ILLEGAL)
def test_every_refusal_is_a_plain_sentence_that_says_what_to_do(state: State, move: Move) -> None:
    text = refusal(state, move)

    if "_" in move.value:  # no identifiers, raw or with spaces ("mark meeting held")
        assert move.value not in text
        assert move.value.replace("_", " ") not in text
    assert STATE_LABELS[state].lower() not in text  # "owned, drafting"
    assert "while the postmortem is" not in text
    assert text.endswith(".")
    assert "`/postmortem " in text  # what to do instead
    assert not BARE_ACTION.search(text), text


@pytest.mark.parametrize(
    ("state", "move", "says"),
    [
        (State.DRAFTING, Move.COMPLETE, "no meeting has been held for it yet"),
        (State.AWAITING_OWNER, Move.SCHEDULE_MEETING, "it has no owner yet"),
        (State.MEETING_SCHEDULED, Move.COMPLETE, "its meeting has not been held yet"),
        (State.IN_REVIEW, Move.SCHEDULE_MEETING, "its meeting was already held"),
        (State.COMPLETED, Move.MARK_MEETING_HELD, "it is already complete"),
        (State.DRAFTING, Move.ASSIGN_OWNER, "it already has an owner"),
    ],
)
def test_a_refusal_names_where_the_postmortem_stands_in_everyday_words(
    state: State, move: Move, says: str
) -> None:
    assert says in refusal(state, move)


COMPLETED = {"state": State.COMPLETED, "completed_at": TUESDAY_2PM + timedelta(days=2)}
# When it was completed, as a Slack date: each reader sees it in their own zone.
COMPLETED_AT = "<!date^1795701600^{date_short_pretty} at {time}|2026-11-26 14:00 UTC>"


def refused_once_complete(
    move: Move, *, gaps: list[Gap], open_items: int, completed_by: str | None
) -> IllegalTransition:
    """``already_complete`` for the postmortem completed on Thursday, as the bot writes it:
    Slack dates in its message, the workspace's zone (Berlin) in its plain text."""
    return already_complete(
        postmortem(**COMPLETED),
        move,
        gaps=gaps,
        open_items=open_items,
        completed_by=completed_by,
        write_moment=slack_date,
        zone_name="Europe/Berlin",
    )


def test_a_move_refused_on_a_complete_postmortem_says_since_when_by_whom_and_what_it_lacks() -> (
    None
):
    refused = refused_once_complete(
        Move.SCHEDULE_MEETING,
        gaps=[Gap.RESPONSE],
        open_items=1,
        completed_by="U0BOB",
    )

    assert str(refused) == (
        "I can't schedule this postmortem's meeting: it is already complete (since "
        f"{COMPLETED_AT}, marked by <@U0BOB>). The postmortem does not say yet how the incident "
        "response worked: its document and action items stay open, so add it with "
        "`/postmortem document #7`."
    )


def test_a_complete_postmortem_refused_in_a_form_says_since_when_in_the_workspaces_zone() -> None:
    refused = refused_once_complete(
        Move.SCHEDULE_MEETING,
        gaps=[],
        open_items=0,
        completed_by="U0BOB",
    )

    # A form's inline error is plain text: no Slack date, no mention.
    assert refused.plain_text.startswith(
        "I can't schedule this postmortem's meeting: it is already complete (since Thu 26 Nov "
        "2026 15:00 in Europe/Berlin). Nothing is left to do;"
    )


def test_a_move_refused_on_a_whole_complete_postmortem_points_to_its_open_action_items() -> None:
    refused = refused_once_complete(
        Move.COMPLETE,
        gaps=[],
        open_items=2,
        completed_by="U0BOB",
    )

    assert str(refused).endswith(
        f"it is already complete (since {COMPLETED_AT}, marked by <@U0BOB>). Its open "
        "action items are still followed up: `/postmortem status #7` lists them."
    )


def test_only_a_whole_complete_postmortem_with_every_item_closed_has_nothing_left_to_do() -> None:
    refused = refused_once_complete(
        Move.MARK_MEETING_HELD,
        gaps=[],
        open_items=0,
        completed_by=None,
    )

    assert str(refused) == (
        "I can't mark this postmortem's meeting as held: it is already complete (since "
        f"{COMPLETED_AT}). Nothing is left to do; a new incident gets its own postmortem "
        "with `/postmortem start`."
    )


def test_marking_held_with_nothing_scheduled_asks_to_schedule_or_to_say_it_was_unscheduled() -> (
    None
):
    with pytest.raises(NotAllowed) as refused:
        check_meeting_took_place(
            postmortem(state=State.DRAFTING), now=TUESDAY_2PM, write_moment=slack_date
        )

    assert str(refused.value) == (
        "No meeting is on the calendar for postmortem #7 yet: schedule it with "
        "`/postmortem schedule #7`. If it already took place without being scheduled here, "
        "record it with `/postmortem held #7 unscheduled`."
    )


@pytest.mark.parametrize("said", [{"unscheduled": True}, {"early": True}])
def test_a_meeting_said_to_have_taken_place_without_a_schedule_may_be_marked_held(
    said: dict[str, bool],
) -> None:
    check_meeting_took_place(
        postmortem(state=State.DRAFTING), now=TUESDAY_2PM, write_moment=slack_date, **said
    )


def test_a_meeting_still_on_the_calendar_is_not_held_just_because_it_was_called_unscheduled() -> (
    None
):
    scheduled = postmortem(
        state=State.MEETING_SCHEDULED, meeting_at=TUESDAY_2PM + timedelta(days=1)
    )

    with pytest.raises(NotAllowed, match=re.escape("`/postmortem held #7 early`")):
        check_meeting_took_place(
            scheduled, now=TUESDAY_2PM, write_moment=slack_date, unscheduled=True
        )


def test_a_meeting_still_on_the_calendar_is_named_by_its_time_in_each_readers_zone() -> None:
    scheduled = postmortem(
        state=State.MEETING_SCHEDULED, meeting_at=TUESDAY_2PM + timedelta(days=1)
    )

    with pytest.raises(NotAllowed) as refused:
        check_meeting_took_place(scheduled, now=TUESDAY_2PM, write_moment=slack_date)

    assert str(refused.value).startswith(
        "The meeting for postmortem #7 is on the calendar for "
        "<!date^1795615200^{date_short_pretty} at {time}|2026-11-25 14:00 UTC>: mark it held "
        "once it has taken place."
    )


# -- an owner prompt the channel refused -----------------------------------------------------


def test_the_direct_message_names_the_apps_real_name_and_the_steps() -> None:
    app = yaml.safe_load(MANIFEST.read_text())["features"]["bot_user"]["display_name"]
    unowned = postmortem(owner_id=None, state=State.AWAITING_OWNER)

    text = prompt_undeliverable_text(
        unowned, recipient="U0ALICE", channel_id="C0PRIVATE", error="not_in_channel"
    )

    assert f"`/invite @{app}` in <#C0PRIVATE>" in text
    assert "then run `/postmortem start` in <#C0PRIVATE> again" in text
    assert text.index("/invite") < text.index("/postmortem start")
    assert "You opened the postmortem for *Payments outage* (#7)" in text


def test_the_person_who_opened_it_is_told_and_a_webhook_is_not_a_person() -> None:
    managers = Policy(incident_managers=("U0IM",))
    unowned = postmortem(owner_id=None, state=State.AWAITING_OWNER)
    by_webhook = postmortem(owner_id=None, state=State.AWAITING_OWNER, opened_by="pagerduty")

    def told(p: Postmortem, policy: Policy, requested_by: str | None = None) -> list[str | None]:
        planned = plan_prompt_undeliverable(
            p, policy, error="not_in_channel", requested_by=requested_by, now=TUESDAY_2PM
        )
        assert all(m.kind is MessageKind.PROMPT_UNDELIVERABLE for m in planned)
        return [m.recipient for m in planned]

    assert told(unowned, managers) == ["U0ALICE"]
    assert told(unowned, managers, requested_by="U0CAROL") == ["U0CAROL"]
    assert told(by_webhook, managers) == ["U0IM"]
    assert told(by_webhook, Policy()) == []
    assert told(postmortem(), managers) == []  # owned meanwhile: nothing to fix
    assert told(replace(unowned, prompt_ts="1.2"), managers) == []  # it was posted after all


def test_status_explains_a_refused_prompt_instead_of_pointing_at_it() -> None:
    unowned = postmortem(owner_id=None, owner_assigned_by=None, state=State.AWAITING_OWNER)
    refused = {7: ["owner_prompt: not_in_channel"]}

    text = status_text([unowned], Policy(), [], refused)

    assert "pick one from the prompt" not in text
    assert "I could not post the owner prompt here" in text
    assert "`/invite @postmortem-bot` in <#C0PRIVATE>" in text
    assert "`/postmortem start`" in text


def test_status_forgets_a_refused_prompt_once_one_reached_the_channel() -> None:
    posted_later = postmortem(
        owner_id=None, owner_assigned_by=None, state=State.AWAITING_OWNER, prompt_ts="1.2"
    )

    text = status_text([posted_later], Policy(), [], {7: ["owner_prompt: not_in_channel"]})

    assert "pick one from the prompt" in text
    assert not re.search(r"could not (post|deliver)", text, re.IGNORECASE)


def test_a_message_slack_refused_is_named_as_people_know_it_with_slacks_reason() -> None:
    owned = postmortem(state=State.DRAFTING)

    text = status_text([owned], Policy(), [], {7: ["document_export: not_in_channel"]})

    assert (
        "Could not deliver the document's export (`/postmortem export` tries again) "
        "(Slack said `not_in_channel`)"
    ) in text
    assert "document_export" not in text


@pytest.mark.parametrize("kind", [k for k in MessageKind if k is not MessageKind.OWNER_PROMPT])
def test_every_kind_of_message_slack_refused_is_named_in_words_not_by_its_code(
    kind: MessageKind,
) -> None:
    owned = postmortem(state=State.DRAFTING)

    text = status_text([owned], Policy(), [], {7: [f"{kind.value}: not_in_channel"]})

    assert "(Slack said `not_in_channel`)" in text
    assert f"deliver {kind.value} (Slack said" not in text


def test_a_settled_held_question_says_how_and_by_whom_instead_of_asking() -> None:
    later = TUESDAY_2PM + timedelta(days=3)
    about = postmortem(title="Payments <outage>", state=State.IN_REVIEW)

    def said(how: str, **more: str) -> str:
        return held_question_settled_text(about, {"settled": how, "by": "U0BOB", **more})

    assert said("moved", meeting_at=later.isoformat()) == (
        ":calendar: The postmortem meeting for *Payments &lt;outage&gt;* (#7) was moved to "
        f"<!date^{int(later.timestamp())}^{{date_short_pretty}} at {{time}}|2026-11-27 14:00 UTC> "
        "(by <@U0BOB>): I'll ask again after it."
    )
    assert said("held") == (
        ":white_check_mark: The postmortem meeting for *Payments &lt;outage&gt;* (#7) was "
        "marked held by <@U0BOB>."
    )
    assert said("cancelled") == (
        ":no_entry_sign: The postmortem for *Payments &lt;outage&gt;* (#7) was cancelled (by "
        "<@U0BOB>): there is no meeting to mark held."
    )


def test_a_held_question_handed_over_asks_the_new_owner_and_says_how_it_came_to_them() -> None:
    meeting = TUESDAY_2PM - timedelta(hours=2)
    about = postmortem(title="Payments", state=State.MEETING_SCHEDULED, meeting_at=meeting)

    def said(by: str) -> str:
        params = {"settled": "handed_over", "by": by, "to": "U0CAROL", "handed_over_from": "U0BOB"}
        return held_question_settled_text(about, params)

    assert said("U0BOB") == (
        ":white_check_mark: <@U0CAROL> (the postmortem was handed over to you by <@U0BOB>), the "
        "postmortem meeting for *Payments* (#7) was due to start "
        f"<!date^{int(meeting.timestamp())}^{{date_short_pretty}} at {{time}}|2026-11-24 12:00 "
        "UTC>. Did it take place? Click *Mark meeting held* (or `/postmortem held #7`). If it "
        "moved, set the new time with `/postmortem schedule #7`."
    )
    # An incident manager who takes it over themselves.
    assert said("U0CAROL").startswith(
        ":white_check_mark: <@U0CAROL> (you took the postmortem over from <@U0BOB>), the "
    )


# -- every nudge reads as a sentence, whoever is (or is not) there to read it ---------------

MEETING = TUESDAY_2PM + timedelta(days=2)


def in_state(state: State, owner: str | None) -> Postmortem:
    """A postmortem in ``state``, with the meeting facts that state comes with."""
    meeting: dict[str, object] = {}
    if state in (State.MEETING_SCHEDULED, State.IN_REVIEW, State.COMPLETED):
        meeting["meeting_at"] = MEETING
    if state in (State.IN_REVIEW, State.COMPLETED):
        meeting["meeting_held_at"] = MEETING + timedelta(hours=1)
    return postmortem(state=state, owner_id=owner, owner_assigned_by=owner, **meeting)


NUDGE_CASES = [
    pytest.param(kind, state, owner, managers, id=f"{kind}-{state}-{who}-{im}")
    for kind in sorted(NUDGES)
    for state in State
    if still_applies(kind, in_state(state, None))
    for owner, who in (("U0BOB", "owner"), (None, "no-owner"))
    for managers, im in ((("U0IM",), "managers"), ((), "no-managers"))
]


@pytest.mark.parametrize(("kind", "state", "owner", "managers"), NUDGE_CASES)
def test_every_nudge_reads_correctly_with_or_without_an_owner_and_incident_managers(
    kind: MessageKind, state: State, owner: str | None, managers: tuple[str, ...]
) -> None:
    text = nudge_text(kind, in_state(state, owner), Policy(incident_managers=managers))

    assert "the owner" not in text.lower()  # no placeholder for somebody who is not there
    if owner:
        assert "<@U0BOB>" in text
    else:
        # Nobody can schedule, mark held or close it yet: the channel is asked to pick one.
        assert "<@U0BOB>" not in text
        assert "`/postmortem owner #7 @someone`" in text
        assert "`/postmortem schedule #7`" not in text
    escalated = kind is MessageKind.ESCALATE_OVERDUE or (
        kind is MessageKind.ESCALATE_NO_OWNER and owner is None  # else its reason is gone
    )
    if escalated and managers:
        assert "<@U0IM>" in text
        assert "No incident manager" not in text
    elif escalated:
        assert "No incident manager is set" in text
        assert "`incident_managers`" in text
    else:
        assert "incident manager" not in text.lower()
    assert "  " not in text
    assert not re.search(r"\.\)?\s*—", text), text  # no dash hanging after a sentence
    assert not re.search(r"[.!?] [a-z]", text), text  # every sentence starts with a capital
    assert text.rstrip()[-1] in ".)", text
    assert not BARE_ACTION.search(text), text


def test_an_overdue_notice_for_a_justified_late_meeting_cites_the_justification() -> None:
    late = postmortem(
        state=State.MEETING_SCHEDULED,
        meeting_at=TUESDAY_2PM + timedelta(days=10),
        meeting_justification="Half the responders are at a conference",
    )

    text = nudge_text(MessageKind.ESCALATE_OVERDUE, late, Policy(incident_managers=("U0IM",)))

    assert "because: _Half the responders are at a conference_" in text
    assert "later than 7 days after resolution" in text
    assert "nobody has marked it held" in text
    assert "record it with `/postmortem held #7`" in text


def test_the_day_3_reminder_without_an_owner_asks_the_channel_to_pick_one() -> None:
    unowned = postmortem(state=State.AWAITING_OWNER, owner_id=None, owner_assigned_by=None)

    text = nudge_text(MessageKind.REMIND_MEETING_DUE, unowned, Policy())

    assert "should be held before" in text
    assert "It has no owner yet: pick one on the prompt above" in text
    assert "is it on the calendar" not in text


def test_the_overdue_notice_without_incident_managers_still_reads_as_sentences() -> None:
    unowned = postmortem(state=State.AWAITING_OWNER, owner_id=None, owner_assigned_by=None)

    text = nudge_text(MessageKind.ESCALATE_OVERDUE, unowned, Policy())

    assert text.startswith(":rotating_light: The postmortem for *Payments outage* (#7) is overdue")
    assert "Completing it comes before planned work." in text
    assert text.endswith(
        "(No incident manager is set to escalate to: list them as `incident_managers` in "
        "the policy file.)"
    )


# -- a new owner's next steps follow where the postmortem stands ---------------------------


def test_a_new_owner_of_a_scheduled_postmortem_is_told_the_meeting_time_then_held() -> None:
    scheduled = postmortem(
        state=State.MEETING_SCHEDULED,
        owner_id="U0CAROL",
        owner_assigned_by="U0BOB",
        meeting_at=MEETING,
    )

    text = next_steps_text(scheduled, Policy())

    assert "Schedule the postmortem meeting" not in text
    assert f"on the calendar for *<!date^{int(MEETING.timestamp())}^" in text
    positions = [text.index(f"`/postmortem {c} #7`") for c in ("held", "done")]
    assert positions == sorted(positions)
    assert "(handed over by <@U0BOB>)" in text
    assert "chosen by" not in text


def test_a_new_owner_of_a_justified_late_meeting_is_told_why_it_is_late() -> None:
    late = postmortem(
        state=State.MEETING_SCHEDULED,
        owner_id="U0CAROL",
        owner_assigned_by="U0BOB",
        meeting_at=TUESDAY_2PM + timedelta(days=10),
        meeting_justification="The on-call lead is on leave",
    )

    text = next_steps_text(late, Policy())

    assert "later than 7 days after resolution because: _The on-call lead is on leave_" in text


def test_a_new_owner_after_the_meeting_was_held_is_told_to_finish_and_run_done() -> None:
    held = postmortem(
        state=State.IN_REVIEW,
        owner_id="U0BOB",
        owner_assigned_by="U0CAROL",
        meeting_at=MEETING,
        meeting_held_at=MEETING + timedelta(hours=1),
    )

    text = next_steps_text(held, Policy())

    assert "`/postmortem schedule #7`" not in text
    assert "`/postmortem held #7`" not in text
    assert "Finish the document" in text
    assert "action items with owners and due dates" in text
    assert "`/postmortem done #7`" in text
    assert "(handed over by <@U0CAROL>)" in text


@pytest.mark.parametrize("state", [State.MEETING_SCHEDULED, State.IN_REVIEW])
def test_the_prompt_says_handed_over_by_after_a_hand_over(state: State) -> None:
    handed = postmortem(
        state=state,
        owner_id="U0CAROL",
        owner_assigned_by="U0BOB",
        meeting_at=MEETING,
        meeting_held_at=MEETING if state is State.IN_REVIEW else None,
    )

    text = blocks_text(owner_chosen(handed, Policy()))

    assert "<@U0CAROL> (handed over by <@U0BOB>)" in text
    assert "chosen by" not in text


def test_a_hand_over_named_as_one_says_so_even_before_a_meeting_is_scheduled() -> None:
    drafting = postmortem(owner_id="U0CAROL", owner_assigned_by="U0IM")

    prompt = blocks_text(owner_chosen(drafting, Policy(), handed_over_from="U0BOB"))
    steps = next_steps_text(drafting, Policy(), handed_over_from="U0BOB")

    assert "<@U0CAROL> (handed over from <@U0BOB> by <@U0IM>)" in prompt
    assert "(handed over from <@U0BOB> by <@U0IM>)" in steps
    assert "`/postmortem schedule #7`" in steps  # nothing scheduled yet: that is still step 1
    # A first owner is still "chosen by" whoever picked them.
    assert "(chosen by <@U0IM>)" in blocks_text(owner_chosen(drafting, Policy()))


# -- a new owner after `done` hears what is left in it, not the meeting's steps --------------

HANDED_AFTER_DONE = {
    "state": State.COMPLETED,
    "owner_id": "U0CAROL",
    "owner_assigned_by": "U0BOB",
    "meeting_at": MEETING,
    "meeting_held_at": MEETING + timedelta(hours=1),
    "completed_at": TUESDAY_2PM + timedelta(days=2),
}
DONE_AT = "<!date^1795701600^{date_short_pretty} at {time}|2026-11-26 14:00 UTC>"


def test_a_new_owner_of_a_completed_postmortem_is_told_what_it_lacks_and_its_open_items() -> None:
    done = postmortem(**HANDED_AFTER_DONE)

    text = next_steps_text(
        done, Policy(), handed_over_from="U0BOB", gaps=[Gap.WHAT_WENT_WRONG], open_items=2
    )

    assert text == (
        "<@U0CAROL>, you now own the postmortem for *Payments outage* (handed over by "
        "<@U0BOB>). Thank you for taking it on!\n"
        f"It is already complete (since {DONE_AT}): no meeting is left to hold. What is left:\n"
        "1. The postmortem does not say yet what went wrong to cause it (the contributing "
        "factors): its document and action items stay open, so add it with "
        "`/postmortem document #7`.\n"
        "2. Its 2 open action items are followed up with their owners on their due dates; one "
        "still open a week later is brought to you too: `/postmortem status #7` lists them.\n"
        "3. Then `/postmortem export #7` posts its document as Markdown, to keep.\n"
        "You coordinate; everyone writes. Keep it blameless."
    )


def test_a_new_owner_of_a_whole_completed_postmortem_is_told_nothing_else_is_left() -> None:
    text = next_steps_text(postmortem(**HANDED_AFTER_DONE), Policy(), handed_over_from="U0BOB")

    assert text.endswith(
        f"It is already complete (since {DONE_AT}): no meeting is left to hold. Nothing else is "
        "left to do in it: `/postmortem export #7` posts its document as Markdown, to keep."
    )
    for step in ("schedule", "held", "done"):
        assert f"`/postmortem {step} #7`" not in text


def test_the_prompt_of_a_postmortem_handed_over_after_done_says_since_when_it_is_complete() -> None:
    text = blocks_text(owner_chosen(postmortem(**HANDED_AFTER_DONE), Policy()))

    assert "<@U0CAROL> (handed over by <@U0BOB>)" in text
    assert f"Postmortem #7 · complete since {DONE_AT}" in text
    assert "meeting due by" not in text


def test_the_direct_message_to_a_new_owner_after_done_says_what_is_left_in_it() -> None:
    done = postmortem(**HANDED_AFTER_DONE)
    params = {"by": "U0BOB", "handed_over_from": "U0BOB", "gaps": "steps", "open_items": "1"}

    text = owner_told_text(done, params)

    assert text == (
        ":wave: <@U0BOB> handed you the postmortem for *Payments outage* (#7) in <#C0PRIVATE>, "
        "which is already complete: no meeting is left to hold. The postmortem has no action "
        "item to keep it from happening again: its document and action items stay open, so add "
        "one with `/postmortem action #7 @someone YYYY-MM-DD what to do`. Its open action item "
        "is followed up with its owner on its due date; if it is still open a week later, you "
        "hear of it too: `/postmortem status #7` lists it. Then `/postmortem export #7` posts "
        "its document as Markdown, to keep. The commands work in <#C0PRIVATE>. Not the right "
        "person? Agree on someone there and hand it over with `/postmortem owner #7 @someone`."
    )


def test_an_owner_chosen_after_the_deadline_is_told_the_meeting_is_overdue() -> None:
    late = postmortem(owner_assigned_at=TUESDAY_2PM + timedelta(days=8))

    text = next_steps_text(late, Policy())

    assert "as soon as you can: it was due by" in text
    assert "asks why it is later" in text
    assert ", before *" not in text


ITEM = {"number": "2", "text": "Alert on <queue> depth", "owner": "U0DAN", "due": "2026-12-04"}
DUE_DAY = date(2026, 12, 4)
A_WEEK_LATER = date(2026, 12, 11)


def test_an_overdue_item_asks_the_postmortem_owner_to_help_unless_they_own_the_item() -> None:
    for_dan = action_item_reminder_text(
        MessageKind.ACTION_ITEM_OVERDUE, postmortem(owner_id="U0BOB"), ITEM, today=A_WEEK_LATER
    )
    for_the_owner = action_item_reminder_text(
        MessageKind.ACTION_ITEM_OVERDUE, postmortem(owner_id="U0DAN"), ITEM, today=A_WEEK_LATER
    )
    unowned = action_item_reminder_text(
        MessageKind.ACTION_ITEM_OVERDUE, postmortem(owner_id=None), ITEM, today=A_WEEK_LATER
    )

    assert "was due Fri 04 Dec 2026 and is still open a week later" in for_dan
    assert "<@U0BOB>, as the postmortem's owner, please help get it moving." in for_dan
    assert "as the postmortem's owner" not in for_the_owner
    assert "as the postmortem's owner" not in unowned


def test_an_action_item_reminder_escapes_the_items_text_and_says_how_to_mark_it_done() -> None:
    text = action_item_reminder_text(MessageKind.ACTION_ITEM_DUE, postmortem(), ITEM, today=DUE_DAY)

    assert "<@U0DAN>, your action item for *Payments outage* (#7) is due today" in text
    assert "\n> Item 2: Alert on &lt;queue&gt; depth\n" in text
    assert "`/postmortem action #7 done 2`" in text
    assert "`/postmortem action #7 @someone YYYY-MM-DD what to do`" in text


@pytest.mark.parametrize(
    ("today", "says"),
    [
        (DUE_DAY, "(#7) is due today, Fri 04 Dec 2026:\n"),
        # Sent late (its day fell on a weekend, or Slack was down): not "due today".
        (DUE_DAY + timedelta(days=3), "(#7) was due Fri 04 Dec 2026 and is still open:\n"),
        # Never planned so, but should it be sent early, it is not "still open" yet.
        (DUE_DAY - timedelta(days=1), "(#7) is due Fri 04 Dec 2026:\n"),
    ],
)
def test_a_due_date_reminder_says_due_today_only_on_its_day_and_still_open_only_after_it(
    today: date, says: str
) -> None:
    text = action_item_reminder_text(MessageKind.ACTION_ITEM_DUE, postmortem(), ITEM, today=today)

    assert says in text


def test_a_direct_reminder_names_no_command_and_asks_nobody_else() -> None:
    text = action_item_reminder_text(
        MessageKind.ACTION_ITEM_OVERDUE,
        postmortem(owner_id="U0BOB"),
        ITEM,
        today=A_WEEK_LATER,
        instead_of="C0ARCHIVED",
    )

    assert text.startswith(":warning: Your action item for *Payments outage* (#7)")
    assert (
        "Done? Click *Mark done*. (I'm telling you directly: I can't post in <#C0ARCHIVED>" in text
    )
    assert "/postmortem" not in text
    assert "<@U0BOB>" not in text
    assert "<@U0DAN>" not in text


@pytest.mark.parametrize(
    ("state", "move", "said"),
    [
        (State.DRAFTING, Move.SCHEDULE_MEETING, "can schedule the meeting for postmortem #7."),
        (
            State.MEETING_SCHEDULED,
            Move.MARK_MEETING_HELD,
            "can mark the meeting for postmortem #7 held.",
        ),
        (State.IN_REVIEW, Move.COMPLETE, "can complete postmortem #7."),
    ],
)
def test_who_may_move_the_lifecycle_on_is_said_in_a_sentence(
    state: State, move: Move, said: str
) -> None:
    with pytest.raises(NotAllowed) as refused:
        check_can_steer(postmortem(state=state), Policy(), actor="U0CAROL", move=move)

    assert str(refused.value) == (
        f"Only the owner <@U0BOB> {said} Ask them to, or to hand the postmortem to you: they "
        "run `/postmortem owner #7 @your-name`."
    )
    # The schedule form's inline error is plain text, where a mention shows as its raw id.
    assert refused.value.plain_text == (
        f"Only its owner (`/postmortem status #7` names them) {said} Ask them to, or to hand "
        "the postmortem to you: they run `/postmortem owner #7 @your-name`."
    )


@pytest.mark.parametrize(
    ("kind", "overdue_says"),
    [
        (MessageKind.NUDGE_NO_MEETING, "it was due by"),
        (MessageKind.NUDGE_NO_DRAFT, "The meeting was due by"),
    ],
)
def test_an_owner_nudge_sent_after_the_deadline_says_the_meeting_is_overdue(
    kind: MessageKind, overdue_says: str
) -> None:
    owned = postmortem()  # resolved Tuesday 14:00: the meeting is due a week later
    before = nudge_text(kind, owned, Policy(), now=TUESDAY_2PM + timedelta(days=6))
    after = nudge_text(kind, owned, Policy(), now=TUESDAY_2PM + timedelta(days=8))

    assert "should be held before" in before
    assert overdue_says in after
    assert "should be held before" not in after


@pytest.mark.parametrize(
    ("recorded", "still_open", "says"),
    [
        (
            "3",
            "2",
            "Its 2 open action items come before planned work: `/postmortem status #7` "
            "lists them, and each owner is reminded on its due date.",
        ),
        (
            "3",
            "1",
            "Its open action item comes before planned work: `/postmortem status #7` "
            "lists it, and each owner is reminded on its due date.",
        ),
        ("3", "0", "Every action item is already done."),
    ],
)
def test_the_complete_message_says_what_is_still_owed_as_it_stands(
    recorded: str, still_open: str, says: str
) -> None:
    done = postmortem(state=State.COMPLETED)
    params = {
        "by": "U0BOB",
        "action_items": recorded,
        "open_items": still_open,
        "dropped_items": "0",
    }

    text = completed_text(done, params)

    assert f"(marked by <@U0BOB>). Thank you all! {says} `/postmortem export #7`" in text


@pytest.mark.parametrize(
    "params", [{"by": "U0BOB", "action_items": "0", "open_items": "0"}, {"by": "U0BOB"}]
)  # none recorded; a row from before counts
def test_the_complete_message_claims_nothing_about_action_items_when_none_are_known(
    params: dict[str, str],
) -> None:
    text = completed_text(postmortem(state=State.COMPLETED), params)

    assert "action item" not in text
    assert "(marked by <@U0BOB>). Thank you all! `/postmortem export #7` posts" in text


def test_the_complete_message_says_what_the_document_still_lacks_and_how_to_add_it() -> None:
    params = {"by": "U0BOB", "action_items": "0", "open_items": "0", "gaps": "response,steps"}

    text = completed_text(postmortem(state=State.COMPLETED), params)

    assert (
        "Thank you all! The postmortem does not say yet how the incident response worked, and "
        "has no action item to keep it from happening again: its document and action items "
        "stay open, so add them with `/postmortem document #7` and "
        "`/postmortem action #7 @someone YYYY-MM-DD what to do`. "
        "Then `/postmortem export #7` posts it as Markdown, to keep."
    ) in text


@pytest.mark.parametrize(
    ("gaps", "says"),
    [
        (
            "what_went_wrong",
            "does not say yet what went wrong to cause it (the contributing factors): its "
            "document and action items stay open, so add it with `/postmortem document #7`.",
        ),
        (
            "steps",
            "has no action item to keep it from happening again: its document and action "
            "items stay open, so add one with `/postmortem action #7 @someone YYYY-MM-DD what "
            "to do`.",
        ),
        (
            "what_went_wrong,response",
            "what went wrong to cause it (the contributing factors) or how the incident "
            "response worked: its document and action items stay open, so add them with "
            "`/postmortem document #7`.",
        ),
    ],
)
def test_the_complete_message_names_only_what_is_missing(gaps: str, says: str) -> None:
    params = {"by": "U0BOB", "gaps": gaps}

    assert says in completed_text(postmortem(state=State.COMPLETED), params)


@pytest.mark.parametrize(
    ("recorded", "dropped", "says"),
    [
        ("3", "1", "Its action items are all closed: 2 done, 1 dropped."),
        ("2", "2", "Its 2 action items were all dropped."),
        ("1", "1", "Its action item was dropped."),
        ("2", None, "Every action item is already closed."),  # a row from before
    ],
)
def test_the_complete_message_never_calls_a_dropped_action_item_done(
    recorded: str, dropped: str | None, says: str
) -> None:
    params = {"by": "U0BOB", "action_items": recorded, "open_items": "0"}
    if dropped is not None:
        params["dropped_items"] = dropped

    text = completed_text(postmortem(state=State.COMPLETED), params)

    assert f"Thank you all! {says}" in text
    assert "already done" not in text


def test_an_invite_sent_again_for_the_same_time_says_it_is_still_then_and_not_moved() -> None:
    meeting_at = TUESDAY_2PM + timedelta(days=2)
    again = postmortem(
        state=State.MEETING_SCHEDULED, meeting_at=meeting_at, meeting_participants=("U0CS",)
    )
    heard = {"moved_from": meeting_at.isoformat(), "was_invited": "U0BOB U0CS U0PM"}

    text = meeting_invite_text(again, Policy(), heard)

    assert text.startswith(
        ":calendar: The postmortem meeting for *Payments outage* (#7) is still <!date^"
    )
    assert "with its invite changed" in text
    assert "moved" not in text
    assert "• No longer invited: <@U0PM>:" in text
