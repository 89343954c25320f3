"""Opening a command's form after its (empty) ack, and saying so when Slack refuses."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

log = logging.getLogger(__name__)


class Teller(Protocol):
    def tell(self, *, channel_id: str, user_id: str, text: str) -> None: ...


def open_form(
    client: WebClient, command: dict[str, Any], view: View, *, teller: Teller, retry: str
) -> None:
    """views.open for ``command``; if it fails, tell the person, who otherwise sees nothing.

    The ack was empty so that the form could open instead; a refused ``views.open`` (an
    expired trigger, Slack unreachable) would leave them waiting for a form that never comes.
    """
    try:
        client.views_open(trigger_id=command["trigger_id"], view=view)
    except (SlackApiError, OSError) as error:  # OSError: Slack unreachable
        reason = error.response.get("error") if isinstance(error, SlackApiError) else "no answer"
        log.warning("views.open for %s failed: %s", command.get("text"), reason)
        teller.tell(
            channel_id=command["channel_id"],
            user_id=command["user_id"],
            text=f"Sorry, Slack wouldn't open the form ({reason}). {retry}",
        )
