"""Every channel's open postmortems: who may see them, which come first, and how many
fit one answer."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.errors import NotAllowed
from bot.domain.lifecycle import State
from bot.domain.overview import by_urgency, check_can_see_everywhere, meeting_overdue
from bot.domain.policy import Policy
from bot.domain.postmortem import Postmortem
from bot.slack.blocks import overview_text, status_text

RESOLVED = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
A_WEEK_LATER = RESOLVED + timedelta(days=7)


def postmortem(number: int, state: State, resolved_at: datetime = RESOLVED) -> Postmortem:
    return Postmortem(
        id=number,
        incident_key=f"slack:{number}",
        title=f"Outage {number}",
        source="slack",
        channel_id=f"C0{number}",
        state=state,
        resolved_at=resolved_at,
        opened_at=resolved_at,
        opened_by="U0ALICE",
    )


@pytest.mark.parametrize("state", [State.AWAITING_OWNER, State.DRAFTING])
def test_a_meeting_not_on_the_calendar_is_overdue_from_its_deadline(state: State) -> None:
    assert not meeting_overdue(postmortem(1, state), Policy(), A_WEEK_LATER - timedelta(seconds=1))
    assert meeting_overdue(postmortem(1, state), Policy(), A_WEEK_LATER)


def test_a_held_meeting_is_never_overdue() -> None:
    assert not meeting_overdue(
        postmortem(1, State.IN_REVIEW), Policy(), A_WEEK_LATER + timedelta(days=30)
    )


def test_a_meeting_on_the_calendar_is_overdue_once_a_day_past_its_time_and_the_deadline() -> None:
    # Accepted for day 9 with a reason: not overdue on day 8, nor on day 9 while it may be
    # under way; a day after its time, still not marked held, it is.
    late = replace(postmortem(1, State.MEETING_SCHEDULED), meeting_at=RESOLVED + timedelta(days=9))

    assert not meeting_overdue(late, Policy(), RESOLVED + timedelta(days=8))
    assert not meeting_overdue(late, Policy(), RESOLVED + timedelta(days=9, hours=12))
    assert meeting_overdue(late, Policy(), RESOLVED + timedelta(days=10))


def test_overdue_meetings_come_first_then_the_earliest_deadline() -> None:
    held_long_ago = postmortem(1, State.IN_REVIEW)
    overdue = postmortem(2, State.DRAFTING, RESOLVED + timedelta(days=1))
    recent = postmortem(3, State.AWAITING_OWNER, RESOLVED + timedelta(days=6))
    older = postmortem(4, State.DRAFTING, RESOLVED + timedelta(days=5))

    ordered = by_urgency(
        [held_long_ago, overdue, recent, older], Policy(), A_WEEK_LATER + timedelta(days=1)
    )

    assert [p.id for p in ordered] == [2, 1, 4, 3]


def test_those_with_messages_slack_refused_come_before_overdue_meetings() -> None:
    overdue = postmortem(1, State.DRAFTING)
    refused = postmortem(2, State.AWAITING_OWNER, RESOLVED + timedelta(days=6))
    fresh = postmortem(3, State.DRAFTING, RESOLVED + timedelta(days=5))

    ordered = by_urgency([fresh, overdue, refused], Policy(), A_WEEK_LATER, refused={2})

    assert [p.id for p in ordered] == [2, 1, 3]


def test_status_all_says_what_else_slack_refused_and_where_to_look() -> None:
    owned = replace(postmortem(4, State.DRAFTING), owner_id="U0BOB")
    problems = {4: ["owner_chosen: not_in_channel", "nudge_no_meeting: not_in_channel"]}

    text = overview_text([owned], [], Policy(), RESOLVED, undeliverable=problems)

    assert text.splitlines()[1].endswith(
        " · :warning: could not deliver the owner announcement (Slack said `not_in_channel`) "
        "and 1 more message; `/postmortem status #4` there lists what Slack refused"
    )


def test_only_an_incident_manager_sees_every_channel() -> None:
    check_can_see_everywhere("U0MANAGER", ["U0MANAGER"])
    with pytest.raises(NotAllowed, match="for the incident managers: it lists incidents"):
        check_can_see_everywhere("U0ALICE", ["U0MANAGER"])
    with pytest.raises(NotAllowed, match="the policy file names none yet"):
        check_can_see_everywhere("U0ALICE", [])


def test_status_shows_five_of_a_channels_postmortems_in_full_and_names_the_rest() -> None:
    many = [replace(postmortem(n, State.AWAITING_OWNER), channel_id="C0OPS") for n in range(1, 9)]

    text = status_text(many, Policy(), [], {})

    assert text.count("— Awaiting an owner") == 5
    assert text.endswith(
        "…and 3 more open here: #6 Outage 6, #7 Outage 7, #8 Outage 8. "
        "`/postmortem status #6` shows one in full."
    )


def test_with_more_than_five_the_overdue_meetings_are_shown_in_full_first() -> None:
    fresh = [
        replace(postmortem(n, State.AWAITING_OWNER, RESOLVED + timedelta(days=6)), channel_id="C1")
        for n in range(1, 7)  # newest first, as the channel lists them
    ]
    overdue = replace(postmortem(9, State.DRAFTING), channel_id="C1")
    now = A_WEEK_LATER + timedelta(hours=1)

    text = status_text([*fresh, overdue], Policy(), [], {}, now=now)
    named_only = text.rsplit("…and", 1)[1]

    assert text.startswith("*#9 Outage 9* — Owned, meeting not scheduled")
    assert "#9" not in named_only
    assert "(:warning: meeting overdue)" not in named_only


def test_a_long_title_is_shortened_where_it_is_one_of_many_on_a_line() -> None:
    long = replace(postmortem(1, State.DRAFTING), title="x" * 300, owner_id="U0BOB")

    text = overview_text([long], [long], Policy(), RESOLVED)

    assert f"*#1 {'x' * 79}…* in <#C01>" in text
    assert "x" * 80 not in text


def test_overdue_meetings_only_named_are_flagged() -> None:
    overdue = [replace(postmortem(n, State.DRAFTING), channel_id="C1") for n in range(1, 8)]

    text = status_text(overdue, Policy(), [], {}, now=A_WEEK_LATER + timedelta(hours=1))

    assert text.rsplit("…and", 1)[1].count("(:warning: meeting overdue)") == 2
