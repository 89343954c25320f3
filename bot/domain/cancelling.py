"""Cancelling a postmortem: who may, and what it is for."""

from __future__ import annotations

import re
from collections.abc import Collection

from bot.domain.errors import NotAllowed
from bot.domain.lifecycle import Move, State, next_state
from bot.domain.messages import is_slack_user
from bot.domain.postmortem import Postmortem

# What a cancellation's reason is for, said wherever one is asked for: the guidance wants a
# postmortem for every incident where response was triggered, false alarms included.
CANCEL_IS_FOR = (
    "Cancel is for a postmortem opened by mistake or twice for one incident. A false alarm or a "
    "smaller incident than it seemed still gets its postmortem: a short review of why response "
    "was triggered."
)
MAX_CANCEL_REASON_LENGTH = 500
# "false alarm" and nothing more: the one reason the guidance names as not a reason.
_ONLY_A_FALSE_ALARM = re.compile(
    r"^\W*(?:it\s+was\s+)?(?:an?\s+|just\s+a\s+)?false[\s-]*(?:alarm|positive)\W*$", re.IGNORECASE
)


def only_a_false_alarm(reason: str) -> bool:
    """Whether ``reason`` says no more than "it was a false alarm" (not a reason to cancel)."""
    return _ONLY_A_FALSE_ALARM.match(reason) is not None


def check_can_cancel(
    postmortem: Postmortem, *, actor: str, incident_managers: Collection[str] = ()
) -> State:
    """Who may cancel: its owner, whoever opened it, or an incident manager. Not anyone: a
    cancelled postmortem is never escalated, so a real incident's must not quietly go."""
    state = next_state(postmortem.state, Move.CANCEL, postmortem.id)
    if actor in (postmortem.owner_id, postmortem.opened_by, *incident_managers):
        return state
    who = [f"the owner <@{postmortem.owner_id}>"] if postmortem.owner_id else []
    if is_slack_user(postmortem.opened_by):
        who.append(f"whoever opened it (<@{postmortem.opened_by}>)")
    who.append("an incident manager")
    listed = ", ".join(who[:-1]) + f" or {who[-1]}" if len(who) > 1 else who[0]
    instead = (
        "Ask them, saying why."
        if postmortem.owner_id
        else "Ask them, saying why, or take it on yourself first if you are the right owner."
    )
    raise NotAllowed(f"Only {listed} can cancel postmortem #{postmortem.id}. {instead}")
