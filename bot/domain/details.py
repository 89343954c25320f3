"""Correcting what a postmortem says about its incident: title, severity, when it was
resolved, whether it was a false alarm.

What is known when a postmortem opens is often wrong or missing: `/postmortem start <title>`
takes "now" as the resolution time, a webhook's title is an alert's name, the severity is
agreed later, and whether it was a false alarm is what the investigation finds out. The
meeting's deadline counts from the resolution, so it must be correctable, in the open.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from bot.domain.errors import IllegalTransition, NotAllowed
from bot.domain.lifecycle import State
from bot.domain.messages import is_slack_user
from bot.domain.postmortem import Postmortem


@dataclass(frozen=True)
class Details:
    title: str
    severity: str | None
    resolved_at: datetime
    false_alarm: bool

    def differing(self, other: Details) -> frozenset[str]:
        """The names of the fields whose values differ between ``self`` and ``other``."""
        return frozenset(
            f.name for f in fields(self) if getattr(self, f.name) != getattr(other, f.name)
        )


def details_of(postmortem: Postmortem) -> Details:
    return Details(
        title=postmortem.title,
        severity=postmortem.severity,
        resolved_at=postmortem.resolved_at,
        false_alarm=postmortem.false_alarm,
    )


def reported_by_tool(
    postmortem: Postmortem, *, resolved_at: datetime, severity: str | None
) -> Details:
    """The details as the incident's tool reports them, for those a person opening the
    postmortem by hand left to assumption: the resolution time `/postmortem start <title>`
    took as the moment it opened (the tool knows when it was resolved), and a severity
    nobody gave. What a person gave or corrected is kept."""
    details = details_of(postmortem)
    if postmortem.resolution_taken_as_opening:
        details = replace(details, resolved_at=resolved_at)
    if postmortem.severity is None and severity:
        details = replace(details, severity=severity)
    return details


def with_details(postmortem: Postmortem, details: Details) -> Postmortem:
    """``postmortem`` as it is with ``details`` stored."""
    return replace(postmortem, **{f.name: getattr(details, f.name) for f in fields(details)})


@dataclass(frozen=True)
class Correction:
    """What a submitted form changes, and what it cannot because someone else changed it
    since the form was opened (the field's name → the value stored now)."""

    before: Details
    after: Details
    conflicts: dict[str, Any]

    @property
    def changed(self) -> frozenset[str]:
        return self.before.differing(self.after)


def correct(stored: Details, *, shown: Details, submitted: Details) -> Correction:
    """Apply the fields the person changed from what their form showed.

    A field they left as shown keeps what is stored (someone else may have corrected it
    meanwhile); a field they changed that someone else also changed to something else is a
    conflict, and then nothing is applied: they decide with the current values in view.
    """
    edited = shown.differing(submitted)
    conflicts = {
        name: getattr(stored, name)
        for name in edited
        if getattr(stored, name) not in (getattr(shown, name), getattr(submitted, name))
    }
    if conflicts:
        return Correction(before=stored, after=stored, conflicts=conflicts)
    after = replace(stored, **{name: getattr(submitted, name) for name in edited})
    return Correction(before=stored, after=after, conflicts={})


def check_can_correct(postmortem: Postmortem) -> None:
    """Details are correctable while the postmortem is open and once it is complete (its
    record should be right); a cancelled one was never reviewed and stays as it was."""
    if postmortem.state is State.CANCELLED:
        raise IllegalTransition(
            f"I can't change postmortem #{postmortem.id}'s details: it was cancelled. "
            "If its incident needs reviewing after all, start a new one with "
            "`/postmortem start`."
        )


class ResolutionNotYours(NotAllowed):
    """This person may correct the other details, not the resolution time."""


def check_can_move_resolution(
    postmortem: Postmortem,
    *,
    actor: str,
    incident_managers: Collection[str],
    also_changed: bool = False,
) -> None:
    """The resolution time sets the meeting's deadline, and with it when the incident
    managers hear that the meeting is overdue: those who answer for the postmortem may
    move it (its owner, whoever opened it, an incident manager), as only they may schedule
    the meeting later than the deadline. ``also_changed``: other details were changed with
    it (they are not saved either)."""
    if actor in (postmortem.owner_id, postmortem.opened_by, *incident_managers):
        return
    rest = " Your other changes are not saved either: save them without it." if also_changed else ""

    def refusal(owner: str, opener: str, hint: str) -> str:
        who = [owner] if postmortem.owner_id else []
        if is_slack_user(postmortem.opened_by):
            who.append(opener)
        who.append("an incident manager")
        listed = ", ".join(who[:-1]) + f" or {who[-1]}" if len(who) > 1 else who[0]
        return (
            f"The resolution time sets the meeting's deadline, so only {listed} can change it."
            + (hint if postmortem.owner_id else "")
            + rest
        )

    raise ResolutionNotYours(
        refusal(
            f"its owner <@{postmortem.owner_id}>",
            f"whoever opened it (<@{postmortem.opened_by}>)",
            "",
        ),
        # The details form's inline error is plain text, where a mention shows as its raw id.
        plain_text=refusal(
            "its owner",
            "whoever opened it",
            f" `/postmortem status #{postmortem.id}` names its owner.",
        ),
    )
