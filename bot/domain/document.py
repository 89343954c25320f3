"""The postmortem document and its action items: what they hold, and the Markdown artifact.

The guidance's artifact: what went wrong (summary, impact, timeline, the contributing
factors — never a single root cause), what went well, how the incident response itself
worked, and the steps that keep it from happening again (action items, each with one owner
and a due date). Writing it is collaborative: anyone in the channel may add to it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain.errors import DomainError
from bot.domain.lifecycle import STATE_LABELS, State
from bot.domain.messages import MessageKind, PlannedMessage
from bot.domain.policy import Policy
from bot.domain.postmortem import HandOver, Postmortem, owner_at

# Slack's longest plain-text input; what a section is cut to in the form.
MAX_SECTION = 3000
MAX_ACTION_ITEM = 300
MAX_ACTION_ITEMS = 100


class Section(StrEnum):
    SUMMARY = "summary"
    IMPACT = "impact"
    TIMELINE = "timeline"
    CONTRIBUTING_FACTORS = "contributing_factors"
    WENT_WELL = "went_well"
    RESPONSE = "response"


SECTION_TITLES: dict[Section, str] = {
    Section.SUMMARY: "Summary",
    Section.IMPACT: "Impact",
    Section.TIMELINE: "Timeline",
    Section.CONTRIBUTING_FACTORS: "Contributing factors",
    Section.WENT_WELL: "What went well",
    Section.RESPONSE: "How the incident response worked",
}

# What each section asks for: the form's hints, and the reader's guide in the export.
SECTION_HINTS: dict[Section, str] = {
    Section.SUMMARY: "What happened, in a few sentences.",
    Section.IMPACT: "Who and what was affected, and for how long.",
    Section.TIMELINE: "Detection, escalation, mitigation and resolution, with times.",
    Section.CONTRIBUTING_FACTORS: (
        "The conditions that combined to cause it: there is never a single root cause. "
        "Describe systems and decisions, not people to blame."
    ),
    Section.WENT_WELL: "What helped: keep doing it.",
    Section.RESPONSE: (
        "How detection, alerting, escalation and communication worked. For a false alarm: "
        "why response was triggered, and how to tune it."
    ),
}


def fingerprint(text: str) -> str:
    """A short digest of a section's text: what a form remembers of what it showed."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Document:
    postmortem_id: int
    sections: Mapping[Section, str]
    started_by: str
    started_at: datetime
    updated_by: str
    updated_at: datetime

    def text(self, section: Section) -> str:
        return self.sections.get(section, "")

    @property
    def written(self) -> list[Section]:
        return [s for s in Section if self.text(s).strip()]


@dataclass(frozen=True)
class ActionItem:
    number: int  # 1, 2, … within its postmortem
    text: str
    owner_id: str
    due_on: date
    added_by: str
    added_at: datetime
    # Closed: done, or — with drop_reason — dropped as no longer needed (the plan changed).
    done_by: str | None = None
    done_at: datetime | None = None
    drop_reason: str | None = None

    @property
    def dropped(self) -> bool:
        return self.done_at is not None and self.drop_reason is not None


# Shown inline in the form, which is plain text: no mention can name who it was.
CONFLICT = (
    "This section was changed since this form opened (by someone else, or in another form), "
    "so your text for it was not saved. Copy it, then close this form and open it again "
    "with `/postmortem document` to see the new text."
)
OTHERS_SAVED = " Your changes to the other sections were saved."


class SectionTooLong(DomainError):
    def __init__(self, section: Section) -> None:
        super().__init__(f"Keep each section to {MAX_SECTION} characters.")
        self.section = section


@dataclass(frozen=True)
class Edit:
    """What a form submission writes, and the sections it may not write."""

    changed: dict[Section, str]
    # Changed by someone else since the form showed them: writing them would lose that text.
    conflicts: tuple[Section, ...]


