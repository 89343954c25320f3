"""The ASGI app: ``/slack/events``, ``/webhooks/…``, ``/healthz``, ``/readyz``."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import parse_qs

import anyio
import anyio.to_thread
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Lifespan

from bot.slack import commands
from bot.slack.shape import MISSING_FIELDS, shape_problem
from bot.web.body import capped_body

log = logging.getLogger(__name__)

# Listeners run on a few worker threads: off the event loop, so a slow query (or SQLite's
# write lock) never stalls health checks or webhooks; several at once, so concurrent starts
# and clicks share a transaction (group commit); but only a few, because every thread
# competes with the outbox pump for the interpreter. bench/README.md has the measurements
# (1 thread: 98 starts/s; 4: 163; 8: 150, with prompts keeping up).
LISTENER_THREADS = 4


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message}, status_code=status)


# Every request Slack sends has one of these: a slash command, a typed payload (events,
# interactivity), or Slack's SSL check.
_SLACK_FIELDS = ("command", "type", "ssl_check")


def _payload(body: bytes, content_type: str) -> dict[str, object] | None:
    """The request's fields if this is a Slack payload Bolt can read, else None.

    Bolt would raise on some bodies (a 500) and take others for a request its listeners
    merely do not handle (answered 200, like a button from an older version): both are a
    bad request.
    """
    try:
        text = body.decode("utf-8")
        if "application/json" in content_type:
            parsed = json.loads(text)
        else:
            form = parse_qs(text, keep_blank_values=True)
            if "payload" in form:
                parsed = json.loads(form["payload"][0])
            else:
                parsed = {name: values[0] for name, values in form.items()}
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError):
        return None
    if not isinstance(parsed, dict) or not any(parsed.get(f) for f in _SLACK_FIELDS):
        return None
    return parsed


# What Slack sends: a Unix time in seconds (ten digits until the year 2286), and "v0=" with a
# SHA-256 HMAC in lowercase hex. Anything else cannot be signed by Slack, and is refused before
# the verifier sees it: it raised on some (a 400-digit time overflows its float arithmetic;
# hmac.compare_digest refuses a non-ASCII signature), and int() would read non-ASCII digits.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


def _signed_by_slack(verifier: SignatureVerifier, body: bytes, headers: Mapping[str, str]) -> bool:
    """Whether the request carries Slack's signature of ``body``, made in the last 5 minutes."""
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
        return False
    try:
        return verifier.is_valid(body=body, timestamp=timestamp, signature=signature)
    except UnicodeDecodeError:  # a body that is not UTF-8: not something Slack signed
        return False
    except (ValueError, TypeError, OverflowError):
        # What the verifier raised on headers of other shapes: none is expected past the
        # checks above, but a bad signature is a 401 whatever the verifier makes of it.
        return False


def _opens_a_postmortem(payload: dict[str, object]) -> bool:
    """``/postmortem start <title>``: the one request that writes a postmortem and its prompt."""
    if payload.get("command") != commands.COMMAND:
        return False
    request = commands.parse(str(payload.get("text", "")))
    return isinstance(request, commands.Start) and request.title is not None


def slack_endpoint(
    bolt_app: App,
    signing_secret: str,
    before_start: Callable[[], Awaitable[None]] | None = None,
) -> Callable[[Request], object]:
    """``before_start`` runs on the event loop before a start takes a listener thread."""
    verifier = SignatureVerifier(signing_secret)
    listeners = anyio.CapacityLimiter(LISTENER_THREADS)

    async def slack_events(request: Request) -> Response:
        body = await capped_body(request)
        if body is None:
            return _error(413, "request body too large")
        if not _signed_by_slack(verifier, body, request.headers):
            return _error(401, "invalid or stale Slack signature")
        payload = _payload(body, request.headers.get("content-type", ""))
        if payload is None:
            return _error(400, "the request body is not a Slack payload")
        problem = shape_problem(payload)
        if problem is not None:
            # Refused before any listener can fail on it (or store what it holds); one line,
            # no traceback: the sender, not this bot, has something to fix.
            log.warning("Slack payload of a shape Slack never sends (answered 400): %s", problem)
            return _error(400, f"{MISSING_FIELDS}: {problem}")
        if before_start is not None and _opens_a_postmortem(payload):
            # Pacing waits here, on the event loop, so a held-back start never occupies a
            # listener thread that a click or a form submission is waiting for.
            await before_start()
        try:
            # Bolt's sync App does blocking database work inside the listeners: run it on a
            # worker thread so a slow query (or SQLite's write lock) never stalls the event
            # loop, the health checks or other requests.
            bolt_response = await anyio.to_thread.run_sync(
                bolt_app.dispatch, to_bolt_request(request, body), limiter=listeners
            )
            return to_starlette_response(bolt_response)
        except _PAYLOAD_SHAPE_ERRORS as error:
            # Bolt reads some fields before any listener runs (e.g. a form's view "type", which
            # shape_problem leaves to it) and raises on shapes Slack never sends: that is a bad
            # request, not a crash (listeners' own failures never get here: the Bolt app's
            # error handler answers).
            log.warning("Slack payload could not be handled (answered 400): %r", error)
            log.debug("the payload's failure, in full", exc_info=error)
            return _error(400, MISSING_FIELDS)
        except Exception:
            # Anything else (the error handler itself failing, a response that cannot be
            # built) is ours to fix: in full, still answered without a stack trace.
            log.exception("Slack payload could not be handled")
            return _error(400, MISSING_FIELDS)

    return slack_events


# What Bolt raises reading a payload of a shape Slack never sends.
_PAYLOAD_SHAPE_ERRORS = (KeyError, TypeError, AttributeError, ValueError, IndexError)


def build_web_app(
    *,
    bolt_app: App,
    signing_secret: str,
    database_ready: Callable[[], bool],
    write_failure: Callable[[], str | None] | None = None,
    extra_routes: list[Route] | None = None,
    before_start: Callable[[], Awaitable[None]] | None = None,
    lifespan: Lifespan[Starlette] | None = None,
) -> Starlette:
    """``lifespan`` runs around serving under ``serve`` (LiveServer turns it off).

    ``/readyz`` is 503 while the database is unreachable, and while ``write_failure`` says
    why writes are failing (one failed lately and none has been committed since).
    """

    async def healthz(_: Request) -> Response:
        return JSONResponse({"ok": True})

    async def readyz(_: Request) -> Response:
        if not await run_in_threadpool(database_ready):
            return JSONResponse({"ok": False, "database": "unreachable"}, status_code=503)
        failing = write_failure() if write_failure is not None else None
        if failing is not None:
            return JSONResponse(
                {"ok": False, "database": "writes failing", "error": failing}, status_code=503
            )
        return JSONResponse({"ok": True, "database": "reachable"})

    routes = [
        Route(
            "/slack/events",
            slack_endpoint(bolt_app, signing_secret, before_start),
            methods=["POST"],
        ),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        *(extra_routes or []),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
