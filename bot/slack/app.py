"""Building the Bolt app: listeners registered explicitly, services handed in through context."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.logger.messages import (
    warning_client_prioritized_and_token_skipped,
    warning_token_skipped,
)
from slack_sdk import WebClient

from bot.services.documents import DocumentService
from bot.services.lifecycle import LifecycleService
from bot.services.postmortems import PostmortemService
from bot.slack.listeners import register_all
from bot.slack.listeners.forms import SORRY, apologize_for_click, errors_on_first_input
from bot.slack.people import PeopleCheck
from bot.slack.shape import MISSING_FIELDS, shape_problem
from bot.slack.unhandled import answer_unhandled
from bot.storable_text import cleaned_text

log = logging.getLogger(__name__)


# Bolt's warnings that the token is "unused" or "ignored", false of this bot and alarming to an
# operator reading the log at every start.
_TOKEN_WARNINGS = frozenset(
    {warning_client_prioritized_and_token_skipped(), warning_token_skipped()}
)


def _not_the_token_warning(record: logging.LogRecord) -> bool:
    """Bolt reads SLACK_BOT_TOKEN from the environment by itself and, handed a client (built
    from that same token, keeping one connection alive), warns at every start that the token
    "will be unused": true of its own copy. Handed ``authorize`` too, it warns that the token
    "will be ignored": the client keeps it, and ``authorize`` gives that same token to every
    request."""
    return record.getMessage() not in _TOKEN_WARNINGS


def _authorize_without_calling_slack(client: WebClient) -> Callable[..., AuthorizeResult]:
    """Authorize every request as the one workspace, with the client's bot token, offline.

    Without ``authorize``, Bolt calls ``auth.test`` on the first request (and on each one after
    until a call succeeds), inside the 3 s Slack gives for the ack: with Slack's Web API slow or
    down, every command and click was answered "your installation ... is no longer available,
    please reinstall", or late. The signing secret already proves the request is from Slack,
    and auth.test would only add the bot's own ids (bot_id, bot_user_id), which Bolt uses to
    ignore the bot's own Events API events; this bot listens to no events and reads neither,
    so they are left out and Slack is not called at all. (A listener for events would need
    them: fetch them once at build, in the background, not here.)
    """

    def authorize(
        enterprise_id: str | None, team_id: str | None, user_id: str | None
    ) -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=enterprise_id, team_id=team_id, user_id=user_id, bot_token=client.token
        )

    return authorize


def _refusal(body: dict[str, Any]) -> BoltResponse | None:
    """The answer to a payload of a shape Slack never sends, or None for one to handle.

    Over HTTP the endpoint answers such a payload 400 before Bolt reads it; over Socket Mode
    nothing did, and the listeners failed on it with a traceback. Bolt's Socket Mode adapter
    acknowledges only a 200, so the refusal is a 200 whose answer names the field.
    """
    problem = shape_problem(body)
    if problem is None:
        return None
    log.warning("Slack payload of a shape Slack never sends (refused): %s", problem)
    if not body.get("command"):
        return BoltResponse(status=200, body="")
    text = f"{MISSING_FIELDS[0].upper()}{MISSING_FIELDS[1:]}: {problem}"
    return BoltResponse(
        status=200,
        body=json.dumps({"response_type": "ephemeral", "text": text}),
        headers={"content-type": "application/json"},
    )


def _apology(body: dict[str, Any]) -> dict[str, Any] | None:
    """What to answer when a listener failed: the person must not be left guessing.

    None when the answer cannot carry it: a click's (block_actions) answer shows nothing, so
    the clicker is told in the channel instead (``apologize_for_click``).
    """
    if body.get("command"):
        return {"response_type": "ephemeral", "text": SORRY}
    if body.get("type") == "view_submission":
        # Keep the form open with the user's input, and say so on its first field.
        return errors_on_first_input(body, SORRY)
    return None


# A form's values nest a few levels (block, action, value); a crafted body nesting deeper is
# left as it is rather than walked without end.
_MAX_FORM_DEPTH = 8


def _clean_what_people_typed(body: dict[str, Any]) -> None:
    """A form's values, made storable before any listener reads them: a NUL character
    (which PostgreSQL refuses and SQLite would echo into the channel) is dropped, an unpaired
    surrogate (which no UTF-8 encoder takes) replaced. Slack's own clients send neither; a
    crafted request got "something went wrong" and a traceback. (A command's text is
    cleaned where every listener reads it, in ``commands.parse``: Bolt's lazy listeners
    read a copy of the request this middleware never sees.)"""
    view = body.get("view")
    if isinstance(view, dict) and isinstance(view.get("state"), dict):
        view["state"] = _cleaned(view["state"], _MAX_FORM_DEPTH)


def _cleaned(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return cleaned_text(value)
    if depth <= 0:
        return value
    if isinstance(value, dict):
        return {key: _cleaned(item, depth - 1) for key, item in value.items()}
    if isinstance(value, list):
        return [_cleaned(item, depth - 1) for item in value]
    return value


def build_bolt_app(
    *,
    client: WebClient,
    signing_secret: str,
    postmortems: PostmortemService,
    lifecycle: LifecycleService,
    documents: DocumentService,
    people: PeopleCheck,
) -> App:
    # process_before_response: the listener's own work decides the HTTP answer, with no
    # 10 ms polling for the ack; Web API calls happen later (outbox or lazy listeners).
    bolt_log = logging.getLogger(f"slack_bolt.{App.__name__}")
    if _not_the_token_warning not in bolt_log.filters:
        bolt_log.addFilter(_not_the_token_warning)
    app = App(
        client=client,
        signing_secret=signing_secret,
        process_before_response=True,
        authorize=_authorize_without_calling_slack(client),
        ssl_check_enabled=True,
        # A request no listener takes (a button from an older version, an event the app
        # was never meant to get) reaches the error handler below instead of Bolt's 404,
        # which Slack shows as a failure and retries.
        raise_error_for_unhandled_request=True,
    )

    @app.middleware
    def refuse_misshapen(body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:
        refusal = _refusal(body)
        if refusal is not None:
            return refusal
        next()
        return None

    @app.middleware
    def storable_input(body: dict[str, Any], next: Callable[[], None]) -> None:
        _clean_what_people_typed(body)
        next()

    @app.middleware
    def provide_services(context: dict[str, Any], next: Callable[[], None]) -> None:
        context["postmortems"] = postmortems
        context["lifecycle"] = lifecycle
        context["documents"] = documents
        context["people"] = people
        next()

    @app.error
    def explain_failure(
        error: Exception, body: dict[str, Any], context: dict[str, Any], client: WebClient
    ) -> BoltResponse:
        """A listener failed, or no listener took the request: Slack gets a 200 either way,
        and the person an explanation wherever one can show."""
        body = body if isinstance(body, dict) else {}
        teller = context.get("postmortems")
        if isinstance(error, BoltUnhandledRequestError):
            payload = answer_unhandled(body, teller=teller, client=client)
        else:
            log.exception("listener failed: %s", error, exc_info=error)
            if body.get("type") == "block_actions":
                apologize_for_click(body, teller=teller, client=client)
            payload = _apology(body)
        if payload is None:
            return BoltResponse(status=200, body="")
        return BoltResponse(
            status=200, body=json.dumps(payload), headers={"content-type": "application/json"}
        )

    register_all(app)
    return app
