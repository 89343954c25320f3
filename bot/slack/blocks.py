"""Block Kit builders: pure functions from domain objects to blocks (slack_sdk validates limits)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    DateTimePickerElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    UserMultiSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.completion import left_after_done
from bot.domain.document import ActionItem, Document, Gap, Section
from bot.domain.lifecycle import CLOSED, STATE_LABELS, State
from bot.domain.messages import MessageKind, human_span, opened_past_deadline
from bot.domain.overview import by_urgency, meeting_overdue
from bot.domain.owners import Candidate
from bot.domain.policy import Policy
from bot.domain.postmortem import MAX_TITLE_LENGTH, Postmortem
from bot.slack.ids import Action, Callback, Field
from bot.slack.text import command, escape

MAX_CANDIDATE_BUTTONS = 5
MAX_LISTED_CANDIDATES = 10
SECTION_TEXT_LIMIT = 3000  # Slack refuses a section whose text is longer


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4", "SEV5")
# Opsgenie's priorities, and PagerDuty's by default: the severity a webhook often brings.
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")


def severity_scale(current: str | None) -> tuple[str, ...]:
    """The severities a form offers: those of the scale ``current`` is on (a webhook's
    ``P2`` is corrected to ``P1``, not only to a SEV), else SEV1 to SEV5, as `start` offers."""
    return PRIORITIES if current in PRIORITIES else SEVERITIES


# The "Not set" option's value (no severity can be it: every stored one has words).
NO_SEVERITY = "-"
# A PagerDuty incident link with its account and a path after the id still fits.
MAX_LINK_LENGTH = 300

WHY_ONE_OWNER = (
    "*This postmortem needs exactly one owner.* One named person avoids the bystander "
    "effect: when a whole team is asked, everyone assumes someone else will do it.\n"
    "Owning it is *not blame* — the owner did not cause the incident. They coordinate a "
    "collaborative, blameless review, follow up for information and do the admin; "
    "writing it is everyone's work."
)


def slack_date(moment: datetime, fmt: str = "{date_short_pretty} at {time}") -> str:
    """A date Slack shows in each reader's own time zone (UTC text as the fallback)."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{fmt}|{fallback}>"


def person(candidate: Candidate) -> str:
    if candidate.person.slack_user_id:
        return f"<@{candidate.person.slack_user_id}>"
    return f"{escape(candidate.person.name[:80])} _(no matching Slack user found)_"


def _facts(postmortem: Postmortem) -> str:
    facts = [f"Resolved {slack_date(postmortem.resolved_at)}"]
    if postmortem.severity:
        # PagerDuty's urgency ("high urgency") stands in for a priority where an account
        # has none; it is no severity, and "severity high urgency" read as one.
        label = "" if postmortem.severity.endswith(" urgency") else "severity "
        facts.append(f"{label}*{escape(postmortem.severity)}*")
    if postmortem.service:
        facts.append(f"service *{escape(postmortem.service)}*")
    line = " · ".join(facts)
    if postmortem.false_alarm:
        line += (
            "\n:mag: *Possible false alarm.* Still worth a short review: why did response "
            "trigger, and can monitoring be tuned so it doesn't next time?"
        )
    return line


def _candidate_lines(candidates: tuple[Candidate, ...]) -> str:
    if not candidates:
        return (
            "I don't know yet who led the response, who was on call or who triggered the "
            "incident. Pick whoever was initially assigned and led the response, the primary "
            "on-call of the most affected service, or whoever manually triggered the incident "
            "to start the response."
        )
    lines = ["*Suggested owners* (who meets the guidance's criteria, and why):"]
    for candidate in candidates[:MAX_LISTED_CANDIDATES]:
        lines.append(f"• {person(candidate)} — {'; '.join(candidate.reasons)}")
    if len(candidates) > MAX_LISTED_CANDIDATES:
        lines.append(f"…and {len(candidates) - MAX_LISTED_CANDIDATES} more.")
    return _clip("\n".join(lines), SECTION_TEXT_LIMIT)


