"""What the bot says and when: every outgoing message is planned here, sent later from a row.

A nudge is re-checked against the postmortem at send time and silently dropped once its
reason is gone (an owner was picked, a meeting was scheduled…).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.lifecycle import State
from bot.domain.policy import Policy
from bot.domain.postmortem import MEETING_LENGTH, Postmortem


class MessageKind(StrEnum):
    OWNER_PROMPT = "owner_prompt"
    OWNER_CHOSEN = "owner_chosen"
    # The owner prompt shown again in place, with candidates found since it was posted.
    PROMPT_REFRESH = "owner_prompt_refresh"
    NOTICE = "notice"  # an ephemeral line to one person in a channel
    NUDGE_NO_OWNER = "nudge_no_owner"
    ESCALATE_NO_OWNER = "escalate_no_owner"
    NUDGE_NO_MEETING = "nudge_no_meeting"
    # The owner has not started the document (any save by anyone starts it).
    NUDGE_NO_DRAFT = "nudge_no_draft"
    REMIND_MEETING_DUE = "remind_meeting_due"
    ESCALATE_OVERDUE = "escalate_overdue"
    ASK_MARK_HELD = "ask_mark_held"
    # The "was it held?" questions already posted, updated in place once that is settled
    # (the meeting marked held, by their button or the command; moved; or the postmortem
    # cancelled): they say what happened instead of offering their Mark meeting held button.
    HELD_QUESTION_SETTLED = "ask_mark_held_settled"
    # The meeting was held but the postmortem is not done: finish the document, then `done`.
    NUDGE_NOT_DONE = "nudge_not_done"
    # Done, but the artifact still lacks what the guidance asks of it (the contributing
    # factors, how the response worked, an action item against a repeat): to its owner, a
    # few times (GAPS_REMINDERS), as the document and action items stay open after `done`.
    NUDGE_GAPS = "nudge_artifact_gaps"
    MEETING_INVITE = "meeting_invite"
    MEETING_HELD = "meeting_held"
    COMPLETED = "completed"
    # A direct message to the person who opened the postmortem (or asked to re-post its
    # prompt): the owner prompt could not be posted in the channel, and how to fix that.
    PROMPT_UNDELIVERABLE = "prompt_undeliverable"
    # Writing the postmortem: the document's first save, each action item, an export.
    DOCUMENT_STARTED = "document_started"
    ACTION_ITEM_ADDED = "action_item_added"
    ACTION_ITEM_DONE = "action_item_done"
    ACTION_ITEM_DROPPED = "action_item_dropped"
    # An open item given a new due date or a new owner (its reminders follow the change).
    ACTION_ITEM_CHANGED = "action_item_changed"
    DOCUMENT_EXPORT = "document_export"
    # An open action item on its due date, to its owner; and a week later, should it still be
    # open, to its owner and the postmortem's. Unlike the nudges above they outlive the
    # postmortem: the guidance's "steps to take" matter most once it is done.
    ACTION_ITEM_DUE = "action_item_due"
    ACTION_ITEM_OVERDUE = "action_item_overdue"
    # The channel hears that a postmortem was cancelled, by whom and why.
    CANCELLED = "cancelled"
    # A direct message to an owner someone else chose (or handed it to): a mention in a
    # channel they are not in notifies nobody, and an owner who never heard is no owner.
    OWNER_TOLD = "owner_told"
    # A direct message to whoever an open action item was handed to: what, by when, by whom
    # (a mention in a channel they are not in, or one that is archived, reaches nobody).
    ACTION_ITEM_GIVEN = "action_item_given"
    # The channel hears that someone corrected the incident's details (title, severity,
    # resolution time, false alarm): what each was and is, and by whom.
    DETAILS_CORRECTED = "details_corrected"


# Sent to their recipient's direct messages, not to the postmortem's channel.
DIRECT_MESSAGES = frozenset(
    {MessageKind.PROMPT_UNDELIVERABLE, MessageKind.OWNER_TOLD, MessageKind.ACTION_ITEM_GIVEN}
)


NUDGES = frozenset(
    {
        MessageKind.NUDGE_NO_OWNER,
        MessageKind.ESCALATE_NO_OWNER,
        MessageKind.NUDGE_NO_MEETING,
        MessageKind.NUDGE_NO_DRAFT,
        MessageKind.REMIND_MEETING_DUE,
        MessageKind.ESCALATE_OVERDUE,
        MessageKind.ASK_MARK_HELD,
        MessageKind.NUDGE_NOT_DONE,
        MessageKind.NUDGE_GAPS,
    }
)

ACTION_ITEM_REMINDERS = frozenset({MessageKind.ACTION_ITEM_DUE, MessageKind.ACTION_ITEM_OVERDUE})

# Messages to a person that wait for their working hours (the nudges are addressed to the
# channel or to the owner; the action-item reminders to the item's owner).
WAITS_FOR_WORKING_HOURS = NUDGES | ACTION_ITEM_REMINDERS

# Which states keep each nudge's reason alive.
#
# The day-3/day-5 reminders and the overdue escalation are about a meeting nobody has put on
# the calendar. A scheduled meeting was accepted (at or before the deadline, or later with a
# recorded justification), so they no longer apply; once it has ended without being marked
# held, "was it held?" (ASK_MARK_HELD, due at the meeting's booked end) takes over.
_STILL_NEEDED: dict[MessageKind, frozenset[State]] = {
    MessageKind.NUDGE_NO_OWNER: frozenset({State.AWAITING_OWNER}),
    MessageKind.ESCALATE_NO_OWNER: frozenset({State.AWAITING_OWNER}),
    MessageKind.NUDGE_NO_MEETING: frozenset({State.DRAFTING}),
    # Until the meeting: once it was held, "finish the document" (NUDGE_NOT_DONE) says it.
    # Also gone once the document is started (services.base.reason_gone_elsewhere).
    MessageKind.NUDGE_NO_DRAFT: frozenset({State.DRAFTING, State.MEETING_SCHEDULED}),
    MessageKind.REMIND_MEETING_DUE: frozenset({State.AWAITING_OWNER, State.DRAFTING}),
    # Scheduled too: the notice a meeting's schedule plans, for when it was never marked held.
    MessageKind.ESCALATE_OVERDUE: frozenset(
        {State.AWAITING_OWNER, State.DRAFTING, State.MEETING_SCHEDULED}
    ),
    MessageKind.ASK_MARK_HELD: frozenset({State.MEETING_SCHEDULED}),
    # Once someone owns it, showing the prompt again would take the owner's name off it.
    MessageKind.PROMPT_REFRESH: frozenset({State.AWAITING_OWNER}),
    MessageKind.NUDGE_NOT_DONE: frozenset({State.IN_REVIEW}),
    # Also gone once nothing is missing (services.base.reason_gone_elsewhere).
    MessageKind.NUDGE_GAPS: frozenset({State.COMPLETED}),
    # Once someone owns it, the lost prompt no longer matters.
    MessageKind.PROMPT_UNDELIVERABLE: frozenset({State.AWAITING_OWNER}),
    # Completed too: it can be handed over after `done` (what it lacks is followed up).
    MessageKind.OWNER_TOLD: frozenset(
        {State.DRAFTING, State.MEETING_SCHEDULED, State.IN_REVIEW, State.COMPLETED}
    ),
    # They outlive a completed postmortem, not a cancelled one (opened by mistake or twice).
    **{
        kind: frozenset(State) - {State.CANCELLED}
        for kind in (MessageKind.ACTION_ITEM_DUE, MessageKind.ACTION_ITEM_OVERDUE)
    },
}

# What is still said about a cancelled postmortem: that it was (on the "was it held?"
# questions posted too), replies to people, an export someone asked for, an item closed.
# Anything else planned before the cancel (an owner's announcement, a meeting invite, the
# owner prompt itself) no longer applies.
_SAID_AFTER_CANCEL = frozenset(
    {
        MessageKind.CANCELLED,
        MessageKind.HELD_QUESTION_SETTLED,
        MessageKind.NOTICE,
        MessageKind.DOCUMENT_EXPORT,
        MessageKind.ACTION_ITEM_DONE,
        MessageKind.ACTION_ITEM_DROPPED,
    }
)

# How long after a meeting's time it may go unmarked before the incident managers hear of it.
UNMARKED_MEETING_GRACE = timedelta(days=1)

# Who asked for an owner prompt to be posted again: told, rather than the opener, if it fails.
REQUESTED_BY = "requested_by"
# On an owner announcement after a hand-over: who owned the postmortem before.
HANDED_OVER_FROM = "handed_over_from"


@dataclass(frozen=True)
class PlannedMessage:
    """A message to send at ``due_at`` (to the channel, or to ``recipient`` when set)."""

    kind: MessageKind
    due_at: datetime
    recipient: str | None = None
    params: dict[str, str] = field(default_factory=dict)


def still_applies(kind: MessageKind, postmortem: Postmortem, now: datetime | None = None) -> bool:
    """False once the reason for a nudge is gone; other messages always apply.

    With ``now``, what depends on the meeting's time too: "was it held?" only once the
    meeting has ended, and the overdue notice for a scheduled meeting only a day after it (a
    snoozed copy, or a row from before a reschedule, must not ask about a meeting that is
    still ahead or under way).
    """
    if postmortem.state is State.CANCELLED and kind not in _SAID_AFTER_CANCEL:
        return False
    needed = _STILL_NEEDED.get(kind)
    if needed is not None and postmortem.state not in needed:
        return False
    meeting, ends = postmortem.meeting_at, postmortem.meeting_ends_at
    if now is None or meeting is None or ends is None:
        return True
    if postmortem.state is not State.MEETING_SCHEDULED:
        return True
    if kind is MessageKind.ASK_MARK_HELD:
        return ends <= now
    if kind is MessageKind.NUDGE_NO_DRAFT:
        # "Write it before the meeting, which then discusses a draft": once the meeting has
        # begun, that is moot, and "was it held?" (then "finish it") takes over.
        return now < meeting
    if kind is MessageKind.ESCALATE_OVERDUE:
        return meeting + UNMARKED_MEETING_GRACE <= now
    return True


def too_early(kind: MessageKind, postmortem: Postmortem, now: datetime) -> datetime | None:
    """When "was it held?" will apply, if it came before its meeting ended: a row planned
    for the meeting's start (as the bot did before asking at its end) waits instead of
    being dropped with the series it starts."""
    ends = postmortem.meeting_ends_at
    if (
        kind is MessageKind.ASK_MARK_HELD
        and postmortem.state is State.MEETING_SCHEDULED
        and ends is not None
        and now < ends
    ):
        return ends
    return None


def is_snoozable(kind: MessageKind) -> bool:
    return kind in NUDGES


def human_span(span: timedelta) -> str:
    """``span`` as people say it: "a day", "7 days", "an hour", "12 hours", "90 minutes"."""
    seconds = int(span.total_seconds())
    units = (
        (24 * 3600, "a day", "days"),
        (3600, "an hour", "hours"),
        (60, "a minute", "minutes"),
        (1, "a second", "seconds"),
    )
    for unit, one, many in units:
        if seconds >= unit and seconds % unit == 0:
            count = seconds // unit
            return one if count == 1 else f"{count} {many}"
    return f"{seconds} seconds"


# A Slack user id (U… or, on Enterprise Grid, W…): the one pattern every input is checked by.
# (At most 40 characters, the columns they are stored in: a longer one is a 400, never a
# database error.)
SLACK_USER_ID = r"[UW][A-Z0-9]{2,39}"
# A channel a postmortem can live in: public (C…) or private (G… on older workspaces).
SLACK_CHANNEL_ID = r"[CG][A-Z0-9]{2,39}"
# A conversation a command or a click can come from: such a channel, or a direct message
# (D…), where a postmortem cannot live.
SLACK_CONVERSATION_ID = r"[CGD][A-Z0-9]{2,39}"
_SLACK_USER = re.compile(rf"^{SLACK_USER_ID}$")


def is_slack_user(actor: str | None) -> bool:
    """Whether ``actor`` is a Slack user id (a person), not a webhook source like "pagerduty"."""
    return bool(actor) and _SLACK_USER.match(actor or "") is not None


def is_postmortem_channel(channel_id: str) -> bool:
    """Whether a postmortem can live in ``channel_id``: a channel, not a direct message."""
    return re.fullmatch(SLACK_CHANNEL_ID, channel_id) is not None


def is_direct_message(channel_id: str) -> bool:
    """Whether ``channel_id`` is a direct message with the bot (D…): no postmortem lives there."""
    return bool(channel_id) and channel_id[0] == "D" and not is_postmortem_channel(channel_id)


def plan_prompt_undeliverable(
    postmortem: Postmortem,
    policy: Policy,
    *,
    error: str,
    requested_by: str | None,
    now: datetime,
) -> list[PlannedMessage]:
    """Slack refused the owner prompt for good: tell, by direct message, whoever can fix it.

    That is the person who asked for the prompt (who opened the postmortem with
    `/postmortem start`, or asked for it again); for a postmortem a webhook opened, nobody
    asked in Slack, so the incident managers are told. Nothing once the postmortem has an
    owner or its prompt reached the channel after all.
    """
    if postmortem.state is not State.AWAITING_OWNER or postmortem.prompt_ts is not None:
        return []
    if postmortem.channel_id is None:
        return []
    asker = requested_by if is_slack_user(requested_by) else None
    if asker is None and is_slack_user(postmortem.opened_by):
        asker = postmortem.opened_by
    recipients = [asker] if asker else list(dict.fromkeys(policy.incident_managers))
    params = {"channel": postmortem.channel_id, "error": error}
    return [
        PlannedMessage(MessageKind.PROMPT_UNDELIVERABLE, now, recipient=r, params=dict(params))
        for r in recipients
    ]


def _channel_time(policy: Policy, moment: datetime) -> datetime:
    return policy.working_hours.next_opening(moment, ZoneInfo(policy.workspace_timezone))


def _asked_since(postmortem: Postmortem) -> datetime:
    """When the channel was first asked for an owner: the no-owner clock starts there.

    Usually that is the resolution; for an incident opened late (a form back-dated to
    last week, a delayed webhook, a postmortem moved into its channel with
    `/postmortem move`) nobody could have answered before the prompt existed.
    """
    return max(postmortem.resolved_at, postmortem.opened_at)


def opened_past_deadline(postmortem: Postmortem, policy: Policy) -> bool:
    """Opened once the meeting's deadline had passed: an old incident written up late."""
    return policy.meeting_deadline(postmortem.resolved_at) <= postmortem.opened_at