def merge_edit(
    current: Document | None,
    submitted: Mapping[Section, str],
    shown: Mapping[Section, str],
) -> Edit:
    """The sections a form submission changes, and those it would overwrite text someone
    else saved after the form opened (not written).

    ``submitted``: only the sections the form sent back (a section it did not send is left
    alone; one sent empty is cleared). ``shown``: the fingerprint of each section as the form
    showed it. Only the sections the person changed are written, so two people filling
    different sections at once both keep their text; two people changing the same one is
    refused for that section, never silently lost.
    """
    changed: dict[Section, str] = {}
    conflicts: list[Section] = []
    for section, text in submitted.items():
        new = text.strip()
        if len(new) > MAX_SECTION:
            raise SectionTooLong(section)
        before = shown.get(section, fingerprint(""))
        stored = current.text(section) if current else ""
        if fingerprint(new) == before or new == stored:
            continue  # untouched in the form, or already what is stored
        if fingerprint(stored[:MAX_SECTION]) != before:
            conflicts.append(section)
            continue
        changed[section] = new
    return Edit(changed, tuple(conflicts))


class NotWritable(DomainError):
    """A cancelled postmortem is not written in: it was opened by mistake or twice."""


def check_writable(postmortem: Postmortem) -> None:
    if postmortem.state is State.CANCELLED:
        why = postmortem.cancel_reason or "no reason given"
        raise NotWritable(
            f"Postmortem #{postmortem.id} was cancelled ({why}), so nothing more is written in "
            "it. `/postmortem status` lists this channel's open postmortems."
        )


class ActionItemRefused(DomainError):
    """An action item that can't be recorded as given; the message says what to change."""


def _a_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def check_action_item(text: str, *, due_on: date, today: date, existing: int = 0) -> str:
    """The action item's text, cleaned; ActionItemRefused when it can't be recorded."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise ActionItemRefused("Say what is to be done after the due date.")
    if len(cleaned) > MAX_ACTION_ITEM:
        raise ActionItemRefused(
            f"The action item is {len(cleaned)} characters; keep it to {MAX_ACTION_ITEM} "
            "(link to a ticket for the details)."
        )
    check_due_date(due_on, today=today)
    if existing >= MAX_ACTION_ITEMS:
        raise ActionItemRefused(
            f"This postmortem already has {MAX_ACTION_ITEMS} action items; group some of them."
        )
    return cleaned


def check_due_date(due_on: date, *, today: date) -> None:
    """An action item's due date, new or changed: from today, and within a year."""
    # A due date further off is no commitment (and 9999-12-31 is a typo).
    if due_on > _a_year_after(today):
        raise ActionItemRefused(
            f"{due_on.isoformat()} is more than a year away: give a nearer date, or split the "
            "work into steps that can be done sooner."
        )
    if due_on < today:
        raise ActionItemRefused(
            f"{due_on.isoformat()} has passed: give the date it will be done by."
        )


def check_action_item_change(
    item: ActionItem, *, due_on: date | None, owner_id: str | None, today: date
) -> None:
    """A new due date or owner for an open item; ActionItemRefused if it changes nothing or
    the date can't be."""
    if due_on is not None:
        if due_on == item.due_on:
            raise ActionItemRefused(
                f"Action item {item.number} is already due {due_on.isoformat()}."
            )
        check_due_date(due_on, today=today)
    if owner_id is not None and owner_id == item.owner_id:
        raise ActionItemRefused(f"Action item {item.number} is already <@{owner_id}>'s.")


def why_not_done(postmortem_id: int, number: int, item: ActionItem | None) -> str:
    """Why action item ``number`` could not be marked done: there is none, or it already is."""
    if item is None or item.done_at is None:
        return (
            f"Postmortem #{postmortem_id} has no action item {number}: "
            "`/postmortem status` lists them."
        )
    on = f"{item.done_at.astimezone(UTC):%Y-%m-%d}"
    if item.dropped:
        return f"Action item {number} was already dropped, by <@{item.done_by}> on {on}."
    return f"Action item {number} was already marked done, by <@{item.done_by}> on {on}."