def owner_prompt(
    postmortem: Postmortem, policy: Policy, names: Mapping[str, str] | None = None
) -> list[Block]:
    """The message that asks the channel to choose exactly one owner.

    ``names`` gives display names for candidates known only by Slack id (button labels
    cannot mention people).
    """
    if postmortem.owner_id is not None:
        return owner_chosen(postmortem, policy)
    buttons: list[ButtonElement | UserSelectElement] = []
    pickable = [c for c in postmortem.candidates if c.person.slack_user_id]
    for index, candidate in enumerate(pickable[:MAX_CANDIDATE_BUTTONS]):
        user_id = candidate.person.slack_user_id or ""
        label = candidate.person.name or (names or {}).get(user_id) or user_id
        buttons.append(
            ButtonElement(
                text=f"Assign {label}"[:75],
                action_id=f"{Action.PICK_CANDIDATE.value}.{index}",
                value=f"{postmortem.id}|{candidate.person.slack_user_id}",
            )
        )
    buttons.append(
        ButtonElement(
            text="I'll own it",
            action_id=Action.CLAIM_SELF.value,
            value=str(postmortem.id),
            style="primary",
        )
    )
    buttons.append(
        UserSelectElement(
            placeholder="Someone else…",
            action_id=Action.PICK_ANYONE.value,
        )
    )
    return [
        HeaderBlock(text=f"Postmortem: {postmortem.title}"[:150]),
        SectionBlock(text=MarkdownTextObject(text=_facts(postmortem))),
        SectionBlock(text=MarkdownTextObject(text=WHY_ONE_OWNER)),
        SectionBlock(text=MarkdownTextObject(text=_candidate_lines(postmortem.candidates))),
        ActionsBlock(block_id=f"owner:{postmortem.id}", elements=buttons),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Postmortem #{postmortem.id} · {_prompt_deadline(postmortem, policy)}"
                )
            ]
        ),
    ]


def _prompt_deadline(postmortem: Postmortem, policy: Policy) -> str:
    deadline = slack_date(policy.meeting_deadline(postmortem.resolved_at))
    within = human_span(policy.meeting_due.deadline)
    if opened_past_deadline(postmortem, policy):
        return (
            f"the meeting was due by {deadline} (within {within} of resolution), before this "
            "postmortem opened: hold it as soon as you can"
        )
    return f"meeting due by {deadline} (within {within} of resolution)"


def late_because(postmortem: Postmortem, policy: Policy) -> str:
    """Why the meeting is later than the deadline, as a parenthesis: "" without a reason."""
    if not postmortem.meeting_justification:
        return ""
    goal = human_span(policy.meeting_due.deadline)
    return (
        f" (later than {goal} after resolution because: "
        f"_{escape(postmortem.meeting_justification)}_)"
    )


def _handed_over(postmortem: Postmortem, handed_over_from: str | None) -> bool:
    """Whether the owner took over from someone: said so, or past the first owner's steps.

    A first owner is always chosen while no meeting is scheduled; a postmortem whose meeting
    is scheduled or held, or that is complete, changes owner only by a hand-over.
    """
    return handed_over_from is not None or postmortem.state in (
        State.MEETING_SCHEDULED,
        State.IN_REVIEW,
        State.COMPLETED,
    )


def _chosen_by(postmortem: Postmortem, handed_over_from: str | None) -> str:
    """How the owner came to own it: "who volunteered", "chosen by …", "handed over by …"."""
    owner, by = postmortem.owner_id, postmortem.owner_assigned_by
    if not _handed_over(postmortem, handed_over_from):
        return "who volunteered" if by == owner else f"chosen by <@{by}>"
    previous = f" from <@{handed_over_from}>" if handed_over_from else ""
    if by == owner:
        return f"took it over{previous}"
    if handed_over_from == by:
        return f"handed over by <@{by}>"
    return f"handed over{previous} by <@{by}>"


def _meeting_line(postmortem: Postmortem, policy: Policy) -> str:
    """Where the meeting stands, for the line under the owner (once done, since when)."""
    if postmortem.state is State.COMPLETED and postmortem.completed_at is not None:
        return f"complete since {slack_date(postmortem.completed_at)}"
    if postmortem.state is State.IN_REVIEW and postmortem.meeting_held_at is not None:
        return f"meeting held {slack_date(postmortem.meeting_held_at)}"
    if postmortem.state is State.MEETING_SCHEDULED and postmortem.meeting_at is not None:
        return f"meeting {slack_date(postmortem.meeting_at)}"
    return f"meeting due by {slack_date(policy.meeting_deadline(postmortem.resolved_at))}"


def owner_chosen(
    postmortem: Postmortem, policy: Policy, *, handed_over_from: str | None = None
) -> list[Block]:
    """The prompt, updated in place once the owner is chosen (or it is handed over).

    ``handed_over_from``: the previous owner, when known.
    """
    chosen_by = _chosen_by(postmortem, handed_over_from)
    return [
        HeaderBlock(text=f"Postmortem: {postmortem.title}"[:150]),
        SectionBlock(text=MarkdownTextObject(text=_facts(postmortem))),
        SectionBlock(
            text=MarkdownTextObject(
                text=f":white_check_mark: *Owner:* <@{postmortem.owner_id}> ({chosen_by})"
            )
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Postmortem #{postmortem.id} · {_meeting_line(postmortem, policy)}"
                )
            ]
        ),
    ]