def no_owner_escalation_due(policy: Policy, asked: datetime) -> datetime:
    """When the incident managers hear that the channel ``asked`` picked no owner.

    ``escalate`` after the asking, and never before the channel has had its first nudge and
    ``repeat`` working hours (at most the escalation's own span) to answer it: counted in
    elapsed time alone, an incident resolved on Friday evening would get its first nudge and
    its escalation together at Monday's opening.
    """
    no_owner = policy.no_owner
    first_nudge = _channel_time(policy, asked + no_owner.first)
    answer_time = max(timedelta(0), min(no_owner.repeat, no_owner.escalate - no_owner.first))
    tz = ZoneInfo(policy.workspace_timezone)
    nudged_and_answerable = policy.working_hours.add_working_time(first_nudge, answer_time, tz)
    return max(_channel_time(policy, asked + no_owner.escalate), nudged_and_answerable)


def plan_on_open(postmortem: Postmortem, policy: Policy, now: datetime) -> list[PlannedMessage]:
    """The owner prompt now, and the nudges that keep an unowned postmortem from being forgotten.

    A reminder whose day has already passed is not sent late: the overdue escalation covers
    it, at the deadline. For a postmortem opened after its deadline (an old incident written
    up late), the overdue escalation comes when the no-owner one would, instead of it (it
    says there is no owner, if there is none): posted with the owner prompt, it reached the
    incident managers before anyone could have answered.
    """
    asked = _asked_since(postmortem)
    deadline = policy.meeting_deadline(postmortem.resolved_at)
    escalation = max(now, no_owner_escalation_due(policy, asked))
    plan = [
        PlannedMessage(MessageKind.OWNER_PROMPT, now),
        PlannedMessage(
            MessageKind.NUDGE_NO_OWNER,
            max(now, _channel_time(policy, asked + policy.no_owner.first)),
        ),
    ]
    if opened_past_deadline(postmortem, policy):
        plan.append(PlannedMessage(MessageKind.ESCALATE_OVERDUE, escalation))
    else:
        plan += [
            PlannedMessage(MessageKind.ESCALATE_NO_OWNER, escalation),
            PlannedMessage(MessageKind.ESCALATE_OVERDUE, deadline),
        ]
    plan += [
        PlannedMessage(MessageKind.REMIND_MEETING_DUE, postmortem.resolved_at + offset)
        for offset in policy.meeting_due.remind
        if now < postmortem.resolved_at + offset < deadline
    ]
    return plan


