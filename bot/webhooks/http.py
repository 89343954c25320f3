"""What every webhook endpoint shares: JSON errors, body limits, pydantic error text, and the
checks that keep a permanently bad value from reaching the database (where it would fail
as a 503, and the sender would retry it for days).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError, ValidationInfo
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.domain.postmortem import Postmortem
from bot.domain.resolution import EARLIEST_RESOLUTION
from bot.services.clock import system_clock
from bot.storable_text import NUL, SURROGATE, cleaned_text
from bot.web.body import capped_body
from bot.webhooks.signature import bearer_token_matches, signature_matches

# Arrays and objects nested deeper than this are refused (400). Incident payloads nest a
# few levels (PagerDuty's about five); much deeper would exhaust Python's recursion limit
# while the body is parsed, cleaned or stored.
MAX_DEPTH = 32
TOO_DEEP = f"the body nests arrays and objects more than {MAX_DEPTH} levels deep"


class BadRequest(Exception):
    """The body cannot be used; the message names what is wrong (answered with 400)."""


def error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"ok": False, "error": printable(message), **extra}, status_code=status)


def printable(text: str) -> str:
    """``text`` with unpaired surrogates written as escapes (``\\ud83d``): a message naming
    what a sender got wrong can quote it, and still be encoded as UTF-8."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


async def signed_body(
    request: Request, *, secrets: Sequence[str], header: str, unconfigured: str
) -> bytes | Response:
    """The raw body if it is signed with one of ``secrets``, else the answer to send:
    503 while no secret is set (``unconfigured`` says which), 413 when it is larger than any
    incident payload should be, 401 when the signature in ``header`` does not match."""
    if not secrets:
        return error(503, unconfigured)
    body = await capped_body(request)
    if body is None:
        return error(413, "request body too large")
    if not signature_matches(body, request.headers.get(header), secrets):
        return error(401, f"missing or invalid {header}")
    return body


async def bearer_body(
    request: Request, *, secrets: Sequence[str], unconfigured: str
) -> bytes | Response:
    """The raw body if ``Authorization: Bearer <one of secrets>`` came with it, else the
    answer to send: 503 while no secret is set (``unconfigured`` says which), 401 when the
    token is missing or wrong (checked before the body is read), 413 when the body is larger
    than any incident payload should be."""
    if not secrets:
        return error(503, unconfigured)
    if not bearer_token_matches(request.headers.get("authorization"), secrets):
        return error(401, "missing or invalid Authorization: Bearer <token>")
    body = await capped_body(request)
    if body is None:
        return error(413, "request body too large")
    return body


def parse_json(body: bytes) -> Any:
    """The parsed body, or BadRequest (not JSON; nested so deep the parser gives up)."""
    try:
        return json.loads(body.decode("utf-8"))
    except RecursionError as problem:
        raise BadRequest(TOO_DEEP) from problem
    except (UnicodeDecodeError, ValueError) as problem:
        raise BadRequest(f"the body is not JSON: {problem}") from problem


def check_depth(value: Any) -> None:
    """BadRequest when arrays and objects in ``value`` nest more than ``MAX_DEPTH`` levels.

    Walked without recursion; once it passes, code that recurses (``cleaned``, pydantic,
    the JSON column's encoder) is safe.
    """
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > MAX_DEPTH:
            raise BadRequest(TOO_DEEP)
        pending.extend((child, depth + 1) for child in children)


def describe(problem: ValidationError, prefix: str = "") -> tuple[str, list[str]]:
    """``("event.occurred_at: Input should be …", ["event.occurred_at", …])``."""
    fields, messages = [], []
    for item in problem.errors(include_url=False):
        where = prefix + ".".join(str(part) for part in item["loc"])
        fields.append(where or "(body)")
        messages.append(f"{where or '(body)'}: {item['msg']}")
    return "; ".join(messages), fields


def storable_text(value: str) -> str:
    """``value`` if it can be stored as text; else ValueError (pydantic names the field)."""
    if NUL in value:
        raise ValueError("must not contain a NUL character (\\u0000)")
    if SURROGATE.search(value):
        raise ValueError(
            "must not contain an unpaired UTF-16 surrogate (\\ud800-\\udfff without its "
            "pair): it is not a Unicode character"
        )
    return value


def storable(value: Any) -> Any:
    """``storable_text`` for a pydantic ``BeforeValidator``: it runs before the string's
    own checks, whose message for a surrogate is less clear. Anything but a string is left
    to them."""
    return storable_text(value) if isinstance(value, str) else value


def clean(value: Any) -> Any:
    """``cleaned_text`` for a pydantic ``BeforeValidator`` (anything but a string is left
    to the string's own checks)."""
    return cleaned_text(value) if isinstance(value, str) else value


def cleaned_keys(value: Any) -> Any:
    """Parsed JSON with ``cleaned_text`` applied to every object key (values are kept).

    Before validation: pydantic refuses a key holding an unpaired surrogate, with a message
    that names no field. Recursive: for values ``check_depth`` passed.
    """
    if isinstance(value, dict):
        return {cleaned_text(key): cleaned_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [cleaned_keys(item) for item in value]
    return value


def cleaned(value: Any) -> Any:
    """``cleaned_text`` applied to every string value in parsed JSON (keys are left to
    ``cleaned_keys``). Recursive: for values ``check_depth`` passed."""
    if isinstance(value, str):
        return cleaned_text(value)
    if isinstance(value, dict):
        return {key: cleaned(item) for key, item in value.items()}
    if isinstance(value, list):
        return [cleaned(item) for item in value]
    return value


def validation_now(info: ValidationInfo) -> datetime:
    """The ``now`` a parser passed in the validation context (the service's clock)."""
    now = (info.context or {}).get("now")
    return now if isinstance(now, datetime) else system_clock()


def not_before_2000(value: datetime) -> datetime:
    if value < EARLIEST_RESOLUTION:
        raise ValueError("is before 2000-01-01: too far in the past to be an incident's time")
    return value


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def postmortem_fields(postmortem: Postmortem) -> dict[str, Any]:
    """The postmortem a delivery found or opened, in a webhook's answer: its state too, so a
    tool's delivery log does not read "already_open" as open when the postmortem was
    completed or cancelled (a redelivery then opens nothing)."""
    return {
        "postmortem_id": postmortem.id,
        "channel": postmortem.channel_id,
        "state": postmortem.state.value,
    }