_DOCUMENT = (
    "summary, impact, timeline, contributing factors (there is never a single root cause), "
    "what went well, and how the response itself worked"
)


def _action_items(postmortem_id: int) -> str:
    return (
        "Agree action items with owners and due dates and record each with "
        f"{command(postmortem_id, 'action', '@someone YYYY-MM-DD what to do')} (completing "
        f"this comes before planned work), then close the postmortem with "
        f"{command(postmortem_id, 'done')}."
    )


_INVITE_WHO = (
    "Invite the responders, the incident manager and, where they were involved, customer "
    "support, account management and product management."
)


def _steps(postmortem: Postmortem, policy: Policy) -> list[str]:
    """The owner's remaining steps, from where the postmortem stands."""
    deadline_at = policy.meeting_deadline(postmortem.resolved_at)
    deadline = slack_date(deadline_at, "{date_long_pretty}")
    within = human_span(policy.meeting_due.deadline)
    pid = postmortem.id
    schedule, document = command(pid, "schedule"), command(pid, "document")
    held = f"Once the meeting has taken place, record it with {command(pid, 'held')}."
    if postmortem.state is State.IN_REVIEW:
        held_at = (
            f" {slack_date(postmortem.meeting_held_at)}"
            if postmortem.meeting_held_at is not None
            else ""
        )
        return [
            f"The meeting was held{held_at}. Finish the document with {document}: {_DOCUMENT}.",
            _action_items(pid),
        ]
    if postmortem.state is State.MEETING_SCHEDULED and postmortem.meeting_at is not None:
        return [
            f"The meeting is on the calendar for *{slack_date(postmortem.meeting_at)}*"
            f"{late_because(postmortem, policy)}; its invite is in the channel. To move it, "
            f"use {schedule}.",
            f"Start the document with {document}, if nobody has yet: {_DOCUMENT}.",
            held,
            _action_items(pid),
        ]
    # The owner was chosen moments ago: when they were is when this is read.
    told_at = postmortem.owner_assigned_at
    if told_at is not None and deadline_at <= told_at:
        schedule = (
            f"Schedule the postmortem meeting with {schedule} as soon as you can: "
            f"it was due by *{deadline}* (within {within} of resolution), so the form asks why "
            f"it is later. {_INVITE_WHO}"
        )
    else:
        schedule = (
            f"Schedule the postmortem meeting with {schedule}, before *{deadline}* "
            f"— within {within} of resolution, while context is fresh. {_INVITE_WHO}"
        )
    return [
        schedule,
        f"Start the document with {document} (anyone can add to it): {_DOCUMENT}.",
        held,
        _action_items(pid),
    ]


def next_steps_text(
    postmortem: Postmortem,
    policy: Policy,
    *,
    handed_over_from: str | None = None,
    gaps: Sequence[Gap] = (),
    open_items: int = 0,
) -> str:
    """What the owner is told once they own it: each step left, and the command that records it.

    The steps follow the state: a new owner of a scheduled or held postmortem (a hand-over)
    is not asked to schedule the meeting again; one of a completed postmortem hears what is
    left in it (``gaps``: what its artifact lacks; ``open_items``: its open action items).
    ``handed_over_from``: the previous owner.
    """
    title = f"*{escape(postmortem.title)}*"
    if _handed_over(postmortem, handed_over_from):
        opening = (
            f"<@{postmortem.owner_id}>, you now own the postmortem for {title} "
            f"({_chosen_by(postmortem, handed_over_from)}). Thank you for taking it on!"
        )
    else:
        opening = f"<@{postmortem.owner_id}>, you own the postmortem for {title}. Thank you!"
    if postmortem.state is State.COMPLETED:
        return f"{opening}\n{_left_after_done(postmortem, gaps, open_items)}"
    heading = "What is left:" if postmortem.state is State.IN_REVIEW else "What happens next:"
    steps = "\n".join(f"{n}. {step}" for n, step in enumerate(_steps(postmortem, policy), 1))
    return f"{opening}\n{heading}\n{steps}\nYou coordinate; everyone writes. Keep it blameless."


