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

from bot.domain.resolution import EARLIEST_RESOLUTION
from bot.services.clock import system_clock
from bot.web.body import capped_body
from bot.webhooks.signature import signature_matches

# JSON can carry a NUL character ("\u0000"); PostgreSQL can store none in a text column.
# (An unpaired surrogate, the other thing no text column takes, is refused by pydantic's
# str validation already.)
_NUL = "\x00"


class BadRequest(Exception):
    """The body cannot be used; the message names what is wrong (answered with 400)."""


def error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message, **extra}, status_code=status)


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


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as problem:
        raise BadRequest(f"the body is not JSON: {problem}") from problem


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
    if _NUL in value:
        raise ValueError("must not contain a NUL character (\\u0000)")
    return value


def cleaned_text(value: str) -> str:
    """Free text from a payload the sender cannot change, made storable: NULs dropped."""
    return value.replace(_NUL, "")


def cleaned(value: Any) -> Any:
    """``cleaned_text`` applied to every string in parsed JSON (keys are kept: a JSON
    column stores them escaped)."""
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