def why_not_from_elsewhere(
    postmortem: Postmortem, item: ActionItem | None, actor: str, incident_managers: Iterable[str]
) -> str | None:
    """Why ``actor`` may not mark ``item`` done from outside the postmortem's channel, if not.

    In its channel anyone may, as anyone there can read the item. From elsewhere (another
    channel, a direct message, a reminder's button) only the people it concerns may: the
    item's owner, the postmortem's owner and the incident managers. Anyone else would be
    ticking off, by its number alone, someone else's work in a channel they may not be in,
    and the answer would show them the item's text.
    """
    allowed = {postmortem.owner_id, *incident_managers}
    if item is not None:
        allowed.add(item.owner_id)
    if actor in allowed:
        return None
    where = f"<#{postmortem.channel_id}>" if postmortem.channel_id else "its channel"
    return (
        f"Postmortem #{postmortem.id}'s action items can be changed, marked done or dropped in "
        f"{where}. "
        "From elsewhere, only the item's owner, the postmortem's owner or an incident manager "
        "can."
    )


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _mention(user_id: str) -> str:
    # Slack's own syntax: the export turns it into the person's name when it is posted.
    return f"<@{user_id}>"


def _markdown_item(item: ActionItem) -> str:
    """One action item in the export: ticked once done; struck through, with why, and with
    no checkbox once dropped (it is neither open nor done: a wiki shows an unticked box as a
    task still to do, a ticked one as done)."""
    what = f"{item.text} — owner {_mention(item.owner_id)}, due {item.due_on.isoformat()}"
    if item.done_at is None:
        return f"{item.number}. [ ] {what}"
    on = f"{item.done_at.astimezone(UTC):%Y-%m-%d}"
    if item.dropped:
        return f"{item.number}. ~~{what}~~ (dropped {on}: {item.drop_reason})"
    return f"{item.number}. [x] {what} (done {on})"


def participants(
    postmortem: Postmortem, policy: Policy, hand_overs: Sequence[HandOver] = ()
) -> list[str]:
    """Who took part in the postmortem, each once: its owner, and the people of its meeting.

    The meeting's people are those it was scheduled with (the incident managers its invite
    named, and the participants chosen on the form), once it was held or while it is still
    to come: a postmortem cancelled before its meeting was held had no meeting to take part
    in. Nobody is listed for merely being an incident manager, or for meeting an owner
    criterion: the owner prompt suggested them, which is not taking part.

    The owner listed is the one who ran the meeting (``hand_overs``: the postmortem's, oldest
    first): someone it was handed to afterwards, say once it was complete, did not take part
    in it; with no meeting, its owner.
    """
    meeting_on = postmortem.meeting_held_at is not None or (
        postmortem.meeting_at is not None and postmortem.cancelled_at is None
    )
    meeting_moment = postmortem.meeting_held_at or postmortem.meeting_at
    owner = (
        owner_at(postmortem, hand_overs, meeting_moment)
        if meeting_on and meeting_moment is not None
        else postmortem.owner_id
    )
    people = [owner] if owner else []
    if meeting_on:
        if postmortem.meeting_at is not None:  # scheduled here: its invite named them
            people += policy.incident_managers
        people += postmortem.meeting_participants
    return list(dict.fromkeys(people))


