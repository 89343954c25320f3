"""What listeners share when things go wrong: a form Slack won't open, a button that names no
postmortem, a click whose listener failed. The person is always told; never left guessing."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot.domain.errors import DomainError

log = logging.getLogger(__name__)

SORRY = (
    "Sorry — something went wrong on my side and nothing was changed. "
    "Try again in a moment; if it keeps happening, tell whoever runs postmortem-bot."
)
NO_POSTMORTEM_NAMED = (
    "That button didn't say which postmortem it was for; try `/postmortem status`."
)


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


def answer_after_ack(
    command: dict[str, Any], teller: Teller, work: Callable[[], str], *, not_done: str
) -> None:
    """Run ``work`` past a command's empty ack and tell the person what came of it.

    Past the ack, Bolt's error handler can no longer answer, so whatever happens — the
    answer, a refusal, a failure (``not_done`` says what did not happen) — is said here, as
    an ephemeral through the outbox.
    """
    try:
        text = work()
    except DomainError as refusal:
        text = str(refusal)
    except Exception:
        log.exception("/postmortem %s failed", command.get("text"))
        text = f"Sorry — something went wrong on my side and {not_done}. Try again in a moment."
    teller.tell(channel_id=command["channel_id"], user_id=command["user_id"], text=text)


# Long after the ack (returned within milliseconds of the failure), well within the time a
# person waits for a click to do something.
APOLOGY_DELAY_SECONDS = 1.0


def apologize_for_click(
    body: dict[str, Any], *, teller: Teller | None, client: WebClient | None
) -> None:
    """A click's listener failed: tell the clicker, ephemerally where they clicked.

    Through the outbox, like every other notice. When that fails too (the database is what
    broke), post it straight from another thread a moment later: this runs before the ack
    is returned, and no Web API call may go out before the ack.
    """
    user_id = str((body.get("user") or {}).get("id") or "")
    channel_id = str((body.get("channel") or {}).get("id") or "")
    if not user_id or not channel_id:
        return  # a click in a modal or on the Home tab: no channel to answer in
    if teller is not None:
        try:
            teller.tell(channel_id=channel_id, user_id=user_id, text=SORRY)
            return
        except Exception:
            log.exception("could not queue the apology to %s; posting it directly", user_id)
    if client is not None:
        timer = threading.Timer(
            APOLOGY_DELAY_SECONDS, _post_apology, args=(client, channel_id, user_id)
        )
        timer.daemon = True
        timer.start()


def _post_apology(client: WebClient, channel_id: str, user_id: str) -> None:
    try:
        client.chat_postEphemeral(channel=channel_id, user=user_id, text=SORRY)
    except (SlackApiError, OSError) as error:
        log.warning("could not post the apology to %s either: %s", user_id, error)
