"""The `/postmortem schedule` form: what it pre-fills and what it says (pure builder)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from bot.domain.lifecycle import State
from bot.domain.meetings import outside_working_hours_note, suggested_meeting_time
from bot.domain.policy import Policy, WorkingHours
from bot.domain.postmortem import Postmortem
from bot.slack.meeting_form import schedule_modal

TUESDAY_2PM = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
DEADLINE = TUESDAY_2PM + timedelta(days=7)  # Tuesday 1 December 14:00


def postmortem(**changes: object) -> Postmortem:
    base: dict[str, object] = {
        "id": 7,
        "incident_key": "slack:Q1",
        "title": "Payments outage",
        "source": "slack",
        "channel_id": "C0INCIDENT",
        "state": State.DRAFTING,
        "resolved_at": TUESDAY_2PM,
        "opened_at": TUESDAY_2PM,
        "opened_by": "U0ALICE",
        "owner_id": "U0BOB",
        "owner_assigned_by": "U0BOB",
    }
    base.update(changes)
    return Postmortem(**base)  # type: ignore[arg-type]


def form(p: Postmortem, now: datetime) -> dict[str, Any]:
    return dict(schedule_modal(p, Policy(), "C0INCIDENT", now).to_dict())


def block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


def prefilled(view: dict[str, Any]) -> datetime:
    epoch = block(view, "meeting_time")["element"]["initial_date_time"]
    return datetime.fromtimestamp(epoch, UTC)


def intro(view: dict[str, Any]) -> str:
    return str(view["blocks"][0]["elements"][0]["text"])


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Thursday 3 December 10:20: a working day on, on the hour.
        (datetime(2026, 12, 3, 10, 20, tzinfo=UTC), datetime(2026, 12, 4, 11, 0, tzinfo=UTC)),
        # Friday evening: hours open Monday 09:00, and a working day on is Tuesday 09:00.
        (datetime(2026, 12, 4, 20, 0, tzinfo=UTC), datetime(2026, 12, 8, 9, 0, tzinfo=UTC)),
        # Friday 17:40: a working day on is Monday 17:40; on the hour that is closing time.
        (datetime(2026, 12, 4, 17, 40, tzinfo=UTC), datetime(2026, 12, 8, 9, 0, tzinfo=UTC)),
    ],
)
def test_once_the_deadline_has_passed_the_form_prefills_a_future_working_hour(
    now: datetime, expected: datetime
) -> None:
    assert prefilled(form(postmortem(), now)) == expected


def test_an_overdue_form_says_so_and_requires_the_reason() -> None:
    view = form(postmortem(), DEADLINE + timedelta(days=1))

    assert "is *overdue*: its meeting was due by" in intro(view)
    assert "a reason is required" in intro(view)
    justification = block(view, "meeting_justification")
    assert justification.get("optional", False) is False
    assert "(required: it is overdue)" in justification["label"]["text"]


def test_before_the_deadline_the_form_prefills_tomorrow_and_the_reason_is_optional() -> None:
    now = TUESDAY_2PM + timedelta(hours=1)
    view = form(postmortem(), now)

    assert prefilled(view) == now + timedelta(days=1)
    assert "overdue" not in intro(view)
    assert "hold the meeting by" in intro(view)
    assert block(view, "meeting_justification")["optional"] is True


def test_on_the_last_day_the_form_prefills_the_deadline_itself() -> None:
    now = DEADLINE - timedelta(hours=3)

    view = form(postmortem(), now)

    assert prefilled(view) == DEADLINE
    assert "overdue" not in intro(view)


def test_with_the_deadline_minutes_away_the_form_suggests_later_and_asks_why() -> None:
    now = DEADLINE - timedelta(minutes=20)

    view = form(postmortem(), now)

    assert prefilled(view) > DEADLINE
    assert "is about to be *overdue*: its meeting is due by" in intro(view)
    assert block(view, "meeting_justification").get("optional", False) is False


def test_moving_a_meeting_keeps_its_time_and_reason_while_they_are_ahead() -> None:
    late = postmortem(
        state=State.MEETING_SCHEDULED,
        meeting_at=DEADLINE + timedelta(days=3),
        meeting_justification="The on-call lead is on leave",
    )

    view = form(late, DEADLINE + timedelta(days=1))

    assert prefilled(view) == DEADLINE + timedelta(days=3)
    justification = block(view, "meeting_justification")["element"]
    assert justification["initial_value"] == "The on-call lead is on leave"


def test_a_meeting_whose_time_has_passed_is_not_prefilled_again() -> None:
    passed = postmortem(state=State.MEETING_SCHEDULED, meeting_at=TUESDAY_2PM + timedelta(days=1))
    now = TUESDAY_2PM + timedelta(days=2)

    assert suggested_meeting_time(passed, Policy(), now) > now


def test_moving_a_late_meeting_before_the_deadline_says_it_is_after_the_deadline() -> None:
    late = postmortem(
        state=State.MEETING_SCHEDULED,
        meeting_at=DEADLINE + timedelta(days=3),
        meeting_justification="The on-call lead is on leave",
    )

    view = form(late, TUESDAY_2PM + timedelta(days=1))

    assert "has its meeting after the deadline" in intro(view)
    assert "overdue" not in intro(view)
    assert block(view, "meeting_justification").get("optional", False) is False


# -- a deadline less than a working day away: the latest time by it the team is at work ----

OFFICE_HOURS = WorkingHours(start=time(9), end=time(17))  # Monday to Friday


def office(zone: str = "Europe/Berlin") -> Policy:
    return Policy(workspace_timezone=zone, working_hours=OFFICE_HOURS)


def due_by(deadline: datetime) -> Postmortem:
    """A postmortem whose meeting is due by ``deadline`` (seven days after resolution)."""
    return postmortem(resolved_at=deadline - timedelta(days=7))


def test_a_deadline_at_night_is_not_suggested_but_the_last_working_hour_before_it() -> None:
    tuesday_3am_berlin = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    monday_noon_berlin = datetime(2026, 11, 30, 11, 0, tzinfo=UTC)

    suggested = suggested_meeting_time(due_by(tuesday_3am_berlin), office(), monday_noon_berlin)

    assert suggested == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # Monday 16:00 in Berlin
    assert outside_working_hours_note(suggested, office()) is None


def test_the_suggested_meeting_ends_by_closing_time() -> None:
    monday_4_30pm_berlin = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)
    monday_noon_berlin = datetime(2026, 11, 30, 11, 0, tzinfo=UTC)

    suggested = suggested_meeting_time(due_by(monday_4_30pm_berlin), office(), monday_noon_berlin)

    assert suggested == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # 16:00 to 17:00 in Berlin


def test_the_whole_hour_suggested_is_whole_on_the_teams_clocks() -> None:
    tuesday_3am_kolkata = datetime(2026, 11, 30, 21, 30, tzinfo=UTC)
    monday_noon_kolkata = datetime(2026, 11, 30, 6, 30, tzinfo=UTC)

    suggested = suggested_meeting_time(
        due_by(tuesday_3am_kolkata), office("Asia/Kolkata"), monday_noon_kolkata
    )

    assert suggested == datetime(2026, 11, 30, 10, 30, tzinfo=UTC)  # 16:00 in Kolkata


def test_with_no_working_hour_left_before_the_deadline_the_deadline_is_suggested() -> None:
    tuesday_3am_berlin = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    monday_4_30pm_berlin = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)  # 16:00 is too soon

    suggested = suggested_meeting_time(due_by(tuesday_3am_berlin), office(), monday_4_30pm_berlin)

    assert suggested == tuesday_3am_berlin


def test_with_working_hours_always_the_deadline_itself_is_suggested() -> None:
    always = Policy(workspace_timezone="Europe/Berlin", working_hours=WorkingHours(always=True))
    tuesday_3am_berlin = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    monday_noon_berlin = datetime(2026, 11, 30, 11, 0, tzinfo=UTC)

    assert (
        suggested_meeting_time(due_by(tuesday_3am_berlin), always, monday_noon_berlin)
        == tuesday_3am_berlin
    )


@pytest.mark.parametrize(
    ("deadline", "now", "expected"),
    [
        # Clocks go back in the night to Sunday 25 October: Friday 16:00 is on summer time.
        (
            datetime(2026, 10, 26, 2, 0, tzinfo=UTC),  # Monday 03:00 CET
            datetime(2026, 10, 23, 10, 0, tzinfo=UTC),  # Friday 12:00 CEST
            datetime(2026, 10, 23, 14, 0, tzinfo=UTC),  # Friday 16:00 CEST
        ),
        # Clocks go forward in the night to Sunday 29 March: Friday 16:00 is on winter time.
        (
            datetime(2026, 3, 30, 6, 30, tzinfo=UTC),  # Monday 08:30 CEST
            datetime(2026, 3, 27, 11, 0, tzinfo=UTC),  # Friday 12:00 CET
            datetime(2026, 3, 27, 15, 0, tzinfo=UTC),  # Friday 16:00 CET
        ),
    ],
)
def test_across_a_clock_change_the_last_working_hour_is_read_on_that_days_clocks(
    deadline: datetime, now: datetime, expected: datetime
) -> None:
    assert suggested_meeting_time(due_by(deadline), office(), now) == expected
