"""What every webhook endpoint shares: JSON errors, body limits, and pydantic error text."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

MAX_BODY_BYTES = 1_000_000


class BadRequest(Exception):
    """The body cannot be used; the message names what is wrong (answered with 400)."""


def error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message, **extra}, status_code=status)


async def read_body(request: Request) -> bytes | None:
    """The raw body, or None when it is larger than any incident payload should be."""
    body = await request.body()
    return None if len(body) > MAX_BODY_BYTES else body


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