def plan_after_resolution_moved(
    postmortem: Postmortem,
    policy: Policy,
    now: datetime,
    *,
    overdue_notice_heard: bool,
    reminders_sent: int = 0,
) -> list[PlannedMessage]:
    """With the resolution time corrected: the meeting reminders and the overdue notice,
    which count from it, again from the new time (the caller cancels the pending ones,
    but for a snoozed copy of a notice that is not planned again).

    As when it opened, a reminder whose time has passed is not sent late, and one already
    sent (``reminders_sent``, the first ones: they go in order) is not sent again. The
    overdue notice comes at the new deadline (for a scheduled meeting: not before a day
    after its time); if that has passed, now — unless the incident managers already heard
    it (``overdue_notice_heard``: sent, snoozed, or being sent): then nothing new.
    """
    deadline = policy.meeting_deadline(postmortem.resolved_at)
    plan: list[PlannedMessage] = []
    if postmortem.state in (State.AWAITING_OWNER, State.DRAFTING):
        due = deadline
        plan += [
            PlannedMessage(MessageKind.REMIND_MEETING_DUE, postmortem.resolved_at + offset)
            for offset in policy.meeting_due.remind[reminders_sent:]
            if now < postmortem.resolved_at + offset < deadline
        ]
    elif postmortem.state is State.MEETING_SCHEDULED and postmortem.meeting_at is not None:
        due = max(deadline, postmortem.meeting_at + UNMARKED_MEETING_GRACE)
    else:
        return []
    if due > now or not overdue_notice_heard:
        plan.append(PlannedMessage(MessageKind.ESCALATE_OVERDUE, max(now, due)))
    return plan


