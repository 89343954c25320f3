"""The baseline: a Bolt sync ``App`` that only acks ``/postmortem`` and ``owner.claim_self``.

Served like the bot (Starlette + ``slack_bolt.adapter.starlette.SlackRequestHandler`` under
uvicorn, access log off) so the ratio bot / ack-only isolates what the bot's own work costs.

    python -m bench.ack_only_app --port 3100 [--process-before-response]

SLACK_SIGNING_SECRET must be set (Bolt verifies signatures itself). An in-process Slack
stand-in answers the single auth.test Bolt makes.
"""

from __future__ import annotations

import argparse
import os

from slack_bolt import Ack, App
from slack_bolt.adapter.starlette import SlackRequestHandler
from slack_sdk import WebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def build_app(
    *, signing_secret: str, process_before_response: bool, slack_api_url: str
) -> Starlette:
    # Like the bot: a client on the Slack stand-in, where Bolt's one auth.test goes (it is
    # cached after the first request; without a reachable API every request would fail).
    client = WebClient(token="xoxb-bench", base_url=slack_api_url)
    bolt = App(
        client=client,
        signing_secret=signing_secret,
        process_before_response=process_before_response,
        token_verification_enabled=False,
    )

    @bolt.command("/postmortem")
    def command(ack: Ack) -> None:
        ack(response_type="ephemeral", text="Acknowledged.")

    @bolt.action("owner.claim_self")
    def claim(ack: Ack) -> None:
        ack()

    handler = SlackRequestHandler(bolt)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/slack/events", events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.ack_only_app")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--process-before-response", action="store_true")
    args = parser.parse_args(argv)
    from bot.devtools.slack_standin import SlackStandIn

    with SlackStandIn() as slack:
        app = build_app(
            signing_secret=os.environ["SLACK_SIGNING_SECRET"],
            process_before_response=args.process_before_response,
            slack_api_url=slack.url,
        )
        uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
