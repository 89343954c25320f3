"""The postmortem meeting: when it may be held, and its iCalendar invite (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

from bot.domain.errors import DomainError, NotAllowed
from bot.domain.lifecycle import Move, State, next_state
from bot.domain.messages import (
    HANDED_OVER_FROM,
    MessageKind,
    PlannedMessage,
    after_working_span,
    human_span,
)
from bot.domain.moments import WriteMoment, in_zone
from bot.domain.policy import MeetingDueNudges, Policy
from bot.domain.postmortem import MEETING_LENGTH, Postmortem

_DEFAULT_GOAL = MeetingDueNudges().deadline
MAX_JUSTIFICATION = 500
WHEN_INVOLVED = ("customer support", "account management", "product management")


class MeetingRefused(DomainError):
    """The meeting time is not acceptable; ``field`` is what the person must change."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def check_meeting_time(
    postmortem: Postmortem,
    policy: Policy,
    *,
    at: datetime,
    justification: str | None,
    now: datetime,
) -> None:
    """Refuse a time in the past, or later than the deadline without a stated reason."""
    if at < now:
        raise MeetingRefused(
            "That time is in the past: pick when the meeting will happen.", field="time"
        )
    deadline = policy.meeting_deadline(postmortem.resolved_at)
    if at > deadline and not (justification or "").strip():
        # Said in the schedule form, as an inline error: plain text, which cannot show each
        # reader their own zone as a message's Slack date does; so the workspace's, named.
        after = in_zone(policy.workspace_timezone)(deadline)
        raise MeetingRefused(
            f"That is after {after} — more than "
            f"{human_span(policy.meeting_due.deadline)} after the incident was resolved. "
            "Hold it while context is fresh, or say why it can't be sooner in the "
            "justification field.",
            field="time",
        )
    if justification is not None and len(justification) > MAX_JUSTIFICATION:
        raise MeetingRefused(
            f"Keep the justification under {MAX_JUSTIFICATION} characters.", field="justification"
        )


def outside_working_hours_note(at: datetime, policy: Policy) -> str | None:
    """A line saying that a meeting at ``at`` is not all within the team's working hours, in
    the workspace's zone: it begins outside them, or runs past that day's closing; None when
    it is (or when they are ``always``).

    Only said, never refused: after a big incident people do meet at odd hours, and a team
    spread over zones may have no better time.
    """
    hours = policy.working_hours
    zone_name = policy.workspace_timezone
    zone = ZoneInfo(zone_name)
    ends = at + MEETING_LENGTH
    if hours.covers(at, ends, zone):
        return None
    if hours.contains(at, zone):
        when = (
            f"it runs until {ends.astimezone(zone):%H:%M} in {zone_name}, past the team's "
            "working hours there"
        )
    else:
        when = (
            f"that is {at.astimezone(zone):%A %H:%M} in {zone_name}, outside the team's "
            "working hours there"
        )
    return f"Note: {when} ({hours.describe()}); the owner and participants may not be there."


# A suggested time closer than this is no suggestion: it will have passed before the form
# is submitted.
_LEAD_TIME = timedelta(hours=1)


def suggested_meeting_time(postmortem: Postmortem, policy: Policy, now: datetime) -> datetime:
    """What the schedule form pre-fills: never a time that has passed.

    The meeting already on the calendar, if it is still ahead. Else a working day from now,
    on the hour, in the workspace's working hours; but when the deadline comes sooner (and
    is not about to pass), the latest time by it that a meeting fits in working hours: the
    deadline itself if it does, else the last whole hour that does. Only when no such time
    is left, the deadline all the same (a reason is then not needed; the team may not be at
    work, which the announcement says).
    """
    if postmortem.meeting_at is not None and postmortem.meeting_at >= now + _LEAD_TIME:
        return postmortem.meeting_at
    zone = ZoneInfo(policy.workspace_timezone)
    later = after_working_span(policy, now, timedelta(days=1))
    on_the_hour = later.replace(minute=0, second=0, microsecond=0)
    if on_the_hour < later:
        on_the_hour += timedelta(hours=1)
    tomorrow = policy.working_hours.next_opening(on_the_hour, zone)
    deadline = policy.meeting_deadline(postmortem.resolved_at)
    if deadline < now + _LEAD_TIME or tomorrow <= deadline:
        return tomorrow
    in_hours = policy.working_hours.latest_start(
        MEETING_LENGTH, not_before=now + _LEAD_TIME, not_after=deadline, tz=zone
    )
    return in_hours or deadline