def _left_after_done(postmortem: Postmortem, gaps: Sequence[Gap], open_items: int) -> str:
    """For a new owner of a completed postmortem: no meeting to hold, and what is left."""
    since = (
        f" (since {slack_date(postmortem.completed_at)})"
        if postmortem.completed_at is not None
        else ""
    )
    complete = f"It is already complete{since}: no meeting is left to hold."
    left = left_after_done(postmortem.id, gaps=gaps, open_items=open_items)
    if len(left) == 1:  # nothing but its export
        return f"{complete} {left[0]}"
    steps = "\n".join(f"{n}. {step}" for n, step in enumerate(left, 1))
    writing = "\nYou coordinate; everyone writes. Keep it blameless." if gaps else ""
    return f"{complete} What is left:\n{steps}{writing}"


APP_MENTION = "@postmortem-bot"  # the app's name in slack-app-manifest.yaml


def prompt_fix(channel_id: str, error: str, postmortem_id: int) -> str:
    """Why Slack refused to post in ``channel_id``, and what gets the owner prompt there (or
    into the right channel, if that one is wrong)."""
    channel = f"<#{channel_id}>"
    again = (
        f"then run `/postmortem start` in {channel} again and I'll post the prompt there. If "
        f"it belongs in another channel, run `/postmortem move #{postmortem_id}` there."
    )
    invite = f"Invite me with `/invite {APP_MENTION}` in {channel}, {again}"
    if error == "not_in_channel":
        return f"I'm not a member of {channel} (a private channel needs an invitation). {invite}"
    if error == "channel_not_found":
        return (
            f"I can't see {channel}: that is how a private channel I wasn't invited to looks "
            f"to me. {invite}"
        )
    if error == "is_archived":
        return f"{channel} is archived. Unarchive it, {again}"
    return (
        f"Slack refused the message, or could not be reached for a day (`{escape(error)}`). "
        f"Check that I'm in {channel} (`/invite {APP_MENTION}`) and that the app is still "
        f"installed, {again}"
    )


def prompt_undeliverable_text(
    postmortem: Postmortem, *, recipient: str | None, channel_id: str, error: str
) -> str:
    """The direct message to whoever can fix a channel the owner prompt never reached."""
    what = f"the postmortem for *{escape(postmortem.title)}* (#{postmortem.id})"
    opening = (
        f"You opened {what}, but I could not post its owner prompt in <#{channel_id}>"
        if recipient is not None and recipient == postmortem.opened_by
        else f"I could not post the owner prompt of {what} in <#{channel_id}>"
    )
    return (
        f":warning: {opening}, so nobody there has been asked to choose an owner yet. "
        f"{prompt_fix(channel_id, error, postmortem.id)}"
    )


# What each message is, as the people in the channel know it.
_MESSAGE_NAMES: dict[MessageKind, str] = {
    MessageKind.OWNER_PROMPT: "the owner prompt",
    MessageKind.OWNER_CHOSEN: "the owner announcement",
    MessageKind.PROMPT_REFRESH: "the owner prompt's update",
    MessageKind.NOTICE: "a reply to someone",
    MessageKind.NUDGE_NO_OWNER: 'the "no owner yet" reminder',
    MessageKind.ESCALATE_NO_OWNER: 'the "no owner" escalation',
    MessageKind.NUDGE_NO_MEETING: 'the "schedule the meeting" reminder',
    MessageKind.NUDGE_NO_DRAFT: 'the "start the document" reminder',
    MessageKind.REMIND_MEETING_DUE: 'the "meeting due" reminder',
    MessageKind.ESCALATE_OVERDUE: "the overdue escalation",
    MessageKind.ASK_MARK_HELD: 'the "was the meeting held?" question',
    MessageKind.HELD_QUESTION_SETTLED: 'the update of the "was the meeting held?" question',
    MessageKind.NUDGE_NOT_DONE: 'the "finish the postmortem" reminder',
    MessageKind.NUDGE_GAPS: 'the "what the postmortem still lacks" reminder',
    MessageKind.MEETING_INVITE: "the meeting invite",
    MessageKind.MEETING_HELD: 'the "meeting held" message',
    MessageKind.COMPLETED: 'the "complete" message',
    MessageKind.CANCELLED: 'the "cancelled" message',
    MessageKind.OWNER_TOLD: "the direct message to the chosen owner",
    MessageKind.PROMPT_UNDELIVERABLE: "the direct message about the owner prompt",
    MessageKind.DOCUMENT_STARTED: 'the "document started" message',
    MessageKind.ACTION_ITEM_ADDED: "an action item's announcement",
    MessageKind.ACTION_ITEM_DONE: 'an action item\'s "done" message',
    MessageKind.ACTION_ITEM_DROPPED: 'an action item\'s "dropped" message',
    MessageKind.ACTION_ITEM_CHANGED: "an action item's new due date or owner",
    MessageKind.ACTION_ITEM_GIVEN: "the direct message to an action item's new owner",
    MessageKind.DOCUMENT_EXPORT: "the document's export (`/postmortem export` tries again)",
    MessageKind.ACTION_ITEM_DUE: "the due-date reminder",
    MessageKind.ACTION_ITEM_OVERDUE: "the week-overdue reminder",
    MessageKind.DETAILS_CORRECTED: "the announcement of corrected details",
}