def planned_for_an_earlier_deadline(
    kind: MessageKind, due_at: datetime, postmortem: Postmortem, policy: Policy
) -> bool:
    """An overdue notice planned before the resolution time was corrected later: it is due
    before the meeting's deadline now is (every notice is planned at or after the deadline
    it was counted from, and waiting only moves it later), so the meeting is not overdue.
    The correction planned its replacement."""
    return kind is MessageKind.ESCALATE_OVERDUE and due_at < policy.meeting_deadline(
        postmortem.resolved_at
    )


def plan_refused_nudges_again(
    postmortem: Postmortem, policy: Policy, now: datetime, refused: Collection[MessageKind]
) -> list[PlannedMessage]:
    """With an owner prompt posted again: the channel nudges Slack refused along with it.

    Their no-owner clock restarts now, as it starts at the prompt for an incident opened
    late: nobody could answer a prompt they never saw. The overdue notice, if refused, comes
    at the deadline; if that has passed, as for a postmortem opened after it (plan_on_open):
    when the no-owner escalation would, in its place, not with the prompt.
    """
    no_owner = policy.no_owner
    deadline = policy.meeting_deadline(postmortem.resolved_at)
    escalation = no_owner_escalation_due(policy, now)
    overdue_instead = MessageKind.ESCALATE_OVERDUE in refused and deadline <= now
    plan = []
    if MessageKind.NUDGE_NO_OWNER in refused:
        due = _channel_time(policy, now + no_owner.first)
        plan.append(PlannedMessage(MessageKind.NUDGE_NO_OWNER, due))
    if MessageKind.ESCALATE_NO_OWNER in refused and not overdue_instead:
        plan.append(PlannedMessage(MessageKind.ESCALATE_NO_OWNER, escalation))
    if MessageKind.ESCALATE_OVERDUE in refused:
        due = escalation if overdue_instead else deadline
        plan.append(PlannedMessage(MessageKind.ESCALATE_OVERDUE, due))
    return plan


