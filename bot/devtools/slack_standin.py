"""A local stand-in for the Slack Web API, for tests and the offline demo.

Modeled on slackapi/bolt-python's ``tests/mock_web_api_server``, but it binds port 0,
records every request body (decoded) so a test can read the Block Kit a user would
see, remembers what was posted so ``conversations.history`` can answer (see
``slack_workspace``), and can be told to fail, rate-limit or stall a method.

    with SlackStandIn() as slack:
        client = WebClient(base_url=slack.url, token="xoxb-test")
        client.chat_postMessage(channel="C1", text="hi")
        [call] = slack.wait_for("chat.postMessage")
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bot.devtools.loopback import LoopbackServer
from bot.devtools.slack_workspace import (
    DEFAULT_TZ,
    FakeUser,
    FakeWorkspace,
    JsonDict,
    dm_channel,
)
from bot.domain.messages import is_slack_user

# Form fields that slack_sdk sends as JSON strings; tests want the structure.
JSON_FIELDS = frozenset({"blocks", "attachments", "metadata", "view", "files"})


# The scope each method a test may refuse with missing_scope needs (Slack's "needed").
_SCOPE_NEEDED = {
    "conversations.open": "im:write",
    "conversations.history": "channels:history,groups:history,im:history,mpim:history",
    "users.info": "users:read",
    "users.lookupByEmail": "users:read.email",
    "files.getUploadURLExternal": "files:write",
}


@dataclass(frozen=True)
class RecordedCall:
    """One request the stand-in received; ``params`` merges query and body, decoded."""

    method: str
    params: JsonDict
    headers: dict[str, str]
    at: float
    raw_body: str = ""


@dataclass
class _Fault:
    kind: str  # "error" or "ratelimit"
    value: str | int
    remaining: int


class SlackStandIn(LoopbackServer):
    """Answers like the Slack Web API on ``http://127.0.0.1:<port>/api/``.

    Message ``ts`` values come from ``clock`` (default: the real clock), so they
    compare sensibly with ``oldest`` values a caller derives from real times.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self._clock = clock
        self._lock = threading.Condition()
        self._calls: list[RecordedCall] = []
        self._faults: dict[str, deque[_Fault]] = defaultdict(deque)
        self._delays: dict[str, float] = {}
        self.workspace = FakeWorkspace(clock)

    # -- lifecycle -------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"{self.base_url}/api/"

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    def start(self) -> SlackStandIn:
        super().start()
        self.workspace.upload_url_base = self.url
        return self

    # -- what tests read -------------------------------------------------------------
    def calls(self, method: str | None = None) -> list[RecordedCall]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[RecordedCall]:
        """Block until ``count`` calls of ``method`` were recorded; return them."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [c for c in self._calls if c.method == method]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [c.method for c in self._calls]
                    raise AssertionError(
                        f"expected {count} call(s) of {method} within {timeout}s, "
                        f"got {len(found)}; all calls so far: {seen}"
                    )
                self._lock.wait(left)

    def messages(self, channel: str) -> list[JsonDict]:
        """Messages in ``channel``, oldest first (a person's id: the bot's DM with them)."""
        if is_slack_user(channel):
            channel = dm_channel(channel)
        with self._lock:
            return [dict(m) for m in self.workspace.messages[channel]]

    def reset(self) -> None:
        """Forget calls, messages, faults and delays (users and channels stay)."""
        with self._lock:
            self._calls.clear()
            self.workspace.messages.clear()
            self._faults.clear()
            self._delays.clear()

    # -- what tests arrange ----------------------------------------------------------
    def add_user(
        self,
        user_id: str,
        email: str | None = None,
        *,
        tz: str = DEFAULT_TZ,
        real_name: str | None = None,
        is_bot: bool = False,
        **extra: Any,
    ) -> None:
        """Register (or override) what users.info and users.lookupByEmail say."""
        user = FakeUser(user_id, email, tz, real_name or user_id, is_bot, extra)
        with self._lock:
            self.workspace.users[user_id] = user

    def add_channel(self, channel_id: str, name: str, **extra: Any) -> None:
        with self._lock:
            self.workspace.channels[channel_id] = {"id": channel_id, "name": name, **extra}

    def seed_message(self, channel: str, text: str, user: str = "U0SOMEONE", **extra: Any) -> str:
        """Put a message in the channel's history as if someone had posted it; return ts."""
        with self._lock:
            ts = self.workspace.next_ts()
            message = {"type": "message", "user": user, "text": text, "ts": ts, **extra}
            self.workspace.messages[channel].append(message)
            return ts

    def fail_next(self, method: str, error: str = "channel_not_found", count: int = 1) -> None:
        with self._lock:
            self._faults[method].append(_Fault("error", error, count))

    def clear_faults(self) -> None:
        """Slack is well again: every call answers normally from now on."""
        with self._lock:
            self._faults.clear()

    def rate_limit_next(self, method: str, retry_after: int = 1, count: int = 1) -> None:
        with self._lock:
            self._faults[method].append(_Fault("ratelimit", retry_after, count))

    def delay(self, method: str, seconds: float) -> None:
        with self._lock:
            self._delays[method] = seconds

    # -- request handling (called on server threads) ---------------------------------
    def _handle(
        self, method: str, params: JsonDict, headers: dict[str, str], raw: str
    ) -> tuple[int, dict[str, str], JsonDict]:
        self.record(RecordedCall(method, params, headers, self._clock(), raw))
        with self._lock:
            pause = self._delays.get(method, 0.0)
        if pause:
            time.sleep(pause)
        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        token = token or str(params.get("token", ""))
        if not token:
            return 200, {}, {"ok": False, "error": "not_authed"}
        if not token.startswith(("xoxb-", "xoxp-", "xapp-")):
            return 200, {}, {"ok": False, "error": "invalid_auth"}
        # An app-level token opens Socket Mode connections and does nothing else; Slack
        # refuses the mix-up either way round with this error.
        if token.startswith("xapp-") != (method == "apps.connections.open"):
            return 200, {}, {"ok": False, "error": "not_allowed_token_type"}
        with self._lock:
            fault = self._take_fault(method)
            if fault is not None and fault.kind == "ratelimit":
                retry = {"Retry-After": str(fault.value)}
                return 429, retry, {"ok": False, "error": "ratelimited"}
            if fault is not None and fault.value == "missing_scope":
                # As Slack says it: which scope the method needs, and which the token has.
                needed = _SCOPE_NEEDED.get(method, "chat:write")
                refused = {"ok": False, "error": "missing_scope", "needed": needed}
                return 200, {}, {**refused, "provided": "commands,chat:write"}
            if fault is not None:
                return 200, {}, {"ok": False, "error": fault.value}
            return 200, {}, self.workspace.answer(method, params)

    def record(self, call: RecordedCall) -> None:
        with self._lock:
            self._calls.append(call)
            self._lock.notify_all()

    def _take_fault(self, method: str) -> _Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.popleft()
        return fault


