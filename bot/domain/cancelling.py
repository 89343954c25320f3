"""Cancelling a postmortem: who may, and what it is for."""

from __future__ import annotations

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


def check_can_cancel(
    postmortem: Postmortem, *, actor: str, incident_managers: Collection[str] = ()
) -> State:
    """Who may cancel: while nobody owns it, anyone in its channel (as anyone may pick an
    owner); once someone does, the owner, whoever opened it, or an incident manager."""
    state = next_state(postmortem.state, Move.CANCEL)
    if postmortem.owner_id is None:
        return state
    if actor not in (postmortem.owner_id, postmortem.opened_by, *incident_managers):
        opened_by = (
            f", whoever opened it (<@{postmortem.opened_by}>)"
            if is_slack_user(postmortem.opened_by)
            else ""
        )
        raise NotAllowed(
            f"Only the owner <@{postmortem.owner_id}>{opened_by} or an incident manager can "
            f"cancel postmortem #{postmortem.id}. Ask them, saying why."
        )
    return state
