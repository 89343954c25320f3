"""The `/postmortem details` form: a pure builder and a pure reader.

The form remembers the details it showed (in ``private_metadata``), so a save changes only
what this person changed, and a detail someone else corrected in the meantime is refused
inline instead of overwritten.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject
from slack_sdk.models.views import View

from bot.domain.details import Details
from bot.domain.messages import human_span
from bot.domain.policy import Policy
from bot.domain.postmortem import MAX_TITLE_LENGTH, Postmortem
from bot.slack.blocks import (
    NO_SEVERITY,
    PRIORITIES,
    SEVERITIES,
    false_alarm_input,
    resolved_at_input,
    severity_input,
    slack_date,
    title_input,
)
from bot.slack.form_values import input_element, json_metadata, metadata_id, submitted_values
from bot.slack.ids import Callback, Field
from bot.slack.start_form import read_start_form
from bot.slack.text import escape

# The title's column; a longer one (a forged submission) is refused inline.
MAX_TITLE = MAX_TITLE_LENGTH


def details_modal(postmortem: Postmortem, policy: Policy, channel_id: str) -> View:
    shown = {
        "title": postmortem.title,
        "severity": postmortem.severity,
        "resolved_at": postmortem.resolved_at.isoformat(),
        "false_alarm": postmortem.false_alarm,
    }
    deadline = policy.meeting_deadline(postmortem.resolved_at)
    intro = (
        f"*{escape(postmortem.title)}* (#{postmortem.id}). Correct what was not known or was "
        "wrong when it opened; the channel is told what changed. The meeting is due within "
        f"{human_span(policy.meeting_due.deadline)} of the resolution (now "
        f"{slack_date(deadline)}), so a new resolution time moves its reminders too; only "
        "the owner, whoever opened it, or an incident manager can change it."
    )
    return View(
        type="modal",
        callback_id=Callback.DETAILS_MODAL.value,
        private_metadata=json.dumps(
            {"channel": channel_id, "postmortem": postmortem.id, "shown": shown},
            ensure_ascii=False,
            separators=(",", ":"),
        ),
        title="Incident details",
        submit="Save",
        close="Cancel",
        blocks=[
            ContextBlock(elements=[MarkdownTextObject(text=intro)]),
            title_input(postmortem.title, max_length=MAX_TITLE),
            severity_input(postmortem.severity),
            resolved_at_input(postmortem.resolved_at),
            false_alarm_input(postmortem.false_alarm),
        ],
    )


@dataclass(frozen=True)
class DetailsForm:
    channel_id: str
    postmortem_id: int | None
    shown: Details | None
    submitted: Details | None
    errors: dict[str, str]


def _shown(metadata: dict[str, Any]) -> Details | None:
    """The details the form showed, as it carries them; None if they are not there."""
    shown = metadata.get("shown")
    if not isinstance(shown, dict):
        return None
    title, severity = shown.get("title"), shown.get("severity")
    resolved, false_alarm = shown.get("resolved_at"), shown.get("false_alarm")
    if (
        not isinstance(title, str)
        or not (severity is None or isinstance(severity, str))
        or not isinstance(resolved, str)
        or not isinstance(false_alarm, bool)
    ):
        return None
    try:
        resolved_at = datetime.fromisoformat(resolved)
    except ValueError:
        return None
    if resolved_at.tzinfo is None:
        return None
    return Details(title, severity, resolved_at, false_alarm)


def _minute(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


def read_details_form(view: dict[str, Any], now: datetime) -> DetailsForm:
    """What the form showed and what was submitted, and an error per block_id for
    anything a person must fix."""
    metadata = json_metadata(view)
    channel_id = metadata.get("channel")
    values = submitted_values(view)
    shown = _shown(metadata)
    # What the form offers (either scale: one opened before P1 to P5 were offered for a P2
    # offered SEV1 to SEV5), and the severity it showed (a webhook's own).
    offered = {
        *SEVERITIES,
        *PRIORITIES,
        *([shown.severity, NO_SEVERITY] if shown and shown.severity else []),
    }
    form, errors = read_start_form(values, now, max_title=MAX_TITLE, severities=offered)
    if input_element(values, Field.RESOLVED_AT).get("selected_date_time") is None:
        # The start form takes "now" for a time not given; here that would move it.
        errors.setdefault(Field.RESOLVED_AT.value, "Pick the date and time it was resolved.")
    submitted = None
    if shown is not None and not errors:
        # The picker has whole minutes: the minute it showed, given back, is the time stored.
        resolved = form["resolved_at"]
        if _minute(resolved) == _minute(shown.resolved_at):
            resolved = shown.resolved_at
        submitted = Details(form["title"], form["severity"], resolved, form["false_alarm"])
    return DetailsForm(
        channel_id=channel_id if isinstance(channel_id, str) else "",
        postmortem_id=metadata_id(metadata.get("postmortem")),
        shown=shown,
        submitted=submitted,
        errors=errors,
    )