def plan_repeat_no_owner(
    postmortem: Postmortem, policy: Policy, sent_at: datetime
) -> PlannedMessage | None:
    """After a no-owner nudge: the next one, ``repeat`` working hours later, until escalation."""
    tz = ZoneInfo(policy.workspace_timezone)
    due = policy.working_hours.add_working_time(sent_at, policy.no_owner.repeat, tz)
    if due >= no_owner_escalation_due(policy, _asked_since(postmortem)):
        return None
    return PlannedMessage(MessageKind.NUDGE_NO_OWNER, due)


def after_working_span(
    policy: Policy, start: datetime, span: timedelta, zone: ZoneInfo | None = None
) -> datetime:
    """``span`` later in working time, in ``zone`` (the recipient's own), else the workspace's.

    Whole days count as working days ("1d" from Friday 14:00 is Monday 14:00); the rest
    is working time ("4h" from 16:00 with a 18:00 close is 11:00 the next working day).
    With ``working_hours: always`` it is plain elapsed time.

    Counted in the workspace's zone, a span from a reminder sent at its recipient's opening
    far west of it (09:00 in Los Angeles is 18:00 in Berlin, the close) starts the next day
    there, and every round of a repeating reminder lost a working day.
    """
    hours = policy.working_hours
    if hours.always:
        return start + span
    tz = zone or ZoneInfo(policy.workspace_timezone)
    current = hours.next_opening(start, tz)
    for _ in range(span.days):
        local = current.astimezone(tz) + timedelta(days=1)
        while local.weekday() not in hours.days:
            local += timedelta(days=1)
        moved = datetime.combine(local.date(), current.astimezone(tz).time(), tzinfo=tz)
        current = hours.next_opening(moved.astimezone(start.tzinfo), tz)
    rest = span - timedelta(days=span.days)
    return hours.add_working_time(current, rest, tz) if rest else current


