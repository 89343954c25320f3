"""Schedule, held, done, and the nudge buttons: ack first, the service decides."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.completion import artifact_gaps_text
from bot.domain.errors import DomainError
from bot.domain.meetings import MeetingRefused
from bot.services.lifecycle import LifecycleService
from bot.slack import commands
from bot.slack.ids import Action, Callback, ScheduleField, parse_id
from bot.slack.listeners.forms import NO_POSTMORTEM_NAMED, inline_error, open_form
from bot.slack.meeting_form import MAX_PARTICIPANTS, read_schedule_form, schedule_modal
from bot.slack.text import escape

_FORM_FIELDS = {"time": ScheduleField.TIME, "justification": ScheduleField.JUSTIFICATION}


def register(app: App) -> None:
    app.view(Callback.SCHEDULE_MODAL.value)(submit_schedule_form)
    app.action(Action.MARK_HELD.value)(mark_held)
    app.action(Action.SNOOZE.value)(snooze)


def answer(
    ack: Ack, request: commands.Request, command: dict[str, Any], lifecycle: LifecycleService
) -> None:
    """The ephemeral answer to `/postmortem schedule|held|done|cancel` (the schedule form
    opens lazily)."""
    channel_id, user_id = command["channel_id"], command["user_id"]
    try:
        match request:
            case commands.Schedule(which):
                lifecycle.check_can_schedule(
                    channel_id=channel_id, actor=user_id, postmortem_id=which
                )
                ack()
                return
            case commands.Held(which, early, unscheduled):
                held = lifecycle.mark_meeting_held(
                    channel_id=channel_id,
                    actor=user_id,
                    postmortem_id=which,
                    early=early,
                    unscheduled=unscheduled,
                )
                text = f"Marked the meeting for postmortem #{held.id} as held; I told the channel."
            case commands.Done(which):
                done = lifecycle.complete(channel_id=channel_id, actor=user_id, postmortem_id=which)
                number = done.postmortem.id
                text = f"Postmortem #{number} is complete; I told the channel. Thank you!"
                if done.gaps:
                    text += " " + artifact_gaps_text(number, done.gaps)
            case commands.Cancel(reason, which):
                cancelled = lifecycle.cancel(
                    channel_id=channel_id, actor=user_id, reason=reason, postmortem_id=which
                )
                text = (
                    f"Cancelled postmortem #{cancelled.id} ({escape(cancelled.title)}); I told "
                    "the channel why. Its reminders have stopped."
                )
            case _:
                return
    except DomainError as refusal:
        text = str(refusal)
    ack(response_type="ephemeral", text=text)


def open_schedule_form(
    command: dict[str, Any], client: WebClient, lifecycle: LifecycleService
) -> None:
    """Runs after the ack: the trigger_id stays valid for 3 seconds, enough for views.open."""
    request = commands.parse(command.get("text", ""))
    if not isinstance(request, commands.Schedule):
        return
    channel_id = command["channel_id"]
    try:
        postmortem = lifecycle.check_can_schedule(
            channel_id=channel_id, actor=command["user_id"], postmortem_id=request.postmortem_id
        )
    except DomainError:
        return  # the ack already explained why
    open_form(
        client,
        command,
        schedule_modal(postmortem, lifecycle.policy, channel_id, lifecycle.now()),
        teller=lifecycle,
        retry="Try `/postmortem schedule` again.",
    )


def submit_schedule_form(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], lifecycle: LifecycleService
) -> None:
    form = read_schedule_form(view)
    if form.at is None:
        ack(response_action="errors", errors={ScheduleField.TIME.value: "Pick a date and time."})
        return
    if form.participants is None:
        ack(
            response_action="errors",
            errors={
                ScheduleField.PARTICIPANTS.value: "Choose the participants from the list, "
                f"at most {MAX_PARTICIPANTS}."
            },
        )
        return
    try:
        lifecycle.schedule_meeting(
            channel_id=form.channel_id,
            postmortem_id=form.postmortem_id,
            actor=body["user"]["id"],
            at=form.at,
            participants=form.participants,
            justification=form.justification,
        )
    except MeetingRefused as refusal:
        field = _FORM_FIELDS.get(refusal.field, ScheduleField.TIME)
        ack(response_action="errors", errors={field.value: inline_error(refusal)})
        return
    except DomainError as refusal:
        ack(response_action="errors", errors={ScheduleField.TIME.value: inline_error(refusal)})
        return
    ack()


def _clicker(body: dict[str, Any]) -> tuple[str, str]:
    return body["user"]["id"], (body.get("channel") or {}).get("id", "")


def mark_held(
    ack: Ack, action: dict[str, Any], body: dict[str, Any], lifecycle: LifecycleService
) -> None:
    ack()
    user_id, channel_id = _clicker(body)
    postmortem_id = parse_id(action.get("value"))
    if postmortem_id is None:
        lifecycle.tell(channel_id=channel_id, user_id=user_id, text=NO_POSTMORTEM_NAMED)
        return
    try:
        lifecycle.mark_meeting_held(
            channel_id=channel_id, actor=user_id, postmortem_id=postmortem_id
        )
    except DomainError as refusal:
        lifecycle.tell(channel_id=channel_id, user_id=user_id, text=str(refusal))


def snooze(
    ack: Ack, action: dict[str, Any], body: dict[str, Any], lifecycle: LifecycleService
) -> None:
    ack()
    user_id, channel_id = _clicker(body)
    outbox_id = parse_id(action.get("value"))  # the nudge's own id, not the postmortem's
    if outbox_id is None:
        lifecycle.tell(channel_id=channel_id, user_id=user_id, text=NO_POSTMORTEM_NAMED)
        return
    lifecycle.snooze(outbox_id=outbox_id, actor=user_id, channel_id=channel_id)
