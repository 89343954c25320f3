"""What each nudge says (plain builders; the dispatcher decides whether it is still due)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    MarkdownTextObject,
    SectionBlock,
)

from bot.domain.completion import artifact_gaps_predicate, artifact_gaps_text, left_after_done
from bot.domain.document import DROPPED, GAPS, OPEN_ITEMS, read_gaps, read_open_items
from bot.domain.lifecycle import State
from bot.domain.meetings import (
    CALLED_OFF,
    INVITED,
    MOVED_FROM,
    NEW_OWNER,
    NEW_TIME,
    SETTLED,
    WAS_INVITED,
    Settled,
    outside_working_hours_note,
)
from bot.domain.messages import (
    HANDED_OVER_FROM,
    MessageKind,
    human_span,
    is_slack_user,
    last_round,
)
from bot.domain.policy import Policy
from bot.domain.postmortem import PAGERDUTY, Postmortem
from bot.slack.blocks import late_because, slack_date
from bot.slack.ids import Action, action_item_ref
from bot.slack.text import command, escape


def _pick_owner(postmortem_id: int) -> str:
    return "pick one on the prompt above, or name them with " + command(
        postmortem_id, "owner", "@someone"
    )


_NO_MANAGERS = (
    "(No incident manager is set to escalate to: list them as `incident_managers` in the "
    "policy file.)"
)


def _managers(policy: Policy) -> str | None:
    """The incident managers as mentions, or None when none is configured."""
    if not policy.incident_managers:
        return None
    return " ".join(f"<@{m}>" for m in policy.incident_managers)


def _escalated(policy: Policy, sentences: str) -> str:
    """An escalation: addressed to the incident managers, else to the channel with a note.

    ``sentences`` start with a capital letter, as if addressed to nobody in particular.
    """
    managers = _managers(policy)
    if managers is None:
        return f":rotating_light: {sentences} {_NO_MANAGERS}"
    return f":rotating_light: {managers} — {sentences[:1].lower()}{sentences[1:]}"


def _calendar(postmortem: Postmortem, policy: Policy) -> str | None:
    """Where the meeting stands when one is scheduled (with why it is late, if it is)."""
    if postmortem.meeting_at is None or postmortem.state is not State.MEETING_SCHEDULED:
        return None
    return (
        f"It is on the calendar for {slack_date(postmortem.meeting_at)}"
        f"{late_because(postmortem, policy)}."
    )


def nudge_text(
    kind: MessageKind,
    postmortem: Postmortem,
    policy: Policy,
    *,
    now: datetime | None = None,
    params: Mapping[str, Any] | None = None,
) -> str:
    """What a nudge says, for any postmortem: with or without an owner, incident managers,
    a meeting on the calendar (the dispatcher drops a nudge whose reason is gone first).

    ``now``: when it is sent; an owner's nudge that comes after the meeting's deadline (the
    owner was chosen late) says the meeting is overdue instead of "before" a passed date.
    ``params``: the message's (what a completed postmortem lacks, as it is sent).
    """
    due_by = policy.meeting_deadline(postmortem.resolved_at)
    deadline = slack_date(due_by, "{date_long_pretty}")
    overdue = now is not None and now >= due_by
    title = f"*{escape(postmortem.title)}* (#{postmortem.id})"
    owner = f"<@{postmortem.owner_id}>" if postmortem.owner_id else None
    # For a postmortem without an owner, the channel is asked to pick one (nobody else can
    # schedule the meeting, mark it held, or close it).
    pick_owner = _pick_owner(postmortem.id)
    no_owner = f"It has no owner yet: {pick_owner}."
    schedule = command(postmortem.id, "schedule")
    mark_held = command(postmortem.id, "held")
    already_met = (
        f"If it already took place without being scheduled here, record it with "
        f"{command(postmortem.id, 'held', 'unscheduled')}."
    )
    calendar = _calendar(postmortem, policy)

    if kind is MessageKind.NUDGE_NO_OWNER:
        if owner:
            return f":wave: The postmortem for {title} is owned by {owner}."
        return (
            f":wave: The postmortem for {title} still has no owner. One named person keeps it "
            f"from falling between the cracks — {pick_owner}."
        )
    if kind is MessageKind.ESCALATE_NO_OWNER:
        if owner:
            return f":wave: The postmortem for {title} is owned by {owner}."
        return _escalated(
            policy,
            f"The postmortem for {title} has had no owner for "
            f"{human_span(policy.no_owner.escalate)}. Please help the responders choose one: "
            f"{pick_owner}.",
        )
    if kind is MessageKind.NUDGE_NO_MEETING:
        if calendar:
            return f":calendar: The postmortem meeting for {title} is scheduled. {calendar}"
        if not owner:
            return (
                f":calendar: No postmortem meeting is scheduled yet for {title}, and it should "
                f"be held before {deadline}. {no_owner}"
            )
        if overdue:
            return (
                f":calendar: {owner}, no postmortem meeting is scheduled yet for {title}, and "
                f"it was due by {deadline}: schedule it as soon as you can with "
                f"{schedule} (it asks why it is later). {already_met}"
            )
        return (
            f":calendar: {owner}, no postmortem meeting is scheduled yet for {title}. "
            f"It should be held before {deadline}: {schedule}. {already_met}"
        )
    if kind is MessageKind.NUDGE_NO_DRAFT:
        who = f"{owner}, the" if owner else "The"
        meeting = calendar or (
            f"The meeting was due by {deadline}: it is overdue."
            if overdue
            else f"The meeting should be held before {deadline}."
        )
        return (
            f":memo: {who} document for {title} is not started yet. Write it while the "
            f"responders still remember: {command(postmortem.id, 'document')}. It is a "
            "collaborative effort, "
            f"so ask them to add what they know; the meeting then discusses a draft. {meeting}"
        ) + ("" if owner else f" {no_owner}")
    if kind is MessageKind.REMIND_MEETING_DUE:
        if calendar:
            return (
                f":hourglass_flowing_sand: Reminder: the postmortem meeting for {title}. {calendar}"
            )
        if not owner:
            return (
                f":hourglass_flowing_sand: Reminder: the postmortem meeting for {title} should "
                f"be held before {deadline}. {no_owner}"
            )
        return (
            f":hourglass_flowing_sand: Reminder: the postmortem meeting for {title} should be "
            f"held before {deadline}. {owner}, it is not on the calendar yet: {schedule}. "
            f"{already_met}"
        )
    if kind is MessageKind.ESCALATE_OVERDUE:
        if postmortem.state is State.MEETING_SCHEDULED and postmortem.meeting_at is not None:
            # Planned by the schedule for a day after the meeting's time: it went unmarked.
            next_step = (
                f"{owner}, if it took place, record it with {mark_held}; if not, set "
                f"a new time with {schedule}."
                if owner
                else no_owner
            )
            return _escalated(
                policy,
                f"The postmortem for {title} is overdue: its meeting was on the calendar for "
                f"{slack_date(postmortem.meeting_at)}{late_because(postmortem, policy)}, and "
                f"nobody has marked it held. {next_step} Completing it comes before planned "
                "work.",
            )
        if calendar:
            situation = calendar
        elif not owner:
            situation = no_owner
        else:
            situation = (
                f"{owner}, please schedule it now with {schedule} "
                f"(a time after the deadline needs a reason). {already_met}"
            )
        return _escalated(
            policy,
            f"The postmortem for {title} is overdue: its meeting was due by "
            f"{deadline}. {situation} Completing it comes before planned work.",
        )
    if kind is MessageKind.ASK_MARK_HELD:
        when = f" {slack_date(postmortem.meeting_at)}" if postmortem.meeting_at is not None else ""
        if not owner:
            return (
                f":white_check_mark: The postmortem meeting for {title} was due to start{when}. "
                f"Once it has been held, mark it with {mark_held}. {no_owner}"
            )
        return _asked_if_held(postmortem, owner)
    if kind is MessageKind.NUDGE_NOT_DONE:
        held = (
            f" {slack_date(postmortem.meeting_held_at)}"
            if postmortem.meeting_held_at is not None
            else ""
        )
        who = f"{owner}, the" if owner else "The"
        return (
            f":memo: {who} postmortem meeting for {title} was held{held}, but the postmortem is "
            f"not done yet. Finish the document ({command(postmortem.id, 'document')}) and agree "
            "action items with owners and due dates "
            f"({command(postmortem.id, 'action', '@someone YYYY-MM-DD what to do')}); this comes "
            f"before planned work. Then close it with {command(postmortem.id, 'done')}."
            + ("" if owner else f" {no_owner}")
        )
    if kind is MessageKind.NUDGE_GAPS:
        params = params or {}
        who = f"{owner}, the" if owner else "The"
        lacks = artifact_gaps_predicate(postmortem.id, read_gaps(params.get(GAPS)))
        return (
            f":memo: {who} postmortem for {title} is complete, but it {lacks}"
            + (" This is my last reminder about it." if last_round(params) else "")
            + ("" if owner else f" {no_owner}")
        )
    return f"Update on the postmortem for {title}."


def _people(user_ids: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"<@{u}>" for u in user_ids) or "nobody else named yet"


def meeting_invite_text(
    postmortem: Postmortem, policy: Policy, params: Mapping[str, Any] | None = None
) -> str:
    """The channel message that goes with the .ics invite; ``params`` say what the channel
    heard of the meeting before, when it was rescheduled (then it says what changed)."""
    assert postmortem.meeting_at is not None
    params = params or {}
    title = f"*{escape(postmortem.title)}* (#{postmortem.id})"
    when = slack_date(postmortem.meeting_at)
    moved_from = params.get(MOVED_FROM)
    if moved_from is None:
        heading = f"Postmortem meeting for {title}: {when}. The invite (.ics) is just above."
    else:
        was = datetime.fromisoformat(str(moved_from))
        change = (
            f"moved from {slack_date(was)} to {when}"
            if was != postmortem.meeting_at
            else f"still {when}, with its invite changed"
        )
        heading = (
            f"The postmortem meeting for {title} is {change}. The updated invite (.ics) is just "
            "above: open it to update the event in your calendar."
        )
    # Said where the owner, the participants and whoever scheduled it all read it: the form
    # itself closes on submit with no answer of its own.
    note = outside_working_hours_note(postmortem.meeting_at, policy)
    if note is not None:
        heading += f"\n{note}"
    managers = _people(list(policy.incident_managers)) if policy.incident_managers else "none set"
    text = (
        f":calendar: {heading}\n"
        f"• Owner: <@{postmortem.owner_id}>\n"
        f"• Incident manager(s): {managers}\n"
        f"• Participants: {_people(postmortem.meeting_participants)}\n"
        "• When they were involved: customer support, account management, product management"
    )
    invited = {postmortem.owner_id, *policy.incident_managers, *postmortem.meeting_participants}
    dropped = [p for p in str(params.get(WAS_INVITED) or "").split() if p not in invited]
    if dropped:
        text += (
            f"\n• No longer invited: {_people(dropped)}: delete the earlier event from your "
            "calendar (this invite does not remove it)"
        )
    if postmortem.meeting_justification:
        why = escape(postmortem.meeting_justification)
        goal = human_span(policy.meeting_due.deadline)
        text += f"\n• Later than {goal} after resolution because: _{why}_"
    return text


def meeting_held_text(postmortem: Postmortem, by: str) -> str:
    return (
        f":white_check_mark: The postmortem meeting for *{escape(postmortem.title)}* "
        f"(#{postmortem.id}) was held (marked by <@{by}>). Next: finish the document "
        f"({command(postmortem.id, 'document')}) and agree action items with owners and due "
        f"dates ({command(postmortem.id, 'action', '@someone YYYY-MM-DD what to do')}), then "
        f"{command(postmortem.id, 'done')}."
    )


def _asked_if_held(postmortem: Postmortem, owner: str) -> str:
    """The "was it held?" question, asking ``owner`` (how they are addressed)."""
    title = f"*{escape(postmortem.title)}* (#{postmortem.id})"
    when = f" {slack_date(postmortem.meeting_at)}" if postmortem.meeting_at is not None else ""
    return (
        f":white_check_mark: {owner}, the postmortem meeting for {title} was due to start"
        f"{when}. Did it take place? Click *Mark meeting held* (or "
        f"{command(postmortem.id, 'held')}). If it moved, set the new time with "
        f"{command(postmortem.id, 'schedule')}."
    )


def held_question_settled_text(postmortem: Postmortem, params: Mapping[str, Any]) -> str:
    """What a posted "was it held?" question says once someone settled it (then without
    its buttons): the meeting was marked held, or moved, or the postmortem cancelled; or,
    handed over, the same question asked of the new owner (with its buttons)."""
    title = f"*{escape(postmortem.title)}* (#{postmortem.id})"
    by = f"<@{params['by']}>"
    how, new_time = params.get(SETTLED), params.get(NEW_TIME)
    if how == Settled.HANDED_OVER:
        new_owner, before = params.get(NEW_OWNER), params.get(HANDED_OVER_FROM)
        how_they_came = (
            f"you took the postmortem over from <@{before}>"
            if new_owner == params["by"] and before
            else f"the postmortem was handed over to you by {by}"
        )
        return _asked_if_held(postmortem, f"<@{new_owner}> ({how_they_came})")
    if how == Settled.MOVED and new_time:
        return (
            f":calendar: The postmortem meeting for {title} was moved to "
            f"{slack_date(datetime.fromisoformat(str(new_time)))} (by {by}): I'll ask again "
            "after it."
        )
    if how == Settled.CANCELLED:
        return (
            f":no_entry_sign: The postmortem for {title} was cancelled (by {by}): there is no "
            "meeting to mark held."
        )
    return f":white_check_mark: The postmortem meeting for {title} was marked held by {by}."


def completed_text(postmortem: Postmortem, params: Mapping[str, str]) -> str:
    """The channel's "complete" message: what is still owed, said as it stands (``params``
    count the action items when it was completed; rows planned before they did, nothing)."""
    recorded, still_open = params.get("action_items"), params.get(OPEN_ITEMS)
    if still_open and still_open != "0":
        which = (
            "Its open action item comes"
            if still_open == "1"
            else f"Its {still_open} open action items come"
        )
        items = (
            f"{which} before planned work: {command(postmortem.id, 'status')} lists "
            f"{'it' if still_open == '1' else 'them'}, and each owner is reminded on its due date."
        )
    elif recorded and recorded != "0":
        items = _closed_items(int(recorded), params.get("dropped_items"))
    else:
        items = ""
    gaps = read_gaps(params.get(GAPS))
    export = (
        f"{command(postmortem.id, 'export')} posts its document as Markdown, to keep."
        if not gaps
        else f"{artifact_gaps_text(postmortem.id, gaps)} Then {command(postmortem.id, 'export')} "
        "posts it as Markdown, to keep."
    )
    return (
        f":tada: The postmortem for *{escape(postmortem.title)}* (#{postmortem.id}) is complete "
        f"(marked by <@{params['by']}>). Thank you all! {items}{' ' if items else ''}{export}"
    )


def _closed_items(recorded: int, dropped_param: str | None) -> str:
    """Every item is closed: say how, since a dropped one was never done."""
    if dropped_param is None:  # planned before dropped items were counted
        return "Every action item is already closed."
    dropped = int(dropped_param)
    if dropped == 0:
        return "Every action item is already done."
    if dropped == recorded:
        return (
            "Its action item was dropped."
            if recorded == 1
            else f"Its {recorded} action items were all dropped."
        )
    return f"Its action items are all closed: {recorded - dropped} done, {dropped} dropped."


def owner_told_text(postmortem: Postmortem, params: Mapping[str, str]) -> str:
    """The direct message to an owner someone else chose: they may not be in the channel,
    where the announcement and their next steps are. ``params``: who chose them, as it was
    when they were chosen; for a completed postmortem, what is left in it (its gaps and open
    action items as it is sent), said here too."""
    channel = f"<#{postmortem.channel_id}>"
    by = f"<@{params.get('by') or postmortem.owner_assigned_by}>"
    handed_over_from = params.get(HANDED_OVER_FROM)
    how = (
        f"{by} handed you the postmortem"
        if handed_over_from
        else f"{by} chose you to own the postmortem"
    )
    about = f":wave: {how} for *{escape(postmortem.title)}* (#{postmortem.id}) in {channel}"
    hand_on = (
        f"Not the right person? Agree on someone there and hand it over with "
        f"{command(postmortem.id, 'owner', '@someone')}."
    )
    if postmortem.state is State.COMPLETED:
        left = left_after_done(
            postmortem.id,
            gaps=read_gaps(params.get(GAPS)),
            open_items=read_open_items(params.get(OPEN_ITEMS)),
        )
        return (
            f"{about}, which is already complete: no meeting is left to hold. {' '.join(left)} "
            f"The commands work in {channel}. {hand_on}"
        )
    return (
        f"{about}. "
        "Owning it is not blame: you coordinate a collaborative, blameless review and do the "
        "admin; writing it is everyone's work. Your next steps are in "
        f"{channel}, where the commands work. {hand_on}"
    )


def cancelled_text(postmortem: Postmortem, params: Mapping[str, str]) -> str:
    """The channel hears who cancelled a postmortem and why, and what stopped with it."""
    why = escape(postmortem.cancel_reason or "no reason given")
    text = (
        f":no_entry_sign: <@{params['by']}> cancelled the postmortem for "
        f"*{escape(postmortem.title)}* (#{postmortem.id}): _{why}_. Its reminders have stopped."
    )
    called_off = params.get(CALLED_OFF)
    if called_off:
        # No cancellation .ics: anyone in the channel could open one (see the schedule row
        # of the README), and calendars take a cancellation from a file unevenly.
        invited = _people(str(params.get(INVITED) or "").split())
        text += (
            f" Its meeting on {slack_date(datetime.fromisoformat(called_off))} is off: "
            f"{invited}, delete it from your calendar."
        )
    still_open = params.get(OPEN_ITEMS, "0")
    if still_open != "0":
        which = (
            "Its open action item was"
            if still_open == "1"
            else f"Its {still_open} open action items were"
        )
        text += (
            f" {which} dropped with it: if still needed, record "
            f"{'it' if still_open == '1' else 'them'} in the postmortem that replaces this one."
        )
    return text


def item_dropped_with_text(postmortem: Postmortem, params: Mapping[str, str]) -> str:
    """What an action item's posted reminder says once its postmortem was cancelled."""
    why = escape(postmortem.cancel_reason or "no reason given")
    return (
        f":heavy_minus_sign: This action item was dropped with the postmortem for "
        f"*{escape(postmortem.title)}* (#{postmortem.id}), cancelled by <@{params['by']}>: "
        f"_{why}_. It will not be followed up."
    )


