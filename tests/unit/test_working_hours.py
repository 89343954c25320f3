"""Working hours: when a nudge may go out, in the recipient's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.policy import WorkingHours

NEW_YORK = ZoneInfo("America/New_York")
HOURS = WorkingHours()  # Monday to Friday, 09:00 to 18:00


def test_inside_working_hours_a_nudge_goes_now() -> None:
    tuesday_noon_ny = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)

    assert HOURS.next_opening(tuesday_noon_ny, NEW_YORK) == tuesday_noon_ny


def test_after_hours_a_nudge_waits_for_the_next_morning_in_the_recipients_zone() -> None:
    tuesday_evening_ny = datetime(2026, 11, 25, 0, 30, tzinfo=UTC)  # 19:30 in New York

    opening = HOURS.next_opening(tuesday_evening_ny, NEW_YORK)

    assert opening.astimezone(NEW_YORK) == datetime(2026, 11, 25, 9, 0, tzinfo=NEW_YORK)


def test_at_the_weekend_a_nudge_waits_for_monday() -> None:
    saturday = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)

    opening = HOURS.next_opening(saturday, ZoneInfo("UTC"))

    assert opening == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_four_working_hours_late_in_the_day_carry_over_to_the_next_morning() -> None:
    tuesday_4pm = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)

    later = HOURS.add_working_time(tuesday_4pm, timedelta(hours=4), ZoneInfo("UTC"))

    assert later == datetime(2026, 11, 25, 11, 0, tzinfo=UTC)


def test_always_means_around_the_clock() -> None:
    sunday_night = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
    always = WorkingHours(always=True)

    assert always.next_opening(sunday_night, NEW_YORK) == sunday_night
    assert always.add_working_time(sunday_night, timedelta(hours=4), NEW_YORK) == (
        sunday_night + timedelta(hours=4)
    )


def test_custom_days_and_hours_are_respected() -> None:
    weekend_shift = WorkingHours(days=frozenset({5, 6}), start=time(10), end=time(14))
    friday = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

    assert weekend_shift.next_opening(friday, ZoneInfo("UTC")) == datetime(
        2026, 11, 28, 10, 0, tzinfo=UTC
    )


def test_working_hours_without_a_day_are_refused_rather_than_waiting_forever() -> None:
    with pytest.raises(ValueError, match="at least one day"):
        WorkingHours(days=frozenset())


BERLIN = ZoneInfo("Europe/Berlin")  # clocks change at 01:00 UTC
EVERY_DAY = frozenset(range(7))


def test_working_time_across_a_spring_forward_night_counts_real_hours() -> None:
    night_shift = WorkingHours(days=EVERY_DAY, start=time(0), end=time(8))
    sunday_midnight_berlin = datetime(2027, 3, 27, 23, 0, tzinfo=UTC)  # 00:00 CET

    later = night_shift.add_working_time(sunday_midnight_berlin, timedelta(hours=4), BERLIN)

    assert later == datetime(2027, 3, 28, 3, 0, tzinfo=UTC)  # 05:00 CEST


def test_a_spring_forward_day_has_an_hour_less_of_working_time() -> None:
    early_shift = WorkingHours(days=EVERY_DAY, start=time(1), end=time(5))
    sunday_opening = datetime(2027, 3, 28, 0, 0, tzinfo=UTC)  # 01:00 CET; closes 05:00 CEST

    later = early_shift.add_working_time(sunday_opening, timedelta(hours=4), BERLIN)

    assert later == datetime(2027, 3, 29, 0, 0, tzinfo=UTC)  # Monday 02:00 CEST


def test_a_fall_back_day_has_an_hour_more_of_working_time() -> None:
    early_shift = WorkingHours(days=EVERY_DAY, start=time(1), end=time(5))
    sunday_opening = datetime(2027, 10, 30, 23, 0, tzinfo=UTC)  # 01:00 CEST; closes 05:00 CET

    later = early_shift.add_working_time(sunday_opening, timedelta(hours=4, minutes=30), BERLIN)

    assert later == datetime(2027, 10, 31, 3, 30, tzinfo=UTC)  # 04:30 CET, the same day


def test_an_opening_inside_the_spring_forward_gap_is_the_first_instant_after_it() -> None:
    late_start = WorkingHours(days=EVERY_DAY, start=time(2, 30), end=time(8))
    saturday_evening = datetime(2027, 3, 27, 20, 0, tzinfo=UTC)

    opening = late_start.next_opening(saturday_evening, BERLIN)

    assert opening == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)  # 03:00 CEST


def test_a_closing_inside_the_spring_forward_gap_is_the_first_instant_after_it() -> None:
    night_shift = WorkingHours(days=EVERY_DAY, start=time(0), end=time(2, 30))
    sunday_midnight_ny = datetime(2027, 3, 14, 5, 0, tzinfo=UTC)  # 00:00 EST; closes 03:00 EDT

    later = night_shift.add_working_time(sunday_midnight_ny, timedelta(hours=3), NEW_YORK)

    assert later == datetime(2027, 3, 15, 5, 0, tzinfo=UTC)  # Monday 01:00 EDT


def test_an_ambiguous_opening_is_the_first_occurrence_so_the_repeated_hour_is_open() -> None:
    late_start = WorkingHours(days=EVERY_DAY, start=time(2, 30), end=time(8))
    saturday_evening = datetime(2027, 10, 30, 20, 0, tzinfo=UTC)
    second_0210 = datetime(2027, 10, 31, 1, 10, tzinfo=UTC)  # 02:10 CET, after 02:30 CEST

    assert late_start.next_opening(saturday_evening, BERLIN) == datetime(
        2027, 10, 31, 0, 30, tzinfo=UTC
    )  # 02:30 CEST
    assert late_start.next_opening(second_0210, BERLIN) == second_0210


def test_working_hours_are_described_as_configured() -> None:
    assert WorkingHours().describe() == "Mon-Fri 09:00-18:00"
    assert WorkingHours(days=frozenset({0, 2}), start=time(10), end=time(14)).describe() == (
        "Mon, Wed 10:00-14:00"
    )
    assert (
        WorkingHours(days=frozenset({0, 1, 3, 4, 5})).describe() == "Mon, Tue, Thu-Sat 09:00-18:00"
    )
    assert WorkingHours(days=frozenset(range(7))).describe() == "every day 09:00-18:00"
    assert WorkingHours(always=True).describe() == "around the clock"


def test_the_latest_start_of_an_hour_long_meeting_ends_by_closing_or_there_is_none() -> None:
    monday_9am = datetime(2026, 11, 30, 9, tzinfo=UTC)
    tuesday_3am = datetime(2026, 12, 1, 3, tzinfo=UTC)
    hour = timedelta(hours=1)
    utc = ZoneInfo("UTC")

    latest = HOURS.latest_start(hour, not_before=monday_9am, not_after=tuesday_3am, tz=utc)
    too_late = HOURS.latest_start(
        hour, not_before=datetime(2026, 11, 30, 17, 1, tzinfo=UTC), not_after=tuesday_3am, tz=utc
    )

    assert latest == datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # 17:00 to the 18:00 close
    assert too_late is None


def test_a_week_running_through_sunday_into_monday_is_one_run_from_its_first_day() -> None:
    sunday_to_thursday = WorkingHours(days=frozenset({6, 0, 1, 2, 3}))
    friday_to_monday = WorkingHours(days=frozenset({4, 5, 6, 0}))

    assert sunday_to_thursday.describe() == "Sun-Thu 09:00-18:00"
    assert friday_to_monday.describe() == "Fri-Mon 09:00-18:00"


def test_a_week_with_a_run_through_sunday_is_read_from_that_runs_first_day() -> None:
    assert WorkingHours(days=frozenset({6, 0, 1, 3, 4})).describe() == (
        "Sun-Tue, Thu, Fri 09:00-18:00"
    )
    assert WorkingHours(days=frozenset({6, 0, 2, 3, 4})).describe() == (
        "Sun, Mon, Wed-Fri 09:00-18:00"
    )