def plan_on_owner(
    postmortem: Postmortem,
    policy: Policy,
    now: datetime,
    *,
    handed_over_from: str | None = None,
) -> list[PlannedMessage]:
    """Tell the channel who owns it; nudge the owner if no meeting is scheduled a working day on,
    and if the document is not started ``no_draft.first`` on.

    ``handed_over_from``: the previous owner, when this is a hand-over (the announcement then
    says so). Once a meeting is on the calendar there is no "no meeting yet" nudge to plan;
    once it was held, "finish it" replaces "start the document". Whether the document was
    started is checked when the nudge is due (the dispatcher drops it then). A completed
    postmortem (handed over after `done`) gets neither: its new owner is told what it still
    lacks, and the reminder of that already planned follows them (the caller moves it).
    """
    assert postmortem.owner_id is not None
    params = {HANDED_OVER_FROM: handed_over_from} if handed_over_from else {}
    plan = [PlannedMessage(MessageKind.OWNER_CHOSEN, now, params=params)]
    chosen_by = postmortem.owner_assigned_by
    if chosen_by != postmortem.owner_id and is_slack_user(chosen_by):
        told = {**params, "owner": postmortem.owner_id, "by": str(chosen_by)}
        plan.append(
            PlannedMessage(MessageKind.OWNER_TOLD, now, recipient=postmortem.owner_id, params=told)
        )
    if postmortem.state in (State.AWAITING_OWNER, State.DRAFTING):
        plan.append(
            PlannedMessage(
                MessageKind.NUDGE_NO_MEETING,
                after_working_span(policy, now, policy.no_meeting.first),
                recipient=postmortem.owner_id,
            )
        )
    if postmortem.state in (State.AWAITING_OWNER, State.DRAFTING, State.MEETING_SCHEDULED):
        plan.append(
            PlannedMessage(
                MessageKind.NUDGE_NO_DRAFT,
                after_working_span(policy, now, policy.no_draft.first),
                recipient=postmortem.owner_id,
            )
        )
    return plan