def cancelled_prompt(postmortem: Postmortem, by: str) -> tuple[str, list[Block]]:
    """What the owner prompt says once its postmortem was cancelled: its text and blocks,
    without the buttons."""
    text = (
        f"*Postmortem #{postmortem.id}: {escape(postmortem.title)}* — cancelled by <@{by}>: "
        f"_{escape(postmortem.cancel_reason or 'no reason given')}_. No owner is needed."
    )
    return text, [SectionBlock(text=MarkdownTextObject(text=text))]


def document_started_text(postmortem: Postmortem, by: str) -> str:
    return (
        f":memo: <@{by}> started the document for *{escape(postmortem.title)}* "
        f"(#{postmortem.id}). Writing a postmortem is a collaborative effort: anyone here can "
        f"add what they know with {command(postmortem.id, 'document')}, and record action "
        f"items with {command(postmortem.id, 'action', '@someone YYYY-MM-DD what to do')}."
    )


def _due_day(params: Mapping[str, str]) -> str:
    # A calendar day, not a moment: shown as written, not moved into each reader's zone.
    return date.fromisoformat(params["due"]).strftime("%a %d %b %Y")


def action_item_text(postmortem: Postmortem, params: Mapping[str, str]) -> str:
    return (
        f":pushpin: Action item {params['number']} for *{escape(postmortem.title)}* "
        f"(#{postmortem.id}): {escape(params['text'])}\n"
        f"• Owner: <@{params['owner']}> · due {_due_day(params)} · added by <@{params['by']}>"
    )