def _undelivered(problem: str) -> str:
    """``kind: error`` (or ``kind#N: error``, about action item N) as people read it: which
    message, and what Slack said."""
    about, _, error = problem.partition(": ")
    kind, _, item = about.partition("#")
    name = _MESSAGE_NAMES.get(MessageKind(kind), kind) if kind in set(MessageKind) else kind
    for_item = f" for action item {item}" if item else ""
    return f"{name}{for_item} (Slack said `{escape(error)}`)"


def _prompt_lost(p: Postmortem, problems: list[str]) -> tuple[str | None, list[str]]:
    """The error of an owner prompt that never reached the channel (if it still matters).

    Returns it and the other problems. A prompt that failed once and was posted later, or
    a postmortem that found its owner another way, leaves nothing to fix.
    """
    error: str | None = None
    others: list[str] = []
    for problem in problems:
        kind, _, detail = problem.partition(": ")
        if kind == MessageKind.OWNER_PROMPT.value:
            if p.owner_id is None and p.prompt_ts is None:
                error = detail
            continue
        others.append(problem)
    return error, others


def status_text(
    postmortems: list[Postmortem],
    policy: Policy,
    unrouted: list[Postmortem],
    undeliverable: dict[int, list[str]],
    *,
    asked_for: int | None = None,
    documents: Mapping[int, Document] | None = None,
    action_items: Mapping[int, Sequence[ActionItem]] | None = None,
    today: date | None = None,
    now: datetime | None = None,
    latest_closed: Postmortem | None = None,
    completed_here: Postmortem | None = None,
    unrouted_seen_by: Sequence[str] = (),
) -> str:
    if not postmortems and completed_here is not None:
        lines = [
            "There is no open postmortem in this channel (`/postmortem start` opens one). Its "
            "last one is complete; its document and action items stay open:"
        ]
        postmortems = [completed_here]
    elif not postmortems and asked_for is not None:
        lines = [
            f"There is no postmortem #{asked_for} in this channel. "
            "`/postmortem status` lists the open ones."
        ]
    elif not postmortems:
        lines = ["There is no open postmortem in this channel. Start one with `/postmortem start`."]
        if latest_closed is not None:
            how = "completed" if latest_closed.state is State.COMPLETED else "cancelled"
            lines.append(
                f"Its last one, *#{latest_closed.id} {escape(short(latest_closed.title))}*, "
                f"is {how}: `/postmortem status #{latest_closed.id}` shows it."
            )
    else:
        lines = []
    # A default channel can collect many incidents' postmortems: the answer stays a message
    # Slack shows (and a person reads): those needing help first, the rest named for
    # `status #N`.
    # In one order however many there are (it was newest first up to five).
    if len(postmortems) > 1 and now is not None:
        refused = {pid for pid, problems in undeliverable.items() if problems}
        postmortems = by_urgency(postmortems, policy, now, refused=refused)
    shown, more = postmortems[:STATUS_IN_FULL], postmortems[STATUS_IN_FULL:]
    for p in shown:
        lost, problems = _prompt_lost(p, undeliverable.get(p.id, []))
        if p.owner_id:
            owner = f"<@{p.owner_id}>"
        elif p.state in CLOSED:
            owner = "_nobody_ (cancelled before anyone took it on)"
        elif lost is not None:
            owner = "_nobody yet_ — the owner prompt could not be posted in this channel"
        else:
            owner = "_nobody yet_ — pick one from the prompt"
        lines.append(
            f"*#{p.id} {escape(p.title)}* — {STATE_LABELS[p.state]}\n"
            f"• Owner: {owner}\n"
            f"• Resolved {slack_date(p.resolved_at)}; meeting due by "
            f"{slack_date(policy.meeting_deadline(p.resolved_at))}"
        )
        # What `details` corrects, shown where people look to see if it needs correcting.
        if p.severity or p.false_alarm:
            said = [f"Severity: {escape(p.severity)}"] if p.severity else []
            if p.false_alarm:
                said.append("possible false alarm (still reviewed, to tune what triggered it)")
            lines.append(f"• {' · '.join(said)}")
        if p.meeting_at is not None and p.state is State.MEETING_SCHEDULED:
            lines.append(f"• Meeting: {slack_date(p.meeting_at)}")
        if p.meeting_held_at is not None:
            lines.append(f"• Meeting held {slack_date(p.meeting_held_at)}")
        if p.completed_at is not None:
            lines.append(f"• Completed {slack_date(p.completed_at)}")
        if p.cancelled_at is not None:
            why = escape(p.cancel_reason or "no reason given")
            lines.append(f"• Cancelled {slack_date(p.cancelled_at)}: _{why}_")
        items = (action_items or {}).get(p.id, [])
        lines.append(
            _document_line(p.id, (documents or {}).get(p.id), items, closed=p.state in CLOSED)
        )
        lines += _action_item_lines(p.id, items, today)
        if lost is not None and p.channel_id is not None:
            lines.append(
                "• :warning: I could not post the owner prompt here, so nobody has been asked "
                f"to choose an owner. {prompt_fix(p.channel_id, lost, p.id)}"
            )
        for problem in problems:
            lines.append(f"• :warning: Could not deliver {_undelivered(problem)}")
    if more:
        named = ", ".join(
            f"#{p.id} {escape(short(p.title))}"
            + (" (:warning: meeting overdue)" if now and meeting_overdue(p, policy, now) else "")
            for p in more[:MORE_NAMED]
        )
        others = f" and {len(more) - MORE_NAMED} more" if len(more) > MORE_NAMED else ""
        lines.append(
            f"…and {len(more)} more open here: {named}{others}. "
            f"`/postmortem status #{more[0].id}` shows one in full."
        )
    if unrouted:
        lines.append(_unrouted_line(unrouted, seen_by=unrouted_seen_by))
    return "\n".join(lines)


