"""A postmortem as the rules see it, and the decisions made about it."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.errors import NotAllowed
from bot.domain.lifecycle import Move, State, next_state
from bot.domain.owners import Candidate, Criterion, Person, rank_candidates

PAGERDUTY = "pagerduty"

# A PagerDuty incident's web address: https://<account>.pagerduty.com/incidents/<id>
# (EU accounts: <account>.eu.pagerduty.com). The id is what its webhooks carry, in capitals.
PAGERDUTY_INCIDENT_URL = re.compile(
    r"https?://[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.pagerduty\.com/incidents/"
    r"(?P<id>[A-Za-z0-9]{1,40})(?![A-Za-z0-9])[^\s<>|]*",
    re.IGNORECASE,
)


def incident_key(source: str, incident_id: str) -> str:
    """The key of an incident's postmortem: one per incident, however it was opened."""
    return f"{source}:{incident_id}"


def started_by_hand_key(channel_id: str, unique: str, pagerduty_incident: str | None) -> str:
    """The key of a postmortem a person opens: its PagerDuty incident's when they link one
    (so the webhook finds it), else one of its own (``unique``: the command's or form's id)."""
    if pagerduty_incident:
        return incident_key(PAGERDUTY, pagerduty_incident)
    return f"slack:{channel_id}:{unique}"


def pagerduty_incident_id(link: str) -> str | None:
    """The incident a PagerDuty link names, if ``link`` is one (and nothing else)."""
    match = PAGERDUTY_INCIDENT_URL.fullmatch(link.strip())
    return match.group("id").upper() if match else None


# How long the postmortem meeting is booked for (the invite's end; "was it held?" after it).
MEETING_LENGTH = timedelta(hours=1)


# A title as long as its column: what a person types is held to what a tool's webhook may
# send (a long alert name), so `details` can show any title and change it to any other.
MAX_TITLE_LENGTH = 300


@dataclass(frozen=True)
class IncidentReport:
    """What is known about a resolved incident when its postmortem opens."""

    key: str
    title: str
    source: str
    resolved_at: datetime
    severity: str | None = None
    false_alarm: bool = False
    service: str | None = None
    evidence: Mapping[Criterion, tuple[Person, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    # `/postmortem start <title>` asks nobody when it was resolved: the postmortem stores the
    # moment it opened as its resolution time (``resolved_at`` is then ignored).
    resolved_when_opened: bool = False

    def candidates(self) -> list[Candidate]:
        return rank_candidates(self.evidence)


@dataclass(frozen=True)
class Postmortem:
    id: int
    incident_key: str
    title: str
    source: str
    channel_id: str | None
    state: State
    resolved_at: datetime
    opened_at: datetime
    opened_by: str
    severity: str | None = None
    false_alarm: bool = False
    service: str | None = None
    candidates: tuple[Candidate, ...] = ()
    notes: tuple[str, ...] = ()
    owner_id: str | None = None
    owner_assigned_by: str | None = None
    owner_assigned_at: datetime | None = None
    prompt_ts: str | None = None
    meeting_at: datetime | None = None
    meeting_justification: str | None = None
    meeting_participants: tuple[str, ...] = ()
    meeting_held_at: datetime | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None

    @property
    def resolution_taken_as_opening(self) -> bool:
        """Its resolution time is only the moment it opened (`/postmortem start <title>`
        took it), not one anybody gave or corrected."""
        return self.resolved_at == self.opened_at

    @property
    def meeting_ends_at(self) -> datetime | None:
        return None if self.meeting_at is None else self.meeting_at + MEETING_LENGTH


@dataclass(frozen=True)
class HandOver:
    """Ownership passed from one person to another (``/postmortem owner``), as the audit
    trail keeps it."""

    at: datetime
    from_owner: str
    to_owner: str


def owner_at(
    postmortem: Postmortem, hand_overs: Sequence[HandOver], moment: datetime
) -> str | None:
    """Who owned ``postmortem`` at ``moment``: whoever the first hand-over from then on took
    it from, else its owner now. A hand-over at that very moment comes after it: the owner
    who ran the meeting handed it over once it was held."""
    for hand_over in sorted(hand_overs, key=lambda h: h.at):
        if hand_over.at >= moment:
            return hand_over.from_owner
    return postmortem.owner_id


def check_can_claim(postmortem: Postmortem) -> State:
    """The state after a first owner is chosen (refuses once someone owns it)."""
    return next_state(postmortem.state, Move.ASSIGN_OWNER, postmortem.id)


def hands_it_over(postmortem: Postmortem, actor: str, incident_managers: Collection[str]) -> bool:
    """Whether ``actor`` is one of the people who hand ``postmortem`` over: its owner, whoever
    assigned them, or an incident manager (while it has no owner, only an incident manager)."""
    deciders = {postmortem.owner_id, postmortem.owner_assigned_by, *incident_managers}
    return actor in deciders - {None}


def check_can_hand_over(
    postmortem: Postmortem,
    *,
    actor: str,
    new_owner: str,
    incident_managers: Collection[str] = (),
) -> State:
    """The current owner, whoever assigned them, or an incident manager hands it over: while
    it is open, and once it is complete (what its artifact lacks is still followed up with
    its owner), never once it was cancelled.

    Incident managers may because the other two can be gone: an owner who left the company
    (a deactivated account) would otherwise hold the postmortem for good.
    """
    state = next_state(postmortem.state, Move.HAND_OVER, postmortem.id)
    if not hands_it_over(postmortem, actor, incident_managers):
        managers = (
            "an incident manager (" + ", ".join(f"<@{m}>" for m in incident_managers) + ")"
            if incident_managers
            else "an incident manager (none is set: `incident_managers` in the policy file)"
        )
        raise NotAllowed(
            f"Only the current owner <@{postmortem.owner_id}>, whoever assigned them "
            f"(<@{postmortem.owner_assigned_by}>) or {managers} can hand this postmortem over."
        )
    if new_owner == postmortem.owner_id:
        raise NotAllowed(f"<@{new_owner}> already owns this postmortem.")
    return state