def action_item_changed_text(postmortem: Postmortem, params: Mapping[str, str]) -> str:
    """An open item's new due date or owner, and what it was; its owner is named either
    way, so a new date reaches the person it binds."""
    owner = f"Owner: <@{params['owner']}>"
    if "was_owner" in params:
        owner += f" (was <@{params['was_owner']}>)"
    due = f"due {_due_day(params)}"
    if "was_due" in params:
        due += f" (was {_due_day({'due': params['was_due']})})"
    return (
        f":pencil2: Action item {params['number']} for *{escape(postmortem.title)}* "
        f"(#{postmortem.id}) was changed: {escape(params['text'])}\n"
        f"• {owner} · {due} · changed by <@{params['by']}>"
    )


def _detail(name: str, value: str) -> str:
    """A corrected detail as the channel reads it (as the params carry it: strings)."""
    if name == "resolved_at":
        return slack_date(datetime.fromisoformat(value))
    if name == "severity":
        return escape(value) if value else "none"
    if name == "title":
        return f"*{escape(value)}*"
    return value  # false_alarm: yes / no


# How the channel reads a tool that corrects details.
_TOOLS = {PAGERDUTY: "PagerDuty"}

_DETAIL_LABELS = {
    "title": "Title",
    "severity": "Severity",
    "resolved_at": "Resolved",
    "false_alarm": "False alarm",
}