def render_markdown(
    postmortem: Postmortem,
    document: Document | None,
    action_items: Sequence[ActionItem],
    policy: Policy,
    hand_overs: Sequence[HandOver] = (),
) -> str:
    """The postmortem as a Markdown document: the artifact the team keeps.

    A cancelled one was not reviewed and nothing more is written in it: its export says
    what it holds, and neither what is still to come nor how to add to it.
    """
    cancelled = postmortem.state is State.CANCELLED
    lines = [f"# Postmortem #{postmortem.id}: {postmortem.title}", ""]
    nobody = "none (cancelled before anyone took it on)" if cancelled else "not chosen yet"
    facts = [
        f"Status: {STATE_LABELS[postmortem.state]}",
        f"Severity: {postmortem.severity or 'not given'}",
        f"Resolved: {_when(postmortem.resolved_at)}",
        f"Owner: {_mention(postmortem.owner_id) if postmortem.owner_id else nobody}",
    ]
    if postmortem.false_alarm:
        facts.append(
            "False alarm: yes"
            if cancelled
            else "False alarm: yes — reviewed all the same, to tune what triggered it"
        )
    if postmortem.meeting_held_at is not None:
        facts.append(f"Meeting: held {_when(postmortem.meeting_held_at)}")
    elif postmortem.meeting_at is not None and cancelled:
        facts.append(f"Meeting: not held (was scheduled for {_when(postmortem.meeting_at)})")
    elif postmortem.meeting_at is not None:
        facts.append(f"Meeting: {_when(postmortem.meeting_at)}")
    else:
        facts.append("Meeting: none held" if cancelled else "Meeting: not scheduled yet")
    if postmortem.completed_at is not None:
        facts.append(f"Completed: {_when(postmortem.completed_at)}")
    if postmortem.cancelled_at is not None:
        why = postmortem.cancel_reason or "no reason given"
        facts.append(f"Cancelled: {_when(postmortem.cancelled_at)} — {why}")
    lines += [f"- {fact}" for fact in facts]
    people = participants(postmortem, policy, hand_overs)
    named = ", ".join(_mention(p) for p in people) if people else "none recorded"
    lines.append(f"- Participants: {named}")
    lines += [
        "",
        "> A blameless review: it describes what the systems and the people in them did and "
        "why it made sense at the time, not whose fault it was.",
    ]
    for section in Section:
        text = document.text(section).strip() if document else ""
        lines += ["", f"## {SECTION_TITLES[section]}", ""]
        if text:
            lines.append(text)
        else:
            lines.append(
                "_Not written._" if cancelled else f"_Not written yet. {SECTION_HINTS[section]}_"
            )
    lines += ["", "## Action items", ""]
    if action_items:
        lines += [_markdown_item(item) for item in action_items]
    elif cancelled:
        lines.append("_None recorded._")
    else:
        lines.append(
            "_None recorded yet. Add one with `/postmortem action @owner YYYY-MM-DD what`._"
        )
    if document is not None:
        lines += [
            "",
            "---",
            f"Started by {_mention(document.started_by)} {_when(document.started_at)}; last "
            f"changed by {_mention(document.updated_by)} {_when(document.updated_at)}.",
        ]
    return "\n".join(lines) + "\n"


class Gap(StrEnum):
    """What the guidance's artifact holds, missing from a postmortem's record."""

    WHAT_WENT_WRONG = "what_went_wrong"
    STEPS = "steps"
    RESPONSE = "response"


# On the "complete" message: what the artifact still lacked when it was completed.
GAPS = "gaps"
# On the "complete" message, and what a new owner of a completed postmortem is told: how many
# of its action items are still open.
OPEN_ITEMS = "open_items"


def artifact_gaps(document: Document | None, action_items: Sequence[ActionItem]) -> list[Gap]:
    """What the artifact lacks: "a detailed description of exactly what went wrong in order
    to cause the incident" (the contributing factors: a summary of what happened is not
    that), "a list of steps to take in order to prevent a similar incident" (action items
    not dropped) and "an analysis of how effective your incident response process itself
    was"."""
    written = set(document.written) if document is not None else set()
    gaps = []
    if Section.CONTRIBUTING_FACTORS not in written:
        gaps.append(Gap.WHAT_WENT_WRONG)
    if not any(not item.dropped for item in action_items):
        gaps.append(Gap.STEPS)
    if Section.RESPONSE not in written:
        gaps.append(Gap.RESPONSE)
    return gaps


def gaps_param(gaps: Sequence[Gap]) -> str:
    return ",".join(gaps)


def read_gaps(param: object) -> list[Gap]:
    """The gaps a message's params name; none for a row from before they were recorded."""
    if not isinstance(param, str):
        return []
    known = {gap.value for gap in Gap}
    return [Gap(name) for name in param.split(",") if name in known]


def read_open_items(param: object) -> int:
    """The open action items a message's params count (OPEN_ITEMS); 0 when it has no count."""
    text = str(param or "0")
    return int(text) if text.isascii() and text.isdigit() else 0


# An action item still open this long after its due date is brought to the postmortem's
# owner too, who "follows up for information, and drives the postmortem to completion".
ACTION_ITEM_OVERDUE_AFTER = timedelta(days=7)


# On an action item's "closed" message: why it was dropped, when it was not done.
DROPPED = "dropped"
MAX_DROP_REASON_LENGTH = 500
# …and the reminders already posted about it, whose "Mark done" button it takes off.
POSTED_REMINDERS = "posted_reminders"
# On a cancelled postmortem's message: the numbers of the open items dropped with it.
DROPPED_ITEMS = "dropped_items"


