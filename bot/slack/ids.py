"""Every action_id, block_id and callback_id the bot uses, in one place."""

from __future__ import annotations

import re
from enum import StrEnum


class Action(StrEnum):
    PICK_CANDIDATE = "owner.pick_candidate"  # suffixed with ".<n>": one button per candidate
    CLAIM_SELF = "owner.claim_self"
    PICK_ANYONE = "owner.pick_anyone"
    MARK_HELD = "lifecycle.mark_held"  # value: postmortem id
    SNOOZE = "nudge.snooze"  # value: outbox id of the nudge
    ACTION_ITEM_DONE = "action_item.done"  # value: "<postmortem id>:<item number>"


class Callback(StrEnum):
    START_MODAL = "postmortem.start"
    SCHEDULE_MODAL = "postmortem.schedule"
    DOCUMENT_MODAL = "postmortem.document"
    DETAILS_MODAL = "postmortem.details"


class ScheduleField(StrEnum):
    """block_id (== action_id) of each input in the schedule modal."""

    TIME = "meeting_time"
    PARTICIPANTS = "meeting_participants"
    JUSTIFICATION = "meeting_justification"


class Field(StrEnum):
    """block_id (== action_id) of each input in the start modal."""

    TITLE = "title"
    PAGERDUTY_INCIDENT = "pagerduty_incident"
    SEVERITY = "severity"
    RESOLVED_AT = "resolved_at"
    FALSE_ALARM = "false_alarm"
    LED_RESPONSE = "led_response"
    PRIMARY_ON_CALL = "primary_on_call"
    MANUALLY_TRIGGERED = "manually_triggered"


PICK_CANDIDATE_PATTERN = re.compile(rf"^{re.escape(Action.PICK_CANDIDATE.value)}\.\d+$")

# An id a button carries: ASCII digits only (str.isdigit also takes "²", which int() refuses)
# and at most nine of them, so it fits every id column (a 32-bit integer) on both databases.
_ID = re.compile(r"[0-9]{1,9}")


def parse_id(text: object) -> int | None:
    """The postmortem (or outbox) id in a button's value or block_id; None if it names none."""
    return int(text) if isinstance(text, str) and _ID.fullmatch(text) else None


def action_item_ref(postmortem_id: int, number: int) -> str:
    """What an action item's "Mark done" button carries: its postmortem and its number."""
    return f"{postmortem_id}:{number}"


def parse_action_item_ref(text: object) -> tuple[int, int] | None:
    """The (postmortem id, item number) a "Mark done" button names; None if it names none."""
    if not isinstance(text, str):
        return None
    postmortem, _, number = text.partition(":")
    postmortem_id, item_number = parse_id(postmortem), parse_id(number)
    if postmortem_id is None or item_number is None:
        return None
    return postmortem_id, item_number


METADATA_EVENT_TYPE = "postmortem_bot_message"
