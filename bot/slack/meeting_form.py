"""The `/postmortem schedule` form: a pure builder and a pure reader."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    DateTimePickerElement,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.meetings import MAX_JUSTIFICATION, suggested_meeting_time
from bot.domain.messages import human_span
from bot.domain.policy import Policy
from bot.domain.postmortem import Postmortem
from bot.slack.blocks import slack_date
from bot.slack.form_values import chosen_people, input_element, moment, submitted_values
from bot.slack.ids import Callback, ScheduleField, parse_id
from bot.slack.text import escape

# Far more people than a postmortem meeting has; it bounds what one submission stores.
MAX_PARTICIPANTS = 50


def schedule_modal(postmortem: Postmortem, policy: Policy, channel_id: str, now: datetime) -> View:
    """Date and time, participants, and a justification for a meeting after the deadline.

    Once the deadline has passed, the form says the postmortem is overdue and asks for the
    reason up front (any time is then after the deadline, so the reason is required).
    """
    deadline = policy.meeting_deadline(postmortem.resolved_at)
    within = human_span(policy.meeting_due.deadline)
    suggested = suggested_meeting_time(postmortem, policy, now)
    # Past the deadline (or too close to it to meet): any time needs a reason.
    overdue = suggested > deadline
    who = (
        "Invite the incident manager and, when they were involved, customer support, account "
        "management and product management."
    )
    if overdue:
        if deadline <= now:
            due = f"is *overdue*: its meeting was due by {slack_date(deadline)}"
        elif suggested == postmortem.meeting_at:  # a late meeting, accepted with a reason
            due = f"has its meeting after the deadline, {slack_date(deadline)}"
        else:
            due = f"is about to be *overdue*: its meeting is due by {slack_date(deadline)}"
        intro = (
            f":warning: *{escape(postmortem.title)}* (#{postmortem.id}) {due}, within {within} "
            "of resolution. Pick the soonest time you can, and say why it is later — a reason "
            "is required. " + who
        )
        why_label = f"Why later than {within} after resolution? (required: it is overdue)"
    else:
        intro = (
            f"*{escape(postmortem.title)}* (#{postmortem.id}) — hold the meeting by "
            f"{slack_date(deadline)}, within {within} of resolution, while context is fresh. " + who
        )
        why_label = f"Why later than {within} after resolution? (only if it is)"
    return View(
        type="modal",
        callback_id=Callback.SCHEDULE_MODAL.value,
        private_metadata=f"{channel_id}|{postmortem.id}",
        title="Schedule the meeting",
        submit="Schedule",
        close="Cancel",
        blocks=[
            ContextBlock(elements=[MarkdownTextObject(text=intro)]),
            InputBlock(
                block_id=ScheduleField.TIME.value,
                label="Meeting date and time",
                element=DateTimePickerElement(
                    action_id=ScheduleField.TIME.value,
                    initial_date_time=int(suggested.timestamp()),
                ),
            ),
            InputBlock(
                block_id=ScheduleField.PARTICIPANTS.value,
                label="Participants",
                optional=True,
                element=UserMultiSelectElement(
                    action_id=ScheduleField.PARTICIPANTS.value,
                    placeholder="Responders, support, account and product people involved",
                    initial_users=list(postmortem.meeting_participants) or None,
                ),
            ),
            InputBlock(
                block_id=ScheduleField.JUSTIFICATION.value,
                label=why_label,
                optional=not overdue,
                element=PlainTextInputElement(
                    action_id=ScheduleField.JUSTIFICATION.value,
                    multiline=True,
                    max_length=MAX_JUSTIFICATION,
                    initial_value=postmortem.meeting_justification or None,
                ),
            ),
        ],
    )


@dataclass(frozen=True)
class ScheduleForm:
    channel_id: str
    postmortem_id: int | None
    at: datetime | None
    # None: not a list of people (a submission Slack's form could not send).
    participants: tuple[str, ...] | None
    justification: str | None


def read_schedule_form(view: dict[str, Any]) -> ScheduleForm:
    """What was submitted; a field Slack's form could not have sent reads as not given
    (the listener then says what to fix), never as an error of ours."""
    values = submitted_values(view)
    channel_id, _, pid = str(view.get("private_metadata") or "").partition("|")
    people = chosen_people(input_element(values, ScheduleField.PARTICIPANTS), MAX_PARTICIPANTS)
    why = input_element(values, ScheduleField.JUSTIFICATION).get("value")
    return ScheduleForm(
        channel_id=channel_id,
        postmortem_id=parse_id(pid),
        at=moment(input_element(values, ScheduleField.TIME).get("selected_date_time")),
        participants=tuple(people) if people is not None else None,
        justification=why.strip() or None if isinstance(why, str) else None,
    )
