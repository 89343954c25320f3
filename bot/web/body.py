"""Reading a request body without letting an unsigned sender decide how much memory it takes."""

from __future__ import annotations

from starlette.requests import Request

# Far above any Slack payload or incident webhook (Slack's own are a few KB), far below
# what would hurt the process.
MAX_BODY_BYTES = 1_000_000


async def capped_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes | None:
    """The body, or None as soon as it is known to be longer than ``limit`` bytes.

    The signature can only be checked on the whole body, so the cap comes first: a declared
    ``Content-Length`` over it is refused before a byte is read, and a chunked body is
    refused at the first chunk that crosses it.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