# How many of a channel's open postmortems `status` shows in full, and names after those.
STATUS_IN_FULL = 5
MORE_NAMED = 20
# Where a title is one of many on a line.
SHORT_TITLE = 80


def short(title: str) -> str:
    """A title cut to fit a line of a list (whole, if it fits)."""
    return title if len(title) <= SHORT_TITLE else title[: SHORT_TITLE - 1].rstrip() + "…"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _postmortems(number: int) -> str:
    """ "1 postmortem has" / "3 postmortems have"."""
    return f"{_count(number, 'postmortem')} {'has' if number == 1 else 'have'}"


def _unrouted_line(unrouted: Sequence[Postmortem], *, seen_by: Sequence[str] = ()) -> str:
    """The postmortems without a channel: named, or, for someone who may not see their
    titles (``seen_by``: the incident managers, who may), counted."""
    if seen_by:
        managers = ", ".join(f"<@{m}>" for m in seen_by)
        return (
            f":warning: {_postmortems(len(unrouted))} no channel (no route matched and no "
            f"DEFAULT_CHANNEL). Their incidents may be private channels', so only the incident "
            f"managers ({managers}) see them (`/postmortem status all`) and bring one into its "
            "incident's channel (`/postmortem move #N` there): ask one of them if yours is one."
        )
    return (
        f":warning: {_postmortems(len(unrouted))} no channel (no route matched and "
        "no DEFAULT_CHANNEL): "
        + ", ".join(f"#{p.id} {escape(short(p.title))}" for p in unrouted[:10])
        + f". Bring one into its incident's channel with `/postmortem move #{unrouted[0].id}` "
        "there."
    )


# Enough to see what needs help; the rest are the most recently resolved, least urgent.
OVERVIEW_LIMIT = 30


