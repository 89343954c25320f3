"""A local stand-in for the PagerDuty REST API v2, for tests and the offline demo.

Answers ``GET /oncalls``, ``/users/{id}``, ``/incidents/{id}`` and
``/incidents/{id}/log_entries`` in the shapes PagerDuty's OpenAPI examples print, on
``http://127.0.0.1:<port>``, and records every request (path, query, headers). It can be
told to answer slowly (``delay``) or to fail (``fail_next``: an error status such as 429,
or the connection closed without an answer).

    with PagerDutyStandIn() as pd:
        pd.add_user("PXPGF42", name="Earline Greenholt", email="earline@example.com")
        pd.oncalls = [oncall(user_id="PXPGF42", escalation_policy_id="PY82TC6", level=1)]
        pd.delay("/oncalls", 10)  # an API that does not answer in time
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from bot.devtools.loopback import LoopbackServer

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class PagerDutyCall:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


# A fault's "status" that means: close the connection without answering.
DISCONNECT = 0


@dataclass
class _Fault:
    path_prefix: str
    status: int
    remaining: int


def user_reference(user_id: str, name: str = "") -> JsonDict:
    return {
        "id": user_id,
        "type": "user_reference",
        "summary": name or user_id,
        "self": f"https://api.pagerduty.com/users/{user_id}",
        "html_url": f"https://subdomain.pagerduty.com/users/{user_id}",
    }


def oncall(
    *,
    user_id: str,
    name: str = "",
    escalation_policy_id: str,
    level: int = 1,
    start: str = "2015-03-06T15:28:51-05:00",
    end: str = "2015-03-07T15:28:51-05:00",
) -> JsonDict:
    """One entry of ``GET /oncalls`` (the shape of PagerDuty's documented example)."""
    return {
        "user": user_reference(user_id, name),
        "schedule": {
            "id": "PI7DH85",
            "type": "schedule_reference",
            "summary": "Daily Engineering Rotation",
        },
        "escalation_policy": {
            "id": escalation_policy_id,
            "type": "escalation_policy_reference",
            "summary": "Engineering Escalation Policy",
        },
        "escalation_level": level,
        "start": start,
        "end": end,
    }


class PagerDutyStandIn(LoopbackServer):
    """Answers like PagerDuty's REST API; tests set ``oncalls``, users, incidents, logs."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Condition()
        self._calls: list[PagerDutyCall] = []
        self.oncalls: list[JsonDict] = []
        self.users: dict[str, JsonDict] = {}
        self.incidents: dict[str, JsonDict] = {}
        self.log_entries: dict[str, list[JsonDict]] = {}
        self._delays: dict[str, float] = {}
        self._faults: deque[_Fault] = deque()
        # Set while stopping: a delayed answer stops waiting, so no request outlives the test.
        self._stopping = threading.Event()

    @property
    def url(self) -> str:
        return self.base_url

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    def start(self) -> Self:
        self._stopping.clear()
        return super().start()

    def stop(self) -> None:
        self._stopping.set()
        super().stop()

    def delay(self, path_prefix: str, seconds: float) -> None:
        """Answer requests whose path starts with ``path_prefix`` only after ``seconds``
        (``""`` for every request; 0 to answer at once again). Requests are recorded on
        arrival, before the wait."""
        with self._lock:
            self._delays[path_prefix] = seconds

    def fail_next(self, path_prefix: str = "", *, status: int = DISCONNECT, count: int = 1) -> None:
        """The next ``count`` requests under ``path_prefix`` fail: answered with ``status``
        (e.g. 429, 500), or with ``DISCONNECT`` the connection is closed without an answer
        (what a client sees as a network error)."""
        with self._lock:
            self._faults.append(_Fault(path_prefix, status, count))

    def add_user(self, user_id: str, *, name: str, email: str) -> None:
        """What ``GET /users/{id}`` says about a user."""
        with self._lock:
            self.users[user_id] = {
                **user_reference(user_id, name),
                "type": "user",
                "name": name,
                "email": email,
                "time_zone": "Etc/UTC",
            }

    def calls(self, path_prefix: str = "") -> list[PagerDutyCall]:
        with self._lock:
            return [c for c in self._calls if c.path.startswith(path_prefix)]

    def _pause_for(self, path: str) -> float:
        with self._lock:
            matching = [s for prefix, s in self._delays.items() if path.startswith(prefix)]
        return max(matching, default=0.0)

    def _take_fault(self, path: str) -> int | None:
        with self._lock:
            for fault in self._faults:
                if path.startswith(fault.path_prefix):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault.status
        return None

    def _answer(
        self, path: str, query: dict[str, list[str]], headers: dict[str, str]
    ) -> tuple[int, JsonDict]:
        """The status and body to send; status ``DISCONNECT`` means send nothing."""
        with self._lock:
            self._calls.append(PagerDutyCall(path, query, headers))
            self._lock.notify_all()
        pause = self._pause_for(path)
        if pause > 0:
            self._stopping.wait(pause)
        fault = self._take_fault(path)
        if fault == DISCONNECT:
            return DISCONNECT, {}
        if fault is not None:
            return fault, {"error": {"message": f"Stand-in failure {fault}", "code": 2000}}
        with self._lock:
            if not headers.get("authorization", "").startswith("Token token="):
                return 401, {"error": {"message": "Unauthorized", "code": 2006}}
            parts = path.strip("/").split("/")
            if parts == ["oncalls"]:
                return 200, _page("oncalls", self.oncalls)
            if len(parts) == 2 and parts[0] == "users" and parts[1] in self.users:
                return 200, {"user": self.users[parts[1]]}
            if len(parts) == 2 and parts[0] == "incidents" and parts[1] in self.incidents:
                return 200, {"incident": self.incidents[parts[1]]}
            if len(parts) == 3 and parts[0] == "incidents" and parts[2] == "log_entries":
                return 200, _page("log_entries", self.log_entries.get(parts[1], []))
            return 404, {"error": {"message": "Not Found", "code": 2100}}


def _page(key: str, items: list[JsonDict]) -> JsonDict:
    return {key: items, "limit": 25, "offset": 0, "more": False, "total": None}


def _handler_for(standin: PagerDutyStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, payload = standin._answer(
                parts.path, parse_qs(parts.query, keep_blank_values=True), headers
            )
            if status == DISCONNECT:
                self.close_connection = True
                return
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up waiting (a delayed answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

    return Handler
