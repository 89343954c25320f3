"""The team's postmortem policy: nudge timings, working hours, routing.

Defaults are the guidance's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

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
        local = moment.astimezone(tz)
        return local.weekday() in self.days and self.start <= local.time() < self.end

    def next_opening(self, moment: datetime, tz: ZoneInfo) -> datetime:
        """``moment`` itself when inside working hours, else the next time they begin."""
        if self.contains(moment, tz):
            return moment
        local = moment.astimezone(tz)
        for offset in range(8):
            day = (local + timedelta(days=offset)).date()
            opening = datetime.combine(day, self.start, tzinfo=tz)
            if day.weekday() in self.days and opening > local:
                return opening.astimezone(moment.tzinfo)
        return moment  # unreachable with at least one working day

    def add_working_time(self, moment: datetime, span: timedelta, tz: ZoneInfo) -> datetime:
        """``span`` of working time after ``moment`` (e.g. "4 working hours later")."""
        if self.always:
            return moment + span
        remaining = span
        current = self.next_opening(moment, tz)
        while True:
            local = current.astimezone(tz)
            closing = datetime.combine(local.date(), self.end, tzinfo=tz)
            available = closing - local
            if remaining <= available:
                return (local + remaining).astimezone(moment.tzinfo)
            remaining -= available
            current = self.next_opening(closing.astimezone(moment.tzinfo), tz)


@dataclass(frozen=True)
class NoOwnerNudges:
    first: timedelta = timedelta(hours=1)
    repeat: timedelta = timedelta(hours=4)
    escalate: timedelta = timedelta(hours=24)


@dataclass(frozen=True)
class NoMeetingNudges:
    first: timedelta = timedelta(days=1)


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