def overview_text(
    postmortems: Sequence[Postmortem],
    unrouted: Sequence[Postmortem],
    policy: Policy,
    now: datetime,
    *,
    undeliverable: Mapping[int, list[str]] | None = None,
    limit: int = OVERVIEW_LIMIT,
) -> str:
    """`/postmortem status all`: one line per open postmortem, in the order given (those
    needing help first), each with its channel, state, owner and meeting, and what Slack
    refused for good (``undeliverable``, as `status` lists it) with what to do."""
    if not postmortems and not unrouted:
        return "No postmortem is open in any channel."
    refused = {pid for pid, problems in (undeliverable or {}).items() if problems}
    overdue = sum(1 for p in postmortems if meeting_overdue(p, policy, now))
    lines = [
        f"*{_count(len(postmortems), 'open postmortem')} in every channel*"
        + (f", {len(refused)} whose messages Slack refused" if refused else "")
        + (f", {overdue} with the meeting overdue" if overdue else "")
        + ", those needing help first:"
    ]
    for p in postmortems[:limit]:
        owner = f"<@{p.owner_id}>" if p.owner_id else "_no owner yet_"
        flag = " · :warning: meeting overdue" if meeting_overdue(p, policy, now) else ""
        lines.append(
            f"• *#{p.id} {escape(short(p.title))}* in <#{p.channel_id}> — "
            f"{STATE_LABELS[p.state]} · "
            f"{owner} · {_meeting_line(p, policy)}{flag}"
            + _refused_flag(p, (undeliverable or {}).get(p.id, []))
        )
    if len(postmortems) > limit:
        lines.append(f"…and {len(postmortems) - limit} more, resolved most recently.")
    if unrouted:
        lines.append(_unrouted_line(unrouted))
    lines.append("`/postmortem status #N` in a postmortem's channel shows it in full.")
    return "\n".join(lines)


def _refused_flag(p: Postmortem, problems: list[str]) -> str:
    """For `status all`, in a few words: what Slack refused for good, and what to do."""
    lost, others = _prompt_lost(p, problems)
    if lost is not None and p.channel_id is not None:
        channel, again = f"<#{p.channel_id}>", "`/postmortem start` there again"
        fix = (
            f"unarchive {channel} and run {again}"
            if lost == "is_archived"
            else f"invite me to {channel} (`/invite {APP_MENTION}`) and run {again}"
        )
        return (
            f" · :warning: Slack refused its owner prompt (`{escape(lost)}`), so nobody was "
            f"asked to pick an owner: {fix}, or `/postmortem move #{p.id}` in the right channel"
        )
    if not others:
        return ""
    more = f" and {_count(len(others) - 1, 'more message')}" if len(others) > 1 else ""
    return (
        f" · :warning: could not deliver {_undelivered(others[0])}{more}; "
        f"`/postmortem status #{p.id}` there lists what Slack refused"
    )


def _document_line(
    postmortem_id: int,
    document: Document | None,
    action_items: Sequence[ActionItem],
    *,
    closed: bool = False,
) -> str:
    """How far the document and its action items are, with the command for the next step
    (none once the postmortem is closed: a cancelled one takes no more writing)."""
    dropped = sum(1 for item in action_items if item.dropped)
    done = sum(1 for item in action_items if item.done_at is not None) - dropped
    count = len(action_items)
    items = (
        f"{count} action item{'s' if count != 1 else ''} ({done} done"
        + (f", {dropped} dropped)" if dropped else ")")
        if count
        else "no action items"
        if closed
        else "no action items yet "
        f"({command(postmortem_id, 'action', '@someone YYYY-MM-DD what to do')})"
    )
    if document is None and closed:
        return f"• Document: never started · {items}"
    if document is None:
        return f"• Document: not started ({command(postmortem_id, 'document')}) · {items}"
    written = len(document.written)
    return (
        f"• Document: {written} of {len(Section)} sections written, last changed by "
        f"<@{document.updated_by}> {slack_date(document.updated_at)} · {items} · "
        f"{command(postmortem_id, 'export')} posts it as Markdown"
    )


# A status answer stays short: the rest are in the export.
_MAX_LISTED_ITEMS = 10


def _action_item_lines(
    postmortem_id: int, action_items: Sequence[ActionItem], today: date | None
) -> list[str]:
    """The open action items, each with its number (what `action done N` takes), and which
    are overdue (``today``: in the workspace's zone, as due dates are)."""
    open_items = [item for item in action_items if item.done_at is None]
    lines = [
        f"    {item.number}. {escape(item.text)} — <@{item.owner_id}>, "
        f"due {item.due_on:%a %d %b %Y}"
        + (" — *overdue*" if today is not None and item.due_on < today else "")
        for item in open_items[:_MAX_LISTED_ITEMS]
    ]
    if len(open_items) > _MAX_LISTED_ITEMS:
        lines.append(f"    … and {len(open_items) - _MAX_LISTED_ITEMS} more open")
    if open_items:
        done = command(postmortem_id, "action", f"done {open_items[0].number}")
        lines.append(f"    Mark one done with {done}.")
    return lines


