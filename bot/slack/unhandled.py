"""Answers to signed Slack requests no listener takes: a button or a form from an older
version of the bot (Slack keeps old messages, and open forms, across upgrades), an event, a
shortcut or a command the Slack app sends but this bot has no use for.

Bolt's own answer is a 404, which Slack shows the person as a failure ("This app is not
responding") and, for an event, retries. Here every one is acknowledged with a 200, and the
person is told what to do wherever Slack lets an answer show.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient

from bot.slack.listeners.forms import Teller, errors_on_first_input, tell_clicker

log = logging.getLogger(__name__)

OLD_BUTTON = (
    "That button is from an older version of postmortem-bot and no longer does anything. "
    "`/postmortem status` shows where this channel's postmortems stand, and "
    "`/postmortem help` lists what you can do."
)
OLD_FORM = (
    "This form is from an older version of postmortem-bot and can't be saved. Copy what you "
    "wrote, close the form, and run the command again (`/postmortem help` lists them)."
)
OTHER_COMMAND = "postmortem-bot only answers `/postmortem`: try `/postmortem help`."

# What an older version of the bot left behind in messages and forms: expected after an
# upgrade, so only noted. Anything else (events, shortcuts, commands) means the Slack app is
# set up to send what this bot never asked for: worth an operator's look.
_LEFTOVERS = frozenset({"block_actions", "block_suggestion", "view_submission", "view_closed"})

# Ids in a log line are cut to this length: enough to recognise, never a wall of text.
_ID_LENGTH = 80


def answer_unhandled(
    body: dict[str, Any], *, teller: Teller | None, client: WebClient | None
) -> dict[str, Any] | None:
    """The JSON answer (None: an empty 200) to a request no listener took, said in one log
    line naming what it was."""
    kind = _kind(body)
    payload: dict[str, Any] | None = None
    if kind == "block_actions":
        told = tell_clicker(body, OLD_BUTTON, teller=teller, client=client)
        answered = (
            "acknowledged; the clicker is told it is from an older version"
            if told
            else "acknowledged (no channel to tell the clicker in)"
        )
    elif kind == "view_submission":
        payload = errors_on_first_input(body, OLD_FORM)
        answered = "refused inline" if payload is not None else "acknowledged (the form closes)"
    elif kind == "block_suggestion":
        payload = {"options": []}
        answered = "answered with no options"
    elif kind == "slash command":
        payload = {"response_type": "ephemeral", "text": OTHER_COMMAND}
        answered = "the person is told to use /postmortem"
    else:
        answered = "acknowledged"
    level = logging.INFO if kind in _LEFTOVERS else logging.WARNING
    log.log(level, "Slack %s matched no listener: %s", _named(kind, body), answered)
    return payload


def _kind(body: dict[str, Any]) -> str:
    if body.get("command"):
        return "slash command"
    return str(body.get("type") or "request")


def _named(kind: str, body: dict[str, Any]) -> str:
    """``kind`` and the ids that say which one, e.g. ``block_actions action_id='x'``."""
    ids = " ".join(f"{name}={_short(value)}" for name, value in _ids(kind, body).items())
    return f"{kind} {ids}"


def _ids(kind: str, body: dict[str, Any]) -> dict[str, object]:
    match kind:
        case "block_actions":
            actions = body.get("actions")
            first = _dict(actions[0]) if isinstance(actions, list) and actions else {}
            return {"action_id": first.get("action_id")}
        case "block_suggestion":
            return {"action_id": body.get("action_id")}
        case "view_submission" | "view_closed":
            return {"callback_id": _dict(body.get("view")).get("callback_id")}
        case "event_callback":
            return {"event": _dict(body.get("event")).get("type"), "event_id": body.get("event_id")}
        case "slash command":
            return {"command": body.get("command")}
        case _:
            return {"callback_id": body.get("callback_id")}


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _ID_LENGTH else text[: _ID_LENGTH - 1] + "…"
