"""Owner buttons and picker: ack, then let the service decide atomically who wins."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.messages import is_slack_user
from bot.services.postmortems import PostmortemService
from bot.slack.ids import PICK_CANDIDATE_PATTERN, Action, parse_id
from bot.slack.listeners.forms import NO_POSTMORTEM_NAMED, apologize_for_click
from bot.slack.people import NotAPerson, why_not_a_person

log = logging.getLogger(__name__)

NO_ONE_NAMED = (
    "That choice didn't name anyone I can make the owner; pick someone from the prompt, or "
    "name them with `/postmortem owner @someone`."
)


def register(app: App) -> None:
    app.action(PICK_CANDIDATE_PATTERN)(ack=acknowledge, lazy=[pick_candidate])
    app.action(Action.CLAIM_SELF.value)(claim_self)
    # The picker offers anyone, and a candidate's button may name a bot the start form let
    # through when Slack could not say what it was: whether the choice is a person needs
    # users.info, a Web API call, so it happens in a lazy listener after the ack. "I'll
    # own it" is always a person.
    app.action(Action.PICK_ANYONE.value)(ack=acknowledge, lazy=[pick_anyone])


def _where(body: dict[str, Any]) -> tuple[str, str]:
    return body["user"]["id"], (body.get("channel") or {}).get("id", "")


def _claim(
    postmortems: PostmortemService, body: dict[str, Any], pid: int | None, owner: str | None
) -> None:
    clicker, channel_id = _where(body)
    if pid is None or owner is None:
        postmortems.tell(channel_id=channel_id, user_id=clicker, text=NO_POSTMORTEM_NAMED)
        return
    postmortems.claim_ownership(
        postmortem_id=pid, owner=owner, chosen_by=clicker, channel_id=channel_id
    )


def pick_candidate(
    action: dict[str, Any], body: dict[str, Any], client: WebClient, postmortems: PostmortemService
) -> None:
    # A lazy listener: Bolt only logs what it raises, so the clicker is told here.
    try:
        pid_text, _, owner = str(action.get("value", "")).partition("|")
        _claim_person(postmortems, client, body, parse_id(pid_text), owner)
    except Exception:
        log.exception("%s failed", action.get("action_id"))
        apologize_for_click(body, teller=postmortems, client=client)


def claim_self(
    ack: Ack, action: dict[str, Any], body: dict[str, Any], postmortems: PostmortemService
) -> None:
    ack()
    _claim(postmortems, body, parse_id(action.get("value")), body["user"]["id"])


def acknowledge(ack: Ack) -> None:
    ack()


def pick_anyone(
    action: dict[str, Any], body: dict[str, Any], client: WebClient, postmortems: PostmortemService
) -> None:
    # A lazy listener: Bolt only logs what it raises, so the clicker is told here.
    try:
        pid = parse_id(str(action.get("block_id", "")).partition(":")[2])
        _claim_person(postmortems, client, body, pid, action.get("selected_user"))
    except Exception:
        log.exception("%s failed", action.get("action_id"))
        apologize_for_click(body, teller=postmortems, client=client)


def _claim_person(
    postmortems: PostmortemService,
    client: WebClient,
    body: dict[str, Any],
    pid: int | None,
    chosen: object,
) -> None:
    """Claim for ``chosen`` unless Slack says it is no person (told to the clicker)."""
    clicker, channel_id = _where(body)
    if pid is None:
        postmortems.tell(channel_id=channel_id, user_id=clicker, text=NO_POSTMORTEM_NAMED)
        return
    if not isinstance(chosen, str) or not is_slack_user(chosen):
        # Slack's buttons and picker always name someone: this click names nobody to claim for.
        postmortems.tell(channel_id=channel_id, user_id=clicker, text=NO_ONE_NAMED)
        return
    refusal = why_not_an_owner(client, chosen)
    if refusal is not None:
        postmortems.tell(channel_id=channel_id, user_id=clicker, text=refusal)
        return
    _claim(postmortems, body, pid, chosen)


def why_not_an_owner(client: WebClient, user_id: str) -> str | None:
    """Why ``user_id`` cannot own a postmortem (a bot, a deactivated account), else None.

    When Slack cannot say, the choice stands (``bot.slack.people``).
    """
    return _refusal(
        client,
        user_id,
        bot=(
            "<@{user}> is a bot. A postmortem needs a person as its owner, someone who can run "
            "the review and see it through: pick someone else."
        ),
        deactivated=(
            "<@{user}>'s account is deactivated, so they can't own this postmortem: "
            "pick someone else."
        ),
    )


def why_not_an_action_item_owner(client: WebClient, user_id: str) -> str | None:
    """Why ``user_id`` cannot own an action item (a bot, a deactivated account), else None."""
    return _refusal(
        client,
        user_id,
        bot=(
            "<@{user}> is a bot. An action item needs a person as its owner, someone who will "
            "see it done: name someone else."
        ),
        deactivated=(
            "<@{user}>'s account is deactivated, so they can't own an action item: "
            "name someone else."
        ),
    )


def _refusal(client: WebClient, user_id: str, *, bot: str, deactivated: str) -> str | None:
    why = why_not_a_person(client, user_id)
    if why is NotAPerson.BOT:
        return bot.format(user=user_id)
    if why is NotAPerson.DEACTIVATED:
        return deactivated.format(user=user_id)
    return None