@dataclass(frozen=True)
class Attendee:
    """Someone invited: a Slack user, with their name and e-mail when Slack knows them."""

    slack_user_id: str
    role: str  # "owner", "incident manager", "participant"
    name: str | None = None
    email: str | None = None

    def address(self) -> str:
        if self.email:
            return f"mailto:{self.email}"
        return f"urn:slack:user:{self.slack_user_id}"


def invite_attendees(postmortem: Postmortem, policy: Policy) -> list[Attendee]:
    """The owner, the incident manager(s) and the chosen participants, each once."""
    people: list[Attendee] = []
    seen: set[str] = set()

    def add(user_id: str | None, role: str) -> None:
        if user_id and user_id not in seen:
            seen.add(user_id)
            people.append(Attendee(user_id, role))

    add(postmortem.owner_id, "owner")
    for manager in policy.incident_managers:
        add(manager, "incident manager")
    for user_id in postmortem.meeting_participants:
        add(user_id, "participant")
    return people


def invite_description(
    postmortem: Postmortem,
    attendees: Sequence[Attendee],
    *,
    goal: timedelta = _DEFAULT_GOAL,
) -> str:
    """The invite's text; ``goal`` is the policy's meeting deadline, counted from resolution."""

    def label(a: Attendee) -> str:
        return a.name or a.slack_user_id

    lines = [
        f"Blameless postmortem meeting for: {postmortem.title} (postmortem #{postmortem.id}).",
        "",
        "Who should be there:",
    ]
    for role in ("owner", "incident manager", "participant"):
        names = [label(a) for a in attendees if a.role == role]
        heading = {"owner": "Owner", "incident manager": "Incident manager(s)"}.get(
            role, "Responders and participants"
        )
        lines.append(f"- {heading}: {', '.join(names) if names else 'none named yet'}")
    lines.append(f"- When involved: {', '.join(WHEN_INVOLVED)}.")
    lines += [
        "",
        "Agenda: summary, impact, timeline, contributing factors (never a single root cause), "
        "what went well, how the incident response itself worked, and action items with "
        "owners and due dates.",
    ]
    if postmortem.meeting_justification:
        lines += [
            "",
            f"Held later than {human_span(goal)} after resolution because: "
            f"{postmortem.meeting_justification}",
        ]
    return "\n".join(lines)


# On a meeting invite's message: its SEQUENCE; everyone it names (INVITED: whose calendars
# hold it once it is posted, whoever owns the postmortem later); and what the channel last
# heard of the meeting (its time, whom that invite named), to say what changed.
SEQUENCE = "sequence"
MOVED_FROM = "moved_from"
WAS_INVITED = "was_invited"


