"""The team's postmortem policy: nudge timings, working hours, routing.

Defaults are the guidance's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
# Longer than this is surely a typo (and timedelta overflows past ~2.7 million years).
MAX_DURATION = timedelta(days=366)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_duration(text: str) -> timedelta:
    """``90s``, ``15m``, ``4h``, ``7d``, ``1w`` → timedelta; ValueError names what is wrong."""
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a duration: write a number and a unit, like 90s, 4h, 7d")
    amount, unit = match.groups()
    try:
        duration = timedelta(**{_UNITS[unit]: int(amount)})
    except OverflowError:
        duration = MAX_DURATION * 2
    if duration > MAX_DURATION:
        raise ValueError(f"{text!r} is longer than a year: write at most 366d")
    return duration


@dataclass(frozen=True)
class WorkingHours:
    """When a person may be nudged, in their own time zone. ``always`` means 24/7."""

    days: frozenset[int] = frozenset(range(5))  # Monday=0 … Friday=4
    start: time = time(9, 0)
    end: time = time(18, 0)
    always: bool = False

    def __post_init__(self) -> None:
        # With no working day, "the next opening" never comes: nudges would wait forever.
        if not self.always and not self.days:
            raise ValueError("working hours need at least one day (or always)")

    def contains(self, moment: datetime, tz: ZoneInfo) -> bool:
        if self.always:
            return True
        day = moment.astimezone(tz).date()
        if day.weekday() not in self.days:
            return False
        # Compared as instants, not clock readings, so that the day opens and closes exactly
        # when next_opening and add_working_time say it does, also on clock-change days.
        now = moment.astimezone(UTC)
        return self._instant(day, self.start, tz) <= now < self._instant(day, self.end, tz)

    def covers(self, start: datetime, end: datetime, tz: ZoneInfo) -> bool:
        """Whether all of ``start`` to ``end`` lies within working hours: it begins inside
        them and is over by that day's closing."""
        if self.always:
            return True
        if not self.contains(start, tz):
            return False
        return end <= self._instant(start.astimezone(tz).date(), self.end, tz)

    def describe(self) -> str:
        """As configured, in plain words: ``Mon-Fri 09:00-18:00``, ``every day 00:00-08:00``,
        ``Mon, Wed 10:00-14:00``, ``Sun-Thu 08:00-17:00``; ``around the clock`` for ``always``."""
        if self.always:
            return "around the clock"
        return f"{_describe_days(self.days)} {self.start:%H:%M}-{self.end:%H:%M}"

    def next_opening(self, moment: datetime, tz: ZoneInfo) -> datetime:
        """``moment`` itself when inside working hours, else the next time they begin."""
        if self.contains(moment, tz):
            return moment
        today = moment.astimezone(tz).date()
        for offset in range(8):
            day = today + timedelta(days=offset)
            opening = self._instant(day, self.start, tz)
            if day.weekday() in self.days and opening > moment:
                return opening.astimezone(moment.tzinfo)
        return moment  # unreachable with at least one working day

    def latest_start(
        self, length: timedelta, *, not_before: datetime, not_after: datetime, tz: ZoneInfo
    ) -> datetime | None:
        """The latest time from ``not_before`` to ``not_after`` at which something ``length``
        long begins and ends within working hours: ``not_after`` itself when it fits, else
        the latest whole hour before it on the clocks in ``tz``; None when nothing fits."""
        if not_after < not_before:
            return None
        if self._fits(not_after, length, tz):
            return not_after
        local = not_after.astimezone(tz)
        # Stepped back in UTC, so each real hour is tried once (a repeated or skipped clock
        # hour too); the clocks' whole hours stay whole, as offsets change by whole hours.
        candidate = not_after.astimezone(UTC) - timedelta(
            minutes=local.minute, seconds=local.second, microseconds=local.microsecond
        )
        if candidate == not_after:
            candidate -= timedelta(hours=1)
        while candidate >= not_before:
            if self._fits(candidate, length, tz):
                return candidate.astimezone(not_after.tzinfo)
            candidate -= timedelta(hours=1)
        return None

    def _fits(self, start: datetime, length: timedelta, tz: ZoneInfo) -> bool:
        """Whether something ``length`` long, from ``start``, is all within working hours (it
        ends as they close at the latest)."""
        last_moment = start + length - timedelta(microseconds=1)
        return self.contains(start, tz) and self.contains(last_moment, tz)

    def add_working_time(self, moment: datetime, span: timedelta, tz: ZoneInfo) -> datetime:
        """``span`` of working time after ``moment`` (e.g. "4 working hours later")."""
        if self.always:
            return moment + span
        remaining = span
        # In UTC: arithmetic on datetimes sharing a zone is done on the clock face, which
        # would gain or lose an hour over a clock change.
        current = self.next_opening(moment, tz).astimezone(UTC)
        while True:
            closing = self._instant(current.astimezone(tz).date(), self.end, tz)
            available = closing - current
            if remaining <= available:
                return (current + remaining).astimezone(moment.tzinfo)
            remaining -= available
            current = self.next_opening(closing, tz)

    @staticmethod
    def _instant(day: date, at: time, tz: ZoneInfo) -> datetime:
        """The real instant (in UTC) at which clocks in ``tz`` read ``at`` on ``day``.

        A reading repeated when clocks go back is its first occurrence (fold=0). A reading
        skipped when they go forward is the first instant after the gap: the clocks have
        passed ``at`` from then on, which is also when ``contains`` starts saying so.
        """
        wall = datetime.combine(day, at)
        instant = wall.replace(tzinfo=tz).astimezone(UTC)
        if instant.astimezone(tz).replace(tzinfo=None) == wall:
            return instant
        # Skipped: read on the old offset it lands after the jump (``instant``), read on the new
        # one before it; bisect between the two down to the microsecond of the jump itself.
        before = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
        old_offset = before.astimezone(tz).utcoffset()
        while instant - before > timedelta(microseconds=1):
            middle = before + (instant - before) / 2
            if middle.astimezone(tz).utcoffset() == old_offset:
                before = middle
            else:
                instant = middle
        return instant


