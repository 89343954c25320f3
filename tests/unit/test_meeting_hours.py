"""A meeting time outside the team's working hours: said plainly, never refused (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, time

from bot.domain.meetings import outside_working_hours_note
from bot.domain.policy import Policy, WorkingHours

BERLIN = Policy(workspace_timezone="Europe/Berlin")  # Monday to Friday, 09:00 to 18:00


def test_a_weekend_meeting_is_noted_naming_the_day_the_time_and_the_working_hours() -> None:
    saturday_10am_berlin = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)

    note = outside_working_hours_note(saturday_10am_berlin, BERLIN)

    assert note == (
        "Note: that is Saturday 10:00 in Europe/Berlin, outside the team's working hours there "
        "(Mon-Fri 09:00-18:00); the owner and participants may not be there."
    )


def test_a_meeting_within_working_hours_has_no_note() -> None:
    thursday_3pm_berlin = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)

    assert outside_working_hours_note(thursday_3pm_berlin, BERLIN) is None


def test_before_and_after_hours_on_a_working_day_are_noted_the_opening_minute_is_not() -> None:
    thursday = [datetime(2026, 11, 26, h, m, tzinfo=UTC) for h, m in ((7, 59), (8, 0), (17, 0))]

    early, opening, closing = (outside_working_hours_note(at, BERLIN) for at in thursday)

    assert early is not None
    assert "Thursday 08:59 in Europe/Berlin" in early
    assert opening is None
    assert closing is not None
    assert "Thursday 18:00 in Europe/Berlin" in closing


def test_a_meeting_that_starts_in_working_hours_but_runs_past_closing_is_noted() -> None:
    thursday_half_past_five_berlin = datetime(2026, 11, 26, 16, 30, tzinfo=UTC)  # lasts an hour

    note = outside_working_hours_note(thursday_half_past_five_berlin, BERLIN)

    assert note == (
        "Note: it runs until 18:30 in Europe/Berlin, past the team's working hours there "
        "(Mon-Fri 09:00-18:00); the owner and participants may not be there."
    )


def test_a_meeting_that_ends_as_the_working_day_closes_has_no_note() -> None:
    thursday_5pm_berlin = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)  # over at 18:00

    assert outside_working_hours_note(thursday_5pm_berlin, BERLIN) is None


def test_a_weekday_the_team_does_not_work_is_noted_with_the_days_as_configured() -> None:
    four_day_week = Policy(
        workspace_timezone="Europe/Berlin",
        working_hours=WorkingHours(days=frozenset(range(4)), start=time(8), end=time(16, 30)),
    )
    friday_11am_berlin = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)

    note = outside_working_hours_note(friday_11am_berlin, four_day_week)

    assert note is not None
    assert "that is Friday 11:00 in Europe/Berlin" in note
    assert "(Mon-Thu 08:00-16:30)" in note


def test_with_working_hours_always_no_time_is_noted() -> None:
    always = Policy(workspace_timezone="Europe/Berlin", working_hours=WorkingHours(always=True))
    sunday_3am_berlin = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)

    assert outside_working_hours_note(sunday_3am_berlin, always) is None


def test_after_clocks_go_forward_the_hours_are_read_on_summer_time() -> None:
    # Monday 29 March 2027, the day after Berlin moved to CEST (UTC+2).
    half_past_nine_cest = datetime(2027, 3, 29, 7, 30, tzinfo=UTC)  # 08:30 on winter time
    half_past_eight_cest = datetime(2027, 3, 29, 6, 30, tzinfo=UTC)

    assert outside_working_hours_note(half_past_nine_cest, BERLIN) is None
    note = outside_working_hours_note(half_past_eight_cest, BERLIN)
    assert note is not None
    assert "Monday 08:30 in Europe/Berlin" in note


def test_after_clocks_go_back_the_hours_are_read_on_winter_time() -> None:
    # Monday 1 November 2027, the day after Berlin moved back to CET (UTC+1).
    five_pm_cet = datetime(2027, 11, 1, 16, 0, tzinfo=UTC)  # 18:00 on summer time
    six_pm_cet = datetime(2027, 11, 1, 17, 0, tzinfo=UTC)

    assert outside_working_hours_note(five_pm_cet, BERLIN) is None
    note = outside_working_hours_note(six_pm_cet, BERLIN)
    assert note is not None
    assert "Monday 18:00 in Europe/Berlin" in note


def test_on_the_spring_forward_night_hours_opening_in_the_gap_open_when_it_ends() -> None:
    night_shift = Policy(
        workspace_timezone="Europe/Berlin",
        working_hours=WorkingHours(days=frozenset(range(7)), start=time(2, 30), end=time(8)),
    )
    just_before_the_jump = datetime(2027, 3, 28, 0, 59, tzinfo=UTC)  # 01:59 CET
    as_clocks_reach_three = datetime(2027, 3, 28, 1, 0, tzinfo=UTC)  # 03:00 CEST

    note = outside_working_hours_note(just_before_the_jump, night_shift)

    assert note is not None
    assert "Sunday 01:59 in Europe/Berlin" in note
    assert "(every day 02:30-08:00)" in note
    assert outside_working_hours_note(as_clocks_reach_three, night_shift) is None
