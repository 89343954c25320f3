"""Reading what a form sends back, whatever shape it arrives in: pure.

Slack's own forms send ``view.state.values`` as block_id → action_id → element, and the
``private_metadata`` the bot gave them. A submission Slack's forms could not have sent reads
as nothing given (the form's reader then says what to fix), never as an error of ours.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bot.domain.messages import is_slack_user


def submitted_values(view: dict[str, Any]) -> dict[str, Any]:
    """``view.state.values`` ({} if it is not there as Slack sends it)."""
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    return values if isinstance(values, dict) else {}


def input_element(values: dict[str, Any], block_id: str) -> dict[str, Any]:
    """What Slack sent for one input, whose block_id is its action_id ({} if nothing)."""
    block = values.get(block_id)
    element = block.get(block_id) if isinstance(block, dict) else None
    return element if isinstance(element, dict) else {}


def json_metadata(view: dict[str, Any]) -> dict[str, Any]:
    """The JSON object the bot put in ``private_metadata`` ({} if it is not one)."""
    try:
        metadata = json.loads(str(view.get("private_metadata") or "{}"))
    except ValueError:
        return {}
    return metadata if isinstance(metadata, dict) else {}


def metadata_id(value: object) -> int | None:
    """An id the bot put in a form's metadata (a JSON integer, never a boolean)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def moment(epoch: object) -> datetime | None:
    """The moment a datetimepicker's ``selected_date_time`` (Unix seconds) names, if any."""
    if isinstance(epoch, bool) or not isinstance(epoch, int | str):
        return None
    try:
        return datetime.fromtimestamp(int(epoch), UTC)
    except (ValueError, OverflowError, OSError):  # not a number, or no representable moment
        return None


def chosen_people(element: dict[str, Any], limit: int) -> list[str] | None:
    """The user ids a multi-user picker sent; None if it sent anything else (or too many)."""
    users = element.get("selected_users") or []
    if not isinstance(users, list) or len(users) > limit:
        return None
    if not all(isinstance(u, str) and is_slack_user(u) for u in users):
        return None
    return list(dict.fromkeys(users))