def invite_sequence(scheduled_at: Sequence[datetime]) -> int:
    """The SEQUENCE of the invite sent after the meeting was scheduled at each of these
    moments (oldest first, this one last).

    A calendar takes an invite with a known UID as an update only if its SEQUENCE is greater
    than the last one's (RFC 5545 §3.8.7.4). Each schedule change counts one more, so two
    changes within the same second still grow it; and it is never below the minutes since
    the epoch at the change, which is what earlier versions sent, so that a meeting they
    invited to still moves when it is rescheduled now.
    """
    sequence = -1
    for moment in scheduled_at:
        sequence = max(sequence + 1, int(moment.timestamp()) // 60)
    return sequence


def invited_ids(postmortem: Postmortem, policy: Policy) -> str:
    """Everyone the invite for ``postmortem``'s meeting names, as params carry them."""
    return " ".join(a.slack_user_id for a in invite_attendees(postmortem, policy))


def _heard_invited(before: Postmortem, policy: Policy, heard: Mapping[str, Any] | None) -> str:
    """Whom the invite the channel last heard named: as it recorded them, or (an invite from
    before it recorded them) as the postmortem names them now."""
    if heard is not None and INVITED in heard:
        return str(heard[INVITED])
    return invited_ids(before, policy)


def invite_params(
    before: Postmortem,
    after: Postmortem,
    policy: Policy,
    *,
    sequence: int,
    unsent: Mapping[str, Any] | None,
    heard: Mapping[str, Any] | None,
) -> dict[str, str]:
    """The params of the invite for a meeting just (re)scheduled from ``before`` to
    ``after``.

    ``unsent``: those of an invite still waiting to be posted, which this one replaces. The
    channel never heard of it, so what it last heard is what that one was to change.
    ``heard``: those of the last invite that reached Slack (or is reaching it).
    """
    params = {SEQUENCE: str(sequence), INVITED: invited_ids(after, policy)}
    if unsent is not None:
        params.update({k: str(unsent[k]) for k in (MOVED_FROM, WAS_INVITED) if k in unsent})
    elif before.meeting_at is not None:
        params[MOVED_FROM] = before.meeting_at.isoformat()
        params[WAS_INVITED] = _heard_invited(before, policy, heard)
    return params


# On a cancellation's message: the meeting it calls off, as its invite put it on calendars
# (its time, and the people the invite named).
CALLED_OFF = "meeting_called_off"
INVITED = "invited"


def meeting_called_off(
    postmortem: Postmortem,
    policy: Policy,
    *,
    now: datetime,
    unsent: Mapping[str, Any] | None,
    heard: Mapping[str, Any] | None,
) -> dict[str, str]:
    """The params that tell whom a cancellation of ``postmortem`` (as it was before it)
    must ask to delete the meeting from their calendars: none unless an invite was posted
    for a meeting still ahead.

    ``unsent``: the params of an invite still waiting to be posted, which will not be now.
    Calendars hold what the channel last heard, which that invite was to change.
    ``heard``: the params of the last invite that reached Slack (or is reaching it); none
    posted, no calendar holds the meeting.
    """
    if postmortem.state is not State.MEETING_SCHEDULED or heard is None:
        return {}
    at, invited = postmortem.meeting_at, _heard_invited(postmortem, policy, heard)
    if unsent is not None:
        if MOVED_FROM not in unsent:
            return {}
        at = datetime.fromisoformat(str(unsent[MOVED_FROM]))
        invited = str(unsent.get(WAS_INVITED) or invited)
    if at is None or at <= now:  # under way or past: no event left to take off a calendar
        return {}
    return {CALLED_OFF: at.isoformat(), INVITED: invited}


# On the update of the "was it held?" questions once that is settled (or handed over): how
# (a Settled), who settled it, the meeting's new time when it moved, the new owner (and the
# one before) when handed over, and which questions (their outbox ids, space-separated).
SETTLED = "settled"
NEW_TIME = "meeting_at"
NEW_OWNER = "to"
QUESTIONS = "questions"


class Settled(StrEnum):
    MOVED = "moved"
    HELD = "held"
    CANCELLED = "cancelled"
    # Not settled, but asked of someone else now: the question stays open, with its buttons.
    HANDED_OVER = "handed_over"


# Nothing changes these once they are said: the meeting took place, or there is none to
# hold. A question told its meeting moved (or handed over) is told again what happens next.
_FINAL = frozenset({Settled.HELD, Settled.CANCELLED})
# Still asking whether the meeting took place: what a hand-over re-addresses.
_OPEN = frozenset({None, Settled.HANDED_OVER})


def read_questions(params: Mapping[str, Any]) -> list[int]:
    """The questions an update of them names (nothing from anything else)."""
    words = str(params.get(QUESTIONS) or "").split()
    return [int(word) for word in words if word.isascii() and word.isdigit()]


def _last_said(updates: Iterable[Mapping[str, Any]]) -> dict[int, Settled | None]:
    """What the last of ``updates`` (their params, oldest first) naming each question said."""
    known = {how.value: how for how in Settled}
    said: dict[int, Settled | None] = {}
    for params in updates:
        how = known.get(str(params.get(SETTLED)))
        for number in read_questions(params):
            said[number] = how
    return said


def plan_held_question_settled(
    how: Settled,
    *,
    asked: Sequence[int],
    settled_before: Iterable[Mapping[str, Any]],
    by: str,
    now: datetime,
    new_time: datetime | None = None,
    handed_over_from: str | None = None,
    new_owner: str | None = None,
) -> list[PlannedMessage]:
    """The "was it held?" questions Slack took (or is taking), ``asked``, updated in place
    to say how it was settled: their Mark meeting held button would invite a click that
    can only be refused or repeat what was done. Handed over, they ask ``new_owner``
    instead, keeping their buttons: a click from the owner before would be refused.

    Not those an earlier update (``settled_before``: its params, oldest first) said were
    held or cancelled, which stays so; one told its meeting moved is told again (moved
    once more, held, cancelled), but not re-addressed by a hand-over: it asks nobody
    anything until it is asked again, after the new time. Nothing when no question is
    left: one still waiting to be sent is cancelled with its reason, and never shows.
    """
    last = _last_said(settled_before)
    if how is Settled.HANDED_OVER:
        questions = [number for number in asked if last.get(number) in _OPEN]
    else:
        questions = [number for number in asked if last.get(number) not in _FINAL]
    if not questions:
        return []
    params = {SETTLED: how.value, "by": by, QUESTIONS: " ".join(map(str, questions))}
    if new_time is not None:
        params[NEW_TIME] = new_time.isoformat()
    if new_owner is not None:
        params[NEW_OWNER] = new_owner
    if handed_over_from is not None:
        params[HANDED_OVER_FROM] = handed_over_from
    return [PlannedMessage(MessageKind.HELD_QUESTION_SETTLED, now, params=params)]


def still_to_update(update: Mapping[str, Any], later: Iterable[Mapping[str, Any]]) -> list[int]:
    """The questions ``update`` names that no ``later`` update (their params) names: a later
    one says how each stands now, and made after it, this one would take that back."""
    overtaken = {number for params in later for number in read_questions(params)}
    return [number for number in read_questions(update) if number not in overtaken]


def meeting_invite_ics(
    postmortem: Postmortem,
    attendees: Sequence[Attendee],
    *,
    now: datetime,
    sequence: int,
    goal: timedelta = _DEFAULT_GOAL,
) -> bytes:
    """An iCalendar (RFC 5545) REQUEST for the meeting, one VEVENT, UTC times."""
    assert postmortem.meeting_at is not None
    calendar = Calendar()
    calendar.add("prodid", "-//postmortem-bot//meeting invite//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = Event()
    event.add("uid", f"postmortem-{postmortem.id}@postmortem-bot")
    event.add("dtstamp", now)
    event.add("dtstart", postmortem.meeting_at)
    event.add("dtend", postmortem.meeting_ends_at)
    event.add("summary", f"Postmortem: {postmortem.title}")
    event.add("description", invite_description(postmortem, attendees, goal=goal))
    # Rescheduling sends the same UID with a higher sequence, so calendars update in place.
    event.add("sequence", sequence)
    for person in attendees:
        address = vCalAddress(person.address())
        address.params["cn"] = vText(person.name or person.slack_user_id)
        address.params["role"] = vText("CHAIR" if person.role == "owner" else "REQ-PARTICIPANT")
        event.add("attendee", address, encode=False)
        if person.role == "owner":
            organizer = vCalAddress(person.address())
            organizer.params["cn"] = vText(person.name or person.slack_user_id)
            event.add("organizer", organizer, encode=False)
    calendar.add_component(event)
    return bytes(calendar.to_ical())


_MOVE_WORDING = {
    Move.SCHEDULE_MEETING: "schedule the meeting for postmortem #{id}",
    Move.MARK_MEETING_HELD: "mark the meeting for postmortem #{id} held",
    Move.COMPLETE: "complete postmortem #{id}",
}


def check_can_steer(postmortem: Postmortem, policy: Policy, *, actor: str, move: Move) -> State:
    """The state after ``move``; only the owner or an incident manager moves the lifecycle on."""
    state = next_state(postmortem.state, move, postmortem.id)
    if actor != postmortem.owner_id and actor not in policy.incident_managers:
        managers = " or an incident manager" if policy.incident_managers else ""
        doing = _MOVE_WORDING.get(move, move.value.replace("_", " ") + " postmortem #{id}")
        ask = (
            f"can {doing.format(id=postmortem.id)}. Ask them to, or to hand the postmortem "
            f"to you: they run `/postmortem owner #{postmortem.id} @your-name`."
        )
        raise NotAllowed(
            f"Only the owner <@{postmortem.owner_id}>{managers} {ask}",
            # A form's inline error (the schedule form): no mention, where to see who.
            plain_text=f"Only its owner (`/postmortem status #{postmortem.id}` names them)"
            f"{managers} {ask}",
        )
    return state


def check_meeting_took_place(
    postmortem: Postmortem,
    *,
    now: datetime,
    write_moment: WriteMoment,
    early: bool = False,
    unscheduled: bool = False,
) -> None:
    """A meeting can only be marked held once its time has come: a postmortem is completed
    after a review that happened, not one that is still on the calendar.

    ``early``: it took place before its scheduled time. ``unscheduled``: it took place
    without being scheduled here. Either is said on purpose, so a `held` typed too soon
    does not silence the meeting's reminders. ``write_moment`` writes the meeting's time in
    the refusal (a message: a Slack date).
    """
    pid = postmortem.id
    if postmortem.meeting_at is None:
        if not (early or unscheduled):
            raise NotAllowed(
                f"No meeting is on the calendar for postmortem #{pid} yet: schedule it with "
                f"`/postmortem schedule #{pid}`. If it already took place without being "
                f"scheduled here, record it with `/postmortem held #{pid} unscheduled`."
            )
        return
    if now < postmortem.meeting_at and not early:
        raise NotAllowed(
            f"The meeting for postmortem #{pid} is on the calendar for "
            f"{write_moment(postmortem.meeting_at)}: mark it held once it has taken "
            "place. If it already took place, earlier than planned, record it with "
            f"`/postmortem held #{pid} early`; if it moved, set the new time with "
            f"`/postmortem schedule #{pid}`."
        )


def when_it_took_place(postmortem: Postmortem, *, now: datetime) -> datetime:
    """When the meeting marked held ``now`` took place, as the record keeps it: at its
    scheduled time once that has come (marked held days later, it was still on time), else
    now (it took place earlier than planned, or without being scheduled here: when exactly,
    nobody said)."""
    scheduled = postmortem.meeting_at
    return scheduled if scheduled is not None and scheduled <= now else now


_ESCALATIONS = frozenset({MessageKind.ESCALATE_NO_OWNER, MessageKind.ESCALATE_OVERDUE})


def check_can_snooze(
    kind: MessageKind, postmortem: Postmortem, policy: Policy, *, actor: str
) -> None:
    """Who may put a nudge off for a day: a bystander must not silence someone else's.

    An escalation is the incident managers' to snooze (when there are any); once there is an
    owner, the owner's reminders are theirs or an incident manager's. Before that, anyone in
    the channel may: the no-owner nudge is everyone's.
    """
    managers = policy.incident_managers
    if actor in managers:
        return
    if kind in _ESCALATIONS and managers:
        raise NotAllowed("Only an incident manager can snooze an escalation.")
    if postmortem.owner_id is not None and actor != postmortem.owner_id:
        also = " or an incident manager" if managers else ""
        raise NotAllowed(
            f"Only the owner <@{postmortem.owner_id}>{also} can snooze the reminders of "
            f"postmortem #{postmortem.id}."
        )