def details_corrected_text(
    postmortem: Postmortem, params: Mapping[str, str], policy: Policy
) -> str:
    """Who corrected which of the incident's details, each with what it was; a new
    resolution time moves the meeting's deadline, so that is said too."""
    by = params["by"]
    if is_slack_user(by):
        heading = f"<@{by}> corrected the details of"
    else:  # the incident's tool, resolving an incident a person started by hand
        heading = f"{_TOOLS.get(by, escape(by))} resolved the incident: it corrected"
    lines = [f":pencil2: {heading} postmortem #{postmortem.id} *{escape(postmortem.title)}*:"]
    for name, label in _DETAIL_LABELS.items():
        if name in params:
            lines.append(
                f"• {label}: {_detail(name, params[name])} "
                f"(was {_detail(name, params[f'{name}_was'])})"
            )
    if "resolved_at" in params and postmortem.state in (
        State.AWAITING_OWNER,
        State.DRAFTING,
        State.MEETING_SCHEDULED,
    ):
        # From the time this message reports (a later correction is told by its own).
        deadline = policy.meeting_deadline(datetime.fromisoformat(params["resolved_at"]))
        lines.append(f"The meeting is now due by {slack_date(deadline)}.")
        meeting = postmortem.meeting_at
        if postmortem.state is State.MEETING_SCHEDULED and meeting and meeting > deadline:
            lines.append(
                f"The meeting on the calendar, {slack_date(meeting)}, is after that now: "
                f"move it earlier with `/postmortem schedule #{postmortem.id}` if you can."
            )
    return "\n".join(lines)


