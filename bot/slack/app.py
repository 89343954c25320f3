"""Building the Bolt app: listeners registered explicitly, services handed in through context."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from bot.services.lifecycle import LifecycleService
from bot.services.postmortems import PostmortemService
from bot.slack.listeners import register_all

log = logging.getLogger(__name__)

SORRY = (
    "Sorry — something went wrong on my side and nothing was changed. "
    "Try again in a moment; if it keeps happening, tell whoever runs postmortem-bot."
)


def build_bolt_app(
    *,
    client: WebClient,
    signing_secret: str,
    postmortems: PostmortemService,
    lifecycle: LifecycleService,
) -> App:
    # process_before_response: the listener's own work decides the HTTP answer, with no
    # 10 ms polling for the ack; Web API calls happen later (outbox or lazy listeners).
    app = App(
        client=client,
        signing_secret=signing_secret,
        process_before_response=True,
        token_verification_enabled=False,
        ssl_check_enabled=True,
    )

    @app.middleware
    def provide_services(context: dict[str, Any], next: Callable[[], None]) -> None:
        context["postmortems"] = postmortems
        context["lifecycle"] = lifecycle
        next()

    @app.error
    def explain_failure(error: Exception, body: dict[str, Any]) -> BoltResponse:
        log.exception("listener failed: %s", error, exc_info=error)
        if isinstance(body, dict) and body.get("command"):
            payload = {"response_type": "ephemeral", "text": SORRY}
            return BoltResponse(
                status=200, body=json.dumps(payload), headers={"content-type": "application/json"}
            )
        return BoltResponse(status=200, body="")

    register_all(app)
    return app
