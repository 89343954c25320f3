"""Every channel's open postmortems at once: who may see them, and which need help first."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime

from bot.domain.errors import NotAllowed
from bot.domain.lifecycle import State
from bot.domain.messages import UNMARKED_MEETING_GRACE
from bot.domain.policy import Policy
from bot.domain.postmortem import Postmortem

# Still to meet: a postmortem in these states has not had its meeting.
_BEFORE_THE_MEETING = frozenset({State.AWAITING_OWNER, State.DRAFTING, State.MEETING_SCHEDULED})


def check_can_see_everywhere(actor: str, incident_managers: Iterable[str]) -> None:
    """Only the incident managers see every channel's postmortems: the list names incidents
    of private channels that others may not be in."""
    managers = tuple(incident_managers)
    if actor in managers:
        return
    if not managers:
        raise NotAllowed(
            "`/postmortem status all` is for the incident managers, and the policy file names "
            "none yet (`incident_managers: [U012ABC]`). `/postmortem status` shows this "
            "channel's postmortems."
        )
    raise NotAllowed(
        "`/postmortem status all` is for the incident managers: it lists incidents of channels "
        "you may not be in. `/postmortem status` shows this channel's postmortems."
    )


def sees_unrouted(actor: str | None, incident_managers: Iterable[str]) -> bool:
    """Who sees, in a channel's `status`, the titles of the postmortems without a channel:
    their incidents may be private ones, so the incident managers, as for `status all`; but
    everyone while the policy names none, or nobody could find them to move them."""
    managers = tuple(incident_managers)
    return not managers or actor in managers


def check_can_move_unrouted(actor: str, incident_managers: Iterable[str]) -> None:
    """Bringing a postmortem without a channel into one posts its title, people and prompt
    there: with incident managers named, theirs to do (an incident of a private channel must
    not be pulled into a public one by whoever guesses its number)."""
    managers = tuple(incident_managers)
    if managers and actor not in managers:
        raise NotAllowed(
            "Only an incident manager ("
            + ", ".join(f"<@{m}>" for m in managers)
            + ") can bring a postmortem without a channel into one: its incident may be a "
            "private channel's. Ask one of them to run this here."
        )


def meeting_overdue(postmortem: Postmortem, policy: Policy, now: datetime) -> bool:
    """Its meeting has not been held and is late, as the overdue escalation counts it: past
    the deadline with none on the calendar; or, on the calendar (a later time accepted with
    a reason included), still not marked held a day after its time."""
    if postmortem.state not in _BEFORE_THE_MEETING:
        return False
    if now < policy.meeting_deadline(postmortem.resolved_at):
        return False
    if postmortem.state is State.MEETING_SCHEDULED and postmortem.meeting_at is not None:
        return now >= postmortem.meeting_at + UNMARKED_MEETING_GRACE
    return True


def by_urgency(
    postmortems: Sequence[Postmortem],
    policy: Policy,
    now: datetime,
    *,
    refused: Collection[int] = (),
) -> list[Postmortem]:
    """Those with messages Slack refused for good (``refused``, their ids) first: nobody
    may even have been asked to own one, and nothing moves it until someone steps in. Then
    overdue meetings, then the rest; within each, the earliest deadline first."""
    return sorted(
        postmortems,
        key=lambda p: (
            p.id not in refused,
            not meeting_overdue(p, policy, now),
            p.resolved_at,
            p.id,
        ),
    )