def my_action_items_text(
    items: Sequence[tuple[Postmortem, ActionItem]], total: int, *, today: date
) -> str:
    """``/postmortem action mine``: what one person still owes, soonest due first."""
    if not items:
        return "You have no open action items in any postmortem."
    lines = [f"*Your open action items* ({total}), soonest due first:"]
    for postmortem, item in items:
        overdue = " — *overdue*" if item.due_on < today else ""
        where = f" in <#{postmortem.channel_id}>" if postmortem.channel_id else ""
        # Titles shortened: ten items stay one screen (and far inside Slack's size limit).
        lines.append(
            f"• due {item.due_on:%a %d %b %Y}{overdue} · *{escape(short(postmortem.title))}* "
            f"(#{postmortem.id}){where}, item {item.number}: {escape(item.text)}"
        )
    if total > len(items):
        lines.append(f"… and {total - len(items)} more, due as late or later.")
    lines.append(
        "Mark one done with `/postmortem action #N done M` (postmortem #N, item M), from any "
        "channel, or with the button on its reminder."
    )
    return "\n".join(lines)


def title_input(initial: str | None, *, max_length: int) -> InputBlock:
    return InputBlock(
        block_id=Field.TITLE.value,
        label="Incident title",
        element=PlainTextInputElement(
            action_id=Field.TITLE.value,
            initial_value=initial or None,
            max_length=max_length,
            placeholder="e.g. Checkout errors after deploy",
        ),
    )


def severity_input(initial: str | None = None) -> InputBlock:
    """The severities of ``initial``'s scale, and ``initial`` itself when it is on none (a
    webhook's "high urgency") so it can be kept. With one chosen, "Not set" too: Slack's
    menus cannot be emptied once chosen."""
    offered = list(severity_scale(initial))
    if initial and initial not in offered:
        offered.insert(0, initial)
    options = [Option(text=s[:75], value=s[:150]) for s in offered]
    if initial:
        options.append(Option(text="Not set", value=NO_SEVERITY))
    chosen = next((o for o in options if o.value == initial), None)
    return InputBlock(
        block_id=Field.SEVERITY.value,
        label="Severity",
        optional=True,
        element=StaticSelectElement(
            action_id=Field.SEVERITY.value,
            placeholder="Choose a severity",
            options=options,
            initial_option=chosen,
        ),
    )


def resolved_at_input(initial: datetime) -> InputBlock:
    return InputBlock(
        block_id=Field.RESOLVED_AT.value,
        label="Resolved at",
        element=DateTimePickerElement(
            action_id=Field.RESOLVED_AT.value, initial_date_time=int(initial.timestamp())
        ),
    )


_FALSE_ALARM = Option(text="It was a false alarm (still reviewed, to tune monitoring)", value="yes")


def false_alarm_input(checked: bool = False) -> InputBlock:
    return InputBlock(
        block_id=Field.FALSE_ALARM.value,
        label="False alarm?",
        optional=True,
        element=CheckboxesElement(
            action_id=Field.FALSE_ALARM.value,
            options=[_FALSE_ALARM],
            initial_options=[_FALSE_ALARM] if checked else None,
        ),
    )


def start_modal(
    channel_id: str, title: str | None, now: datetime, *, pagerduty_link: str | None = None
) -> View:
    """The form `/postmortem start` opens when details are missing."""

    def people(field: Field, label: str) -> InputBlock:
        return InputBlock(
            block_id=field.value,
            label=label,
            optional=True,
            element=UserMultiSelectElement(action_id=field.value, placeholder="Choose people"),
        )

    return View(
        type="modal",
        callback_id=Callback.START_MODAL.value,
        private_metadata=channel_id,
        title="Start a postmortem",
        submit="Open postmortem",
        close="Cancel",
        blocks=[
            title_input(title, max_length=MAX_TITLE_LENGTH),
            InputBlock(
                block_id=Field.PAGERDUTY_INCIDENT.value,
                label="PagerDuty incident",
                optional=True,
                hint="Its link, if it is one: its webhook then finds this postmortem "
                "instead of opening a second one.",
                element=PlainTextInputElement(
                    action_id=Field.PAGERDUTY_INCIDENT.value,
                    initial_value=(
                        pagerduty_link
                        if pagerduty_link and len(pagerduty_link) <= MAX_LINK_LENGTH
                        else None
                    ),
                    max_length=MAX_LINK_LENGTH,
                    placeholder="https://your-account.pagerduty.com/incidents/Q1ABC",
                ),
            ),
            severity_input(),
            resolved_at_input(now),
            false_alarm_input(),
            people(Field.LED_RESPONSE, "Initially assigned and led the response"),
            people(Field.PRIMARY_ON_CALL, "Primary on-call for the most affected service"),
            people(
                Field.MANUALLY_TRIGGERED, "Manually triggered the incident (to start the response)"
            ),
        ],
    )
