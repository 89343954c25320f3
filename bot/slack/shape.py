"""The shape of a signed Slack payload, checked before Bolt and the listeners read it.

The listeners read who and where straight from the payload (``body["user"]["id"]``,
``command["channel_id"]``, an action's ``action_id``): a payload of a shape Slack never
sends (a ``user`` that is null, an action that is a number, a channel id of 70 characters)
failed inside them, logged as a listener failure with a traceback and answered "Sorry", or
had them store an id no Slack object has. Checked here, it is a 400 naming the field (over
HTTP, before Bolt) or an answer naming it (over Socket Mode, in a Bolt middleware).

Only what the listeners read is checked, and only in the payloads they take: slash commands
and interactivity (clicks, form submissions and the like). Events, URL verification and SSL
checks pass as they are: Bolt answers them, and no listener of this bot reads them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.domain.messages import SLACK_CONVERSATION_ID, SLACK_USER_ID

# Interactivity payloads (Bolt tells them apart by ``type``, like this): each comes from a
# person, named in ``user``.
INTERACTIVE_TYPES = frozenset(
    {
        "block_actions",
        "block_suggestion",
        "view_submission",
        "view_closed",
        "shortcut",
        "message_action",
        # Legacy (attachments and dialogs), still sent by Slack to apps that use them.
        "interactive_message",
        "dialog_submission",
        "dialog_cancellation",
        "dialog_suggestion",
        "workflow_step_edit",
    }
)

# Slack's trigger ids ("13345224609.738474920.8088930838d88f008e0") and view ids
# ("V0123ABCDEF") are far shorter. A postmortem opened by hand is stored under a key made of
# one of them (and its channel), which a longer one would not fit.
MAX_SLACK_ID_LENGTH = 100

_USER_ID = re.compile(SLACK_USER_ID)
_CONVERSATION_ID = re.compile(SLACK_CONVERSATION_ID)
_AN_ID = "must be a Slack user id (U… or W…)"
_A_CONVERSATION = "must be a Slack channel or direct message id (C…, G… or D…)"


# What a request is told, followed by what in it is wrong.
MISSING_FIELDS = "the Slack payload is missing fields it needs"


class _Misshapen(Exception):
    """``where`` in the payload is not what Slack sends (the message says what it must be)."""

    def __init__(self, where: str, expected: str) -> None:
        super().__init__(f"{where} {expected}")


def shape_problem(payload: Mapping[str, Any]) -> str | None:
    """What in ``payload`` is of a shape Slack never sends, as ``"user.id must be …"`` (the
    first found); None when every field the listeners read is as Slack sends it."""
    kind = payload.get("type")
    try:
        # Bolt takes any payload with a "command" for a slash command, whatever else it holds.
        if "command" in payload:
            _check_command(payload)
        if isinstance(kind, str) and kind in INTERACTIVE_TYPES:
            _check_interaction(kind, payload)
    except _Misshapen as problem:
        return str(problem)
    return None


def _check_command(command: Mapping[str, Any]) -> None:
    _text(command, "command")
    _matches(command, "user_id", _USER_ID, _AN_ID)
    _matches(command, "channel_id", _CONVERSATION_ID, _A_CONVERSATION)
    # Slack always sends one; only a form needs it (and a start's key is made of it), so a
    # command without one is answered like any other (a form then says it cannot open).
    if "trigger_id" in command:
        _slack_id(command, "trigger_id")
    if "text" in command:
        _text(command, "text", empty=True)


def _check_interaction(kind: str, payload: Mapping[str, Any]) -> None:
    user = _object(payload, "user")
    _matches(user, "id", _USER_ID, _AN_ID, where="user.")
    if payload.get("channel") is not None:  # a click in a form or on the Home tab has none
        channel = _object(payload, "channel")
        _matches(channel, "id", _CONVERSATION_ID, _A_CONVERSATION, where="channel.")
    if kind == "block_actions":
        _check_actions(payload.get("actions"))
    elif kind == "view_submission":
        _check_view(_object(payload, "view"))


def _check_actions(actions: Any) -> None:
    if not isinstance(actions, list) or not actions:
        raise _Misshapen("actions", "must be a non-empty array")
    for number, action in enumerate(actions):
        where = f"actions[{number}]"
        if not isinstance(action, dict):
            raise _Misshapen(where, "must be an object")
        _text(action, "action_id", where=f"{where}.")
        # Null is read as absent (as the listeners do), any other value must be text.
        for field in ("value", "selected_user"):
            if action.get(field) is not None:
                _text(action, field, where=f"{where}.", empty=True)


def _check_view(view: Mapping[str, Any]) -> None:
    _slack_id(view, "id", where="view.")
    _text(view, "callback_id", where="view.", empty=True)
    if "private_metadata" in view:
        _text(view, "private_metadata", where="view.", empty=True)
    state = _object(view, "state", where="view.")
    values = _object(state, "values", where="view.state.")
    # Each block's inputs, by their action_id (the forms read them by name).
    if not all(isinstance(inputs, dict) for inputs in values.values()):
        raise _Misshapen("view.state.values", "must hold an object for each block")


def _object(parent: Mapping[str, Any], field: str, *, where: str = "") -> Mapping[str, Any]:
    value = parent.get(field)
    if not isinstance(value, dict):
        raise _Misshapen(where + field, "must be an object")
    return value


def _text(parent: Mapping[str, Any], field: str, *, where: str = "", empty: bool = False) -> str:
    value = parent.get(field)
    if not isinstance(value, str) or (not empty and not value):
        raise _Misshapen(where + field, "must be text" if empty else "must be non-empty text")
    return value


def _slack_id(parent: Mapping[str, Any], field: str, *, where: str = "") -> None:
    value = _text(parent, field, where=where)
    if len(value) > MAX_SLACK_ID_LENGTH:
        raise _Misshapen(where + field, f"must be at most {MAX_SLACK_ID_LENGTH} characters")


def _matches(
    parent: Mapping[str, Any],
    field: str,
    pattern: re.Pattern[str],
    expected: str,
    *,
    where: str = "",
) -> None:
    value = parent.get(field)
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise _Misshapen(where + field, expected)