def action_item_given_text(
    postmortem: Postmortem, params: Mapping[str, str], *, today: date
) -> str:
    """A direct message to whoever an action item was handed to."""
    pid, number = postmortem.id, params["number"]
    due = date.fromisoformat(params["due"])
    when = (
        "I'll remind you on its due date."
        if due > today
        else "It is due today."
        if due == today
        else "It is overdue: please agree a new date if it needs one "
        f"({command(pid, 'action', f'due {number} YYYY-MM-DD')})."
    )
    return (
        f":pushpin: <@{params['by']}> handed you action item {number} of the postmortem for "
        f"*{escape(postmortem.title)}* (#{pid}), due {_due_day(params)}:\n"
        f"> {escape(params['text'])}\n"
        f"{when} When it is done: "
        f"{command(pid, 'action', f'done {number}')}; if it should be someone else's, hand it "
        f"on with {command(pid, 'action', f'owner {number} @someone')}."
    )


def action_item_reminder_text(
    kind: MessageKind,
    postmortem: Postmortem,
    params: Mapping[str, str],
    *,
    today: date,
    instead_of: str | None = None,
) -> str:
    """An open action item's reminder: to its owner on the due date; a week later to the
    postmortem's owner as well, who drives the postmortem to completion.

    ``today``: the day it is where the item's owner is. On the due day it is due today, not
    late; a reminder sent after it (the due day fell on a weekend, or Slack was down) says
    it was due and is still open.

    ``instead_of``: the channel that takes no more messages, when this goes to the item's
    owner alone: no commands then (they only work in the channel), and nobody else to ask.
    """
    number, pid = params["number"], postmortem.id
    whose = "Your" if instead_of else f"<@{params['owner']}>, your"
    due = date.fromisoformat(params["due"])
    when = (
        f"is due today, {_due_day(params)}"
        if due == today
        else f"is due {_due_day(params)}"
        if due > today
        else f"was due {_due_day(params)} and is still open"
    )
    about = f"{whose} action item for *{escape(postmortem.title)}* (#{pid}) {when}"
    item = f"> Item {number}: {escape(params['text'])}"
    if instead_of:
        how = (
            f"Done? Click *Mark done*. (I'm telling you directly: I can't post in "
            f"<#{instead_of}> any more.)"
        )
    else:
        how = (
            f"Done? Click *Mark done*, or `/postmortem action #{pid} done {number}`. If the plan "
            f"changed, drop it with `/postmortem action #{pid} drop {number} why`, and record "
            f"any new step with `/postmortem action #{pid} @someone YYYY-MM-DD what to do`."
        )
    if kind is MessageKind.ACTION_ITEM_DUE:
        return f":alarm_clock: {about}:\n{item}\n{how}"
    lead = postmortem.owner_id
    also = (
        f" <@{lead}>, as the postmortem's owner, please help get it moving."
        if lead and lead != params["owner"] and not instead_of
        else ""
    )
    return (
        f":warning: {about} a week later. Action items come before planned work.\n{item}\n"
        f"{how}{also}"
    )