def _decode(raw: str, content_type: str, query: str) -> JsonDict:
    params: JsonDict = dict(parse_qsl(query, keep_blank_values=True))
    if raw and "json" in content_type:
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"_invalid_json": raw}
        params.update(body if isinstance(body, dict) else {"_json": body})
    elif raw and "form-urlencoded" in content_type:
        params.update(parse_qsl(raw, keep_blank_values=True))
    for key in JSON_FIELDS & params.keys():
        if isinstance(params[key], str):
            with contextlib.suppress(ValueError):  # a non-JSON value stays as sent
                params[key] = json.loads(params[key])
    return params


def _handler_for(standin: SlackStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Keep-alive clients would otherwise wait ~40 ms per call: headers and body are two
        # writes, and Nagle holds the second until the client's delayed ACK.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self._answer()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

        def _answer(self) -> None:
            parts = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            method = parts.path.removeprefix("/api/").strip("/")
            if method.startswith("_upload/"):  # step 2 of files.uploadV2: raw bytes, no auth
                upload = {
                    "file_id": method.removeprefix("_upload/"),
                    "size": len(body),
                    "text": body.decode("utf-8", "replace"),
                }
                standin.record(RecordedCall("_upload", upload, {}, time.time()))
                self._send(200, {"Content-Type": "text/plain"}, f"OK - {len(body)}".encode())
                return
            raw = body.decode("utf-8", errors="replace")
            headers = {k.lower(): v for k, v in self.headers.items()}
            params = _decode(raw, headers.get("content-type", ""), parts.query)
            status, extra, payload = standin._handle(method, params, headers, raw)
            extra = {"Content-Type": "application/json; charset=utf-8", **extra}
            self._send(status, extra, json.dumps(payload).encode())

        def _send(self, status: int, headers: dict[str, str], data: bytes) -> None:
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(data))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler
