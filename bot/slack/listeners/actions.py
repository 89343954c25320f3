"""Owner buttons and picker: ack, then let the service decide atomically who wins."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.services.postmortems import PostmortemService
from bot.slack.ids import PICK_CANDIDATE_PATTERN, Action


def register(app: App) -> None:
    app.action(PICK_CANDIDATE_PATTERN)(pick_candidate)
    app.action(Action.CLAIM_SELF.value)(claim_self)
    app.action(Action.PICK_ANYONE.value)(pick_anyone)


def _where(body: dict[str, Any]) -> tuple[str, str]:
    return body["user"]["id"], (body.get("channel") or {}).get("id", "")


def _postmortem_id(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _claim(
    postmortems: PostmortemService, body: dict[str, Any], pid: int | None, owner: str | None
) -> None:
    clicker, channel_id = _where(body)
    if pid is None or owner is None:
        postmortems.tell(
            channel_id=channel_id,
            user_id=clicker,
            text="That button didn't say which postmortem it was for; try `/postmortem status`.",
        )
        return
    postmortems.claim_ownership(
        postmortem_id=pid, owner=owner, chosen_by=clicker, channel_id=channel_id
    )


def pick_candidate(
    ack: Ack, action: dict[str, Any], body: dict[str, Any], postmortems: PostmortemService
) -> None:
    ack()
    pid_text, _, owner = str(action.get("value", "")).partition("|")
    _claim(postmortems, body, _postmortem_id(pid_text), owner or None)


def claim_self(
    ack: Ack, action: dict[str, Any], body: dict[str, Any], postmortems: PostmortemService
) -> None:
    ack()
    _claim(postmortems, body, _postmortem_id(str(action.get("value", ""))), body["user"]["id"])


def pick_anyone(
    ack: Ack, action: dict[str, Any], body: dict[str, Any], postmortems: PostmortemService
) -> None:
    ack()
    block_id = str(action.get("block_id", ""))
    pid = _postmortem_id(block_id.partition(":")[2])
    _claim(postmortems, body, pid, action.get("selected_user"))
