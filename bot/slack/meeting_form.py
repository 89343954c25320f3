"""The `/postmortem schedule` form: a pure builder and a pure reader."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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

from bot.domain.meetings import MAX_JUSTIFICATION
from bot.domain.messages import human_span
from bot.domain.policy import Policy
from bot.domain.postmortem import Postmortem
from bot.slack.blocks import slack_date
from bot.slack.ids import Callback, ScheduleField
from bot.slack.text import escape


def schedule_modal(postmortem: Postmortem, policy: Policy, channel_id: str, now: datetime) -> View:
    """Date and time, participants, and a justification for a meeting after the deadline."""
    deadline = policy.meeting_deadline(postmortem.resolved_at)
    within = human_span(policy.meeting_due.deadline)
    suggested = postmortem.meeting_at or min(deadline, now + timedelta(days=1))
    return View(
        type="modal",
        callback_id=Callback.SCHEDULE_MODAL.value,
        private_metadata=f"{channel_id}|{postmortem.id}",
        title="Schedule the meeting",
        submit="Schedule",
        close="Cancel",
        blocks=[
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"*{escape(postmortem.title)}* (#{postmortem.id}) — "
                        "hold the meeting by "
                        f"{slack_date(deadline)}, within {within} of resolution, while context "
                        "is fresh. Invite the incident manager and, when they were involved, "
                        "customer support, account management and product management."
                    )
                ]
            ),
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
                label=f"Why later than {within} after resolution? (only if it is)",
                optional=True,
                element=PlainTextInputElement(
                    action_id=ScheduleField.JUSTIFICATION.value,
                    multiline=True,
                    max_length=MAX_JUSTIFICATION,
                ),
            ),
        ],
    )


@dataclass(frozen=True)
class ScheduleForm:
    channel_id: str
    postmortem_id: int | None
    at: datetime | None
    participants: tuple[str, ...]
    justification: str | None


def read_schedule_form(view: dict[str, Any]) -> ScheduleForm:
    values: dict[str, Any] = view.get("state", {}).get("values", {})

    def field(name: ScheduleField) -> dict[str, Any]:
        return dict((values.get(name.value) or {}).get(name.value) or {})

    channel_id, _, pid = str(view.get("private_metadata") or "").partition("|")
    epoch = field(ScheduleField.TIME).get("selected_date_time")
    return ScheduleForm(
        channel_id=channel_id,
        postmortem_id=int(pid) if pid.isdigit() else None,
        at=datetime.fromtimestamp(int(epoch), UTC) if epoch is not None else None,
        participants=tuple(field(ScheduleField.PARTICIPANTS).get("selected_users") or ()),
        justification=(field(ScheduleField.JUSTIFICATION).get("value") or "").strip() or None,
    )