@dataclass(frozen=True)
class PostedReminder:
    """A reminder Slack took: where (its row's channel; ``owner``'s DM when the channel took
    no more messages) and its ts; its row's id, when what replaces it needs it (a button on
    it names its row)."""

    channel_id: str
    ts: str
    owner: str | None
    outbox_id: int | None = None


def posted_reminders_param(reminders: list[PostedReminder]) -> str:
    """The reminders as a message's (string) parameter: ``channel ts owner [id]`` per line."""
    return "\n".join(_posted_line(r) for r in reminders)


def _posted_line(reminder: PostedReminder) -> str:
    line = f"{reminder.channel_id} {reminder.ts} {reminder.owner or '-'}"
    return line if reminder.outbox_id is None else f"{line} {reminder.outbox_id}"


def read_posted_reminders(param: object) -> list[PostedReminder]:
    """``posted_reminders_param`` read back (nothing from anything else)."""
    if not isinstance(param, str):
        return []
    found = []
    for line in param.splitlines():
        parts = line.split(" ")
        if len(parts) not in (3, 4) or not all(parts):
            continue
        channel_id, ts, owner = parts[:3]
        number = parts[3] if len(parts) == 4 else ""
        outbox_id = int(number) if number.isascii() and number.isdigit() else None
        found.append(PostedReminder(channel_id, ts, None if owner == "-" else owner, outbox_id))
    return found


def action_item_params(item: ActionItem) -> dict[str, str]:
    """What every message about an action item says of it, as it is when the message is
    planned (its text never changes; a reminder planned before its owner or due date changed
    is dropped when due, see action_item_reminder_applies, and the change plans new ones)."""
    return {
        "number": str(item.number),
        "text": item.text,
        "owner": item.owner_id,
        "due": item.due_on.isoformat(),
    }


# Where a day begins first (Kiribati's Line Islands, UTC+14).
_EARLIEST_ZONE = ZoneInfo("Pacific/Kiritimati")


def _reminder_day(kind: MessageKind, due_on: date) -> date:
    """The day a reminder is about: the due date, or a week after it."""
    return due_on + ACTION_ITEM_OVERDUE_AFTER if kind is MessageKind.ACTION_ITEM_OVERDUE else due_on


def action_item_reminder_starts(kind: MessageKind, due_on: date, zone: ZoneInfo) -> datetime:
    """When a reminder's day begins where its recipient is: not before (the dispatcher holds
    it), so nobody west of the workspace is reminded the afternoon before an item is due."""
    return datetime.combine(_reminder_day(kind, due_on), time(0), tzinfo=zone)


def plan_action_item_reminders(
    item: ActionItem, policy: Policy, now: datetime
) -> list[PlannedMessage]:
    """Its owner is reminded on the due date, and a week later (with the postmortem's owner)
    if it is still open: each is due when its day begins first anywhere on Earth, then waits
    (in the dispatcher) for that day and the working hours of the item owner's own zone.

    None whose day has already begun (in the workspace's zone): for an item due the day it
    is recorded, its announcement has just said so; for one handed over or re-dated, the
    change's announcement does (a week-overdue item handed over is not "still open a week
    later" to someone who has just taken it on).
    """
    workspace = ZoneInfo(policy.workspace_timezone)
    plan = []
    for kind in (MessageKind.ACTION_ITEM_DUE, MessageKind.ACTION_ITEM_OVERDUE):
        starts = action_item_reminder_starts(kind, item.due_on, workspace)
        if starts <= now:
            continue
        first_anywhere = action_item_reminder_starts(kind, item.due_on, _EARLIEST_ZONE)
        plan.append(
            PlannedMessage(
                kind,
                first_anywhere.astimezone(now.tzinfo),
                recipient=item.owner_id,
                params=action_item_params(item),
            )
        )
    return plan


def action_item_reminder_applies(
    item: ActionItem | None, planned: Mapping[str, object] | None = None
) -> bool:
    """An action item's reminder is sent only while the item is open and, given the params
    it was ``planned`` with, still has that owner and due date."""
    if item is None or item.done_at is not None:
        return False
    if planned is None:
        return True
    return planned.get("owner") == item.owner_id and planned.get("due") == item.due_on.isoformat()
