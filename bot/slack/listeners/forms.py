"""What listeners share when things go wrong: a form Slack won't open, a button that names no
postmortem, a click whose listener failed or that no listener takes. The person is always
told; never left guessing."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot.domain.errors import DomainError
from bot.slack.text import unlinked

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
        client.views_open(trigger_id=command.get("trigger_id") or "", view=view)
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
    """A click's listener failed: tell the clicker, ephemerally where they clicked."""
    tell_clicker(body, SORRY, teller=teller, client=client)


def tell_clicker(
    body: dict[str, Any], text: str, *, teller: Teller | None, client: WebClient | None
) -> bool:
    """Tell whoever clicked (``body`` is a block_actions payload), ephemerally where they
    clicked, from a click's ack: nobody else can answer a click that failed or that no
    listener took.

    Through the outbox, like every other notice. When that fails too (the database is what
    broke), post it straight from another thread a moment later: this runs before the ack
    is returned, and no Web API call may go out before the ack. False if there is nowhere
    to tell them.
    """
    user = body.get("user")
    channel = body.get("channel")
    user_id = str((user.get("id") if isinstance(user, dict) else None) or "")
    channel_id = str((channel.get("id") if isinstance(channel, dict) else None) or "")
    if not user_id or not channel_id:
        return False  # a click in a modal or on the Home tab: no channel to answer in
    if teller is not None:
        try:
            teller.tell(channel_id=channel_id, user_id=user_id, text=text)
            return True
        except Exception:
            log.exception("could not queue a notice to %s; posting it directly", user_id)
    if client is not None:
        timer = threading.Timer(
            APOLOGY_DELAY_SECONDS, _post_directly, args=(client, channel_id, user_id, text)
        )
        timer.daemon = True
        timer.start()
        return True
    return False


def _post_directly(client: WebClient, channel_id: str, user_id: str, text: str) -> None:
    try:
        client.chat_postEphemeral(channel=channel_id, user=user_id, text=text)
    except (SlackApiError, OSError) as error:
        log.warning("could not post the notice to %s either: %s", user_id, error)


def errors_on_first_input(body: dict[str, Any], text: str) -> dict[str, Any] | None:
    """An answer to a view_submission that keeps the form open, with what the user typed,
    and shows ``text`` on its first input; None when the form has no input to show it on."""
    view = body.get("view")
    blocks = view.get("blocks") if isinstance(view, dict) else None
    if not isinstance(blocks, list):
        return None
    inputs = [b for b in blocks if isinstance(b, dict) and b.get("type") == "input"]
    if not inputs or not isinstance(inputs[0].get("block_id"), str) or not inputs[0]["block_id"]:
        return None
    return {"response_action": "errors", "errors": {inputs[0]["block_id"]: text}}


# The longest inline error a form is answered with; a longer refusal is cut there.
MAX_INLINE_ERROR = 2000


def inline_error(refusal: DomainError) -> str:
    """``refusal`` as a form's inline error (``response_action: errors``), which Slack shows
    as plain text: a mention or a channel link would show as its raw markup, so this is the
    refusal's ``plain_text``, which does without them (any left as words, never markup)."""
    return unlinked(refusal.plain_text)[:MAX_INLINE_ERROR]
