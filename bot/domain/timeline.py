"""A first draft of the document's timeline, from what the incident's tools recorded.

Writing the timeline by hand from memory and screenshots is the slowest part of a
postmortem. PagerDuty's webhooks (and the other tools' evidence) already said when the
incident was triggered, acknowledged, escalated and resolved, and by whom: the form offers
those lines for the responders to correct and fill in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class TimelineEvent:
    """Something a tool recorded about the incident."""

    at: datetime
    kind: str  # the tool's own name for it: "incident.acknowledged", "AssignOwnership", …
    by: str | None = None  # who or what did it, by name


# PagerDuty's v3 webhook event types, and the other tools' actions, in plain words.
_SAID: dict[str, str] = {
    "incident.triggered": "Triggered",
    "incident.acknowledged": "Acknowledged",
    "incident.unacknowledged": "Acknowledgement timed out",
    "incident.escalated": "Escalated",
    "incident.reassigned": "Reassigned",
    "incident.delegated": "Delegated to another team",
    "incident.priority_updated": "Priority changed",
    "incident.annotated": "Note added",
    "incident.responder.added": "Responder asked to help",
    "incident.responder.replied": "Responder replied",
    "incident.status_update_published": "Status update published",
    "incident.reopened": "Reopened",
    "incident.resolved": "Resolved",
    "create": "Alert created",
    "acknowledge": "Acknowledged",
    "assignownership": "Ownership assigned",
    "close": "Closed",
    "resolve": "Resolved",
}

# Events whose person is who it went *to*, not who did it (Opsgenie's AssignOwnership
# evidence names the new owner).
_TO_SOMEONE = frozenset({"assignownership"})

# Enough for a week-long incident's main events; a flood of notes is not a timeline.
MAX_LINES = 40


def _said(kind: str) -> str:
    known = _SAID.get(kind.lower())
    if known is not None:
        return known
    # An event type this version has no words for: its own name, readable.
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", kind.removeprefix("incident."))
    return re.sub(r"[._]+", " ", words).strip().capitalize() or "Event"


def timeline_draft(events: Sequence[TimelineEvent], zone: ZoneInfo, *, max_chars: int) -> str:
    """One line per event, oldest first, in the workspace's time zone: the time, what
    happened and who did it. Empty when nothing was recorded.

    At most ``MAX_LINES`` lines and ``max_chars`` characters, in whole lines: the first
    ones and the last (how it ended), with how many were left out between them.
    """
    lines: list[str] = []
    for event in sorted(events, key=lambda e: e.at):
        at = (event.at if event.at.tzinfo else event.at.replace(tzinfo=UTC)).astimezone(zone)
        who = ""
        if event.by:
            who = f" to {event.by}" if event.kind.lower() in _TO_SOMEONE else f" by {event.by}"
        line = f"{at:%Y-%m-%d %H:%M} {at.tzname()} — {_said(event.kind)}{who}"
        # One tool event can be recorded once per person it names (the other tools' evidence).
        if line not in lines:
            lines.append(line)
    keep = len(lines)
    while keep > 1 and (keep > MAX_LINES or len(_joined(lines, keep)) > max_chars):
        keep -= 1
    return _joined(lines, keep)


def _joined(lines: list[str], keep: int) -> str:
    """The first ``keep - 1`` lines and the last, saying how many are left out between."""
    if keep >= len(lines):
        return "\n".join(lines)
    left_out = len(lines) - keep
    gap = f"… {left_out} more events in the incident's tool …"
    return "\n".join([*lines[: keep - 1], gap, lines[-1]])