def plan_on_schedule(
    postmortem: Postmortem,
    policy: Policy,
    now: datetime,
    *,
    invite: Mapping[str, str] | None = None,
) -> list[PlannedMessage]:
    """The invite now (with ``invite`` as its params); once the meeting has ended, ask the
    owner to mark it held; and, should it still not be marked a day after its time (and past
    the deadline), the overdue notice.

    The overdue notice planned when the postmortem opened goes when a meeting is scheduled
    (the caller cancels it): a meeting on the calendar by the deadline, or later with a
    recorded reason, is what the deadline asks for — until its time passes unmarked.
    """
    assert postmortem.meeting_at is not None
    assert postmortem.owner_id is not None
    deadline = policy.meeting_deadline(postmortem.resolved_at)
    return [
        PlannedMessage(MessageKind.MEETING_INVITE, now, params=dict(invite or {})),
        PlannedMessage(
            MessageKind.ASK_MARK_HELD,
            max(now, postmortem.meeting_at + MEETING_LENGTH),
            recipient=postmortem.owner_id,
        ),
        PlannedMessage(
            MessageKind.ESCALATE_OVERDUE,
            max(now, deadline, postmortem.meeting_at + UNMARKED_MEETING_GRACE),
        ),
    ]


def plan_on_held(
    postmortem: Postmortem, policy: Policy, now: datetime, *, by: str
) -> list[PlannedMessage]:
    """The channel is told the meeting was held; the owner is reminded to finish it.

    The reminder comes ``not_done.first`` of working time later and, once sent, repeats
    every ``not_done.repeat`` (plan_repeat_owner_reminder) until the postmortem is done.
    """
    plan = [PlannedMessage(MessageKind.MEETING_HELD, now, params={"by": by})]
    if postmortem.owner_id is not None:
        plan.append(
            PlannedMessage(
                MessageKind.NUDGE_NOT_DONE,
                after_working_span(policy, now, policy.not_done.first),
                recipient=postmortem.owner_id,
            )
        )
    return plan


def plan_on_complete(
    postmortem: Postmortem, policy: Policy, now: datetime, *, gaps_left: bool
) -> list[PlannedMessage]:
    """Once done with its artifact incomplete (``gaps_left``): its owner is reminded of what
    it lacks ``not_done.first`` of working time later, then every ``not_done.repeat``, at
    most GAPS_REMINDERS times in all, while something is still missing."""
    if not gaps_left or postmortem.owner_id is None:
        return []
    return [
        PlannedMessage(
            MessageKind.NUDGE_GAPS,
            after_working_span(policy, now, policy.not_done.first),
            recipient=postmortem.owner_id,
            params={REMINDER_ROUND: "1"},
        )
    ]


# How many times the owner of a completed postmortem hears what its artifact lacks: the team
# decided it was done at its meeting, so a few reminders, not a series without end (a team
# may judge that no action item is needed).
GAPS_REMINDERS = 3
# On a reminder that comes a limited number of times: which time this is ("1", "2", …).
REMINDER_ROUND = "round"


# The owner's reminders that come back until they are acted on (the no-owner nudge repeats
# on its own cadence, plan_repeat_no_owner).
REPEATING_OWNER_REMINDERS = frozenset(
    {MessageKind.ASK_MARK_HELD, MessageKind.NUDGE_NOT_DONE, MessageKind.NUDGE_GAPS}
)


