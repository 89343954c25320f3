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