def action_item_reminder_blocks(
    text: str, *, outbox_id: int, postmortem_id: int, number: int
) -> list[Block]:
    """The reminder with its "Mark done" button (no snooze: the due date was the promise)."""
    return [
        SectionBlock(text=MarkdownTextObject(text=text)),
        ActionsBlock(
            block_id=f"action_item:{outbox_id}",
            elements=[
                ButtonElement(
                    text="Mark done",
                    action_id=Action.ACTION_ITEM_DONE.value,
                    value=action_item_ref(postmortem_id, number),
                    style="primary",
                )
            ],
        ),
    ]


def action_item_done_text(postmortem: Postmortem, params: Mapping[str, str]) -> str:
    if DROPPED in params:
        return (
            f":heavy_minus_sign: Action item {params['number']} for "
            f"*{escape(postmortem.title)}* (#{postmortem.id}) was dropped: "
            f"{escape(params['text'])} (owner <@{params['owner']}>, dropped by "
            f"<@{params['by']}>, because: _{escape(params[DROPPED])}_). It will not be "
            "followed up."
        )
    return (
        f":white_check_mark: Action item {params['number']} for *{escape(postmortem.title)}* "
        f"(#{postmortem.id}) is done: {escape(params['text'])} (owner <@{params['owner']}>, "
        f"marked by <@{params['by']}>)"
    )


def document_export_text(postmortem: Postmortem, by: str) -> str:
    return (
        f":page_facing_up: The document for *{escape(postmortem.title)}* (#{postmortem.id}), "
        f"with its action items, as Markdown (the file just above; exported by <@{by}>)."
    )


def nudge_blocks(
    kind: MessageKind, text: str, *, outbox_id: int, postmortem_id: int
) -> list[Block]:
    """The nudge with its buttons: "Snooze 1 day" always, "Mark meeting held" when asked."""
    buttons: list[ButtonElement] = []
    if kind is MessageKind.ASK_MARK_HELD:
        buttons.append(
            ButtonElement(
                text="Mark meeting held",
                action_id=Action.MARK_HELD.value,
                value=str(postmortem_id),
                style="primary",
            )
        )
    buttons.append(
        ButtonElement(text="Snooze 1 day", action_id=Action.SNOOZE.value, value=str(outbox_id))
    )
    return [
        SectionBlock(text=MarkdownTextObject(text=text)),
        ActionsBlock(block_id=f"nudge:{outbox_id}", elements=buttons),
    ]
