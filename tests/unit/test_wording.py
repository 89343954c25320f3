"""What people read: spans follow the policy, steps name their commands, refusals are sentences."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from icalendar import Calendar
from slack_sdk.models.blocks import Block

from bot.domain.errors import IllegalTransition
from bot.domain.lifecycle import STATE_LABELS, TRANSITIONS, Move, State, next_state
from bot.domain.meetings import (
    MeetingRefused,
    check_meeting_time,
    invite_attendees,
    invite_description,
    meeting_invite_ics,
)
from bot.domain.messages import MessageKind, human_span, plan_prompt_undeliverable
from bot.domain.policy import MeetingDueNudges, Policy
from bot.domain.postmortem import Postmortem
from bot.slack.blocks import (
    next_steps_text,
    owner_prompt,
    prompt_undeliverable_text,
    status_text,
)
from bot.slack.nudges import meeting_invite_text

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
    ics = meeting_invite_ics(late, attendees, now=TUESDAY_2PM, goal=policy.meeting_due.deadline)
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

    positions = [text.index(f"`/postmortem {c}`") for c in ("schedule", "held", "done")]
    assert positions == sorted(positions)


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


@pytest.mark.parametrize(
    ("state", "move", "says"),
    [
        (State.DRAFTING, Move.MARK_MEETING_HELD, "it has no meeting scheduled yet"),
        (State.DRAFTING, Move.COMPLETE, "it has no meeting scheduled yet"),
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


def test_marking_held_before_scheduling_points_to_schedule() -> None:
    text = refusal(State.DRAFTING, Move.MARK_MEETING_HELD)

    assert text.startswith("I can't mark this postmortem's meeting as held: ")
    assert "`/postmortem schedule`" in text


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