def plan_repeat_owner_reminder(
    kind: MessageKind,
    postmortem: Postmortem,
    policy: Policy,
    sent_at: datetime,
    *,
    pending: Collection[str] = (),
    params: Mapping[str, Any] | None = None,
    zone: ZoneInfo | None = None,
) -> PlannedMessage | None:
    """After "was the meeting held?", "finish it" or "it still lacks…": the same again,
    ``not_done.repeat`` of working time later (in ``zone``, the owner's own when known, as
    the dispatcher holds each one for their working hours there), so a postmortem never
    stalls after a single unanswered reminder.

    None once the reason is gone (held, done), when nobody owns it to be reminded, when
    one is already ``pending`` (the postmortem's pending outbox kinds: a snoozed copy and
    the reminder it was snoozed from must not both start a series), or after the last of a
    limited series (``params``: those of the one sent, with its round).
    """
    assert kind in REPEATING_OWNER_REMINDERS
    if postmortem.owner_id is None or not still_applies(kind, postmortem):
        return None
    if kind.value in pending:
        return None
    again: dict[str, str] = {}
    if kind is MessageKind.NUDGE_GAPS:
        sent_round = _round(params)
        if sent_round >= GAPS_REMINDERS:
            return None
        again = {REMINDER_ROUND: str(sent_round + 1)}
    return PlannedMessage(
        kind,
        after_working_span(policy, sent_at, policy.not_done.repeat, zone),
        recipient=postmortem.owner_id,
        params=again,
    )


def _round(params: Mapping[str, Any] | None) -> int:
    """Which time a reminder of a limited series is (1 if it does not say)."""
    try:
        return max(1, int(str((params or {}).get(REMINDER_ROUND, "1"))))
    except ValueError:
        return 1


def last_round(params: Mapping[str, Any]) -> bool:
    """Whether this reminder of what a completed postmortem lacks is the last one."""
    return _round(params) >= GAPS_REMINDERS


# Nudges that come back as a series: each next one is planned when one is sent, so there
# is at most one pending at a time (a snooze replaces it: LifecycleService.snooze).
REPEATING_NUDGES = REPEATING_OWNER_REMINDERS | {MessageKind.NUDGE_NO_OWNER}


def plan_repeat(
    kind: MessageKind,
    postmortem: Postmortem,
    policy: Policy,
    sent_at: datetime,
    *,
    pending: Collection[str] = (),
    params: Mapping[str, Any] | None = None,
    zone: ZoneInfo | None = None,
) -> PlannedMessage | None:
    """After a nudge of a series was sent (with ``params``): the next one, or None (series
    over, or one is already ``pending``: never two of a series at once).

    ``zone``: the time zone of the owner an owner's reminder goes to, when known (the
    channel's no-owner nudges count in the workspace's)."""
    assert kind in REPEATING_NUDGES
    if kind is MessageKind.NUDGE_NO_OWNER:
        return None if kind.value in pending else plan_repeat_no_owner(postmortem, policy, sent_at)
    return plan_repeat_owner_reminder(
        kind, postmortem, policy, sent_at, pending=pending, params=params, zone=zone
    )


SNOOZE = timedelta(days=1)
# On a snoozed copy of a nudge.
SNOOZED = "snoozed"


def plan_snooze(
    kind: MessageKind,
    recipient: str | None,
    params: dict[str, str],
    now: datetime,
    *,
    escalation_at: datetime | None = None,
) -> PlannedMessage | None:
    """The same nudge again, a day from now (marked: a snoozed copy keeps its time when
    what it is about is planned again).

    None for a no-owner nudge that would come back at or after the escalation
    (``escalation_at``, when it is still to come): the channel is asked for an owner until
    the incident managers are, never after them. Nor is it brought forward to just before
    the escalation: whoever snoozed it asked for quiet, and the escalation is the next word.
    """
    due = now + SNOOZE
    if kind is MessageKind.NUDGE_NO_OWNER and escalation_at is not None and due >= escalation_at:
        return None
    return PlannedMessage(kind, due, recipient=recipient, params={**params, SNOOZED: "yes"})