def _describe_days(days: frozenset[int]) -> str:
    """Runs of three or more days as a span (``Mon-Fri``), the others listed. A run through
    Sunday into Monday is one run, from its first day (``Sun-Thu``, ``Fri-Mon``), and the
    week is read from there: that team's week begins on it."""
    if len(days) == 7:
        return "every day"
    first = 0
    if 0 in days and 6 in days:
        first = 6
        while (first - 1) % 7 in days:  # ends: not every day is a working day
            first = (first - 1) % 7
    runs: list[list[int]] = []
    in_a_run = False
    for day in ((first + offset) % 7 for offset in range(7)):
        if day in days:
            if in_a_run:
                runs[-1].append(day)
            else:
                runs.append([day])
        in_a_run = day in days
    names = [WEEKDAYS[d].capitalize() for d in range(7)]
    parts: list[str] = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{names[run[0]]}-{names[run[-1]]}")
        else:
            parts.extend(names[d] for d in run)
    return ", ".join(parts)


@dataclass(frozen=True)
class NoOwnerNudges:
    first: timedelta = timedelta(hours=1)
    repeat: timedelta = timedelta(hours=4)
    escalate: timedelta = timedelta(hours=24)


@dataclass(frozen=True)
class NoMeetingNudges:
    first: timedelta = timedelta(days=1)


@dataclass(frozen=True)
class NoDraftNudges:
    """An owner who has not started the document is reminded, ``first`` of working time
    (whole days count as working days) after they took the postmortem on: it is written
    while the responders still remember, and the meeting discusses a draft."""

    first: timedelta = timedelta(days=2)


@dataclass(frozen=True)
class MeetingDueNudges:
    deadline: timedelta = timedelta(days=7)
    remind: tuple[timedelta, ...] = (timedelta(days=3), timedelta(days=5))


@dataclass(frozen=True)
class NotDoneNudges:
    """After the meeting was held: remind the owner to finish the document and close it.

    ``first`` and ``repeat`` are working time (whole days count as working days), from the
    moment the meeting was marked held; the reminders stop at `/postmortem done`.
    """

    first: timedelta = timedelta(days=2)
    repeat: timedelta = timedelta(days=3)


@dataclass(frozen=True)
class Route:
    channel: str
    pagerduty_service: str | None = None
    pagerduty_team: str | None = None

    def matches(self, *, service_id: str | None, team_ids: tuple[str, ...]) -> bool:
        if self.pagerduty_service is not None:
            return self.pagerduty_service == service_id
        if self.pagerduty_team is not None:
            return self.pagerduty_team in team_ids
        return False


@dataclass(frozen=True)
class Policy:
    working_hours: WorkingHours = field(default_factory=WorkingHours)
    workspace_timezone: str = "UTC"
    incident_managers: tuple[str, ...] = ()
    no_owner: NoOwnerNudges = field(default_factory=NoOwnerNudges)
    no_meeting: NoMeetingNudges = field(default_factory=NoMeetingNudges)
    no_draft: NoDraftNudges = field(default_factory=NoDraftNudges)
    meeting_due: MeetingDueNudges = field(default_factory=MeetingDueNudges)
    not_done: NotDoneNudges = field(default_factory=NotDoneNudges)
    routes: tuple[Route, ...] = ()

    def route(self, *, service_id: str | None, team_ids: tuple[str, ...] = ()) -> str | None:
        """The channel of the first matching route, or None."""
        for route in self.routes:
            if route.matches(service_id=service_id, team_ids=team_ids):
                return route.channel
        return None

    def meeting_deadline(self, resolved_at: datetime) -> datetime:
        return resolved_at + self.meeting_due.deadline

    def person_zone(self, zone_name: str | None) -> ZoneInfo:
        """A person's time zone by the name Slack gives for it, else the workspace's (none
        given, or a name that is no zone: "America" is a folder)."""
        try:
            return ZoneInfo(zone_name or self.workspace_timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            return ZoneInfo(self.workspace_timezone)
