"""A local stand-in for Slack's Socket Mode WebSocket endpoint.

Slack hands a Socket Mode client a ``wss://`` URL from ``apps.connections.open``; the
client connects, Slack says ``hello``, then sends each slash command, click or form
submission as an *envelope* that the app must acknowledge by echoing its
``envelope_id`` (with a ``payload`` where Slack accepts one, e.g. a command's reply).

    with SocketModeStandIn() as socket_mode:
        slack.workspace.socket_mode_url = socket_mode.url
        ... start the bot with SLACK_APP_TOKEN ...
        envelope_id = socket_mode.send("slash_commands", {"command": "/postmortem", ...})
        ack = socket_mode.wait_for_ack(envelope_id)
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from typing import Any, Self

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

JsonDict = dict[str, Any]


class SocketModeStandIn:
    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._connections: list[ServerConnection] = []
        self._acks: dict[str, JsonDict] = {}
        self._tickets = itertools.count(1)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        self._server = serve(self._serve_connection, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        assert self._thread is not None
        self._server.shutdown()
        self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        """What apps.connections.open answers: a fresh ticket each time, as Slack's do."""
        assert self._server is not None
        port = self._server.socket.getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket={next(self._tickets)}"

    # -- what tests do ---------------------------------------------------------------
    def wait_for_connection(self, timeout: float = 30.0) -> None:
        self._wait(lambda: bool(self._connections), timeout, "no Socket Mode client connected")

    def send(self, envelope_type: str, payload: JsonDict) -> str:
        """Deliver ``payload`` to the connected app as Slack would; return its envelope id."""
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": envelope_type != "events_api",
        }
        with self._lock:
            connection = self._connections[-1]
        connection.send(json.dumps(envelope))
        return envelope_id

    def wait_for_ack(self, envelope_id: str, timeout: float = 10.0) -> JsonDict:
        """The app's acknowledgement of the envelope: ``{"envelope_id": …, "payload"?: …}``."""
        self._wait(lambda: envelope_id in self._acks, timeout, f"no ack for {envelope_id}")
        with self._lock:
            return self._acks[envelope_id]

    # -- the server side ---------------------------------------------------------------
    def _serve_connection(self, connection: ServerConnection) -> None:
        connection.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "debug_info": {"host": "standin", "approximate_connection_time": 18060},
                    "connection_info": {"app_id": "A0STANDIN"},
                }
            )
        )
        with self._lock:
            self._connections.append(connection)
            self._lock.notify_all()
        try:
            for message in connection:
                data = json.loads(message)
                if isinstance(data, dict) and "envelope_id" in data:
                    with self._lock:
                        self._acks[str(data["envelope_id"])] = data
                        self._lock.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                self._connections.remove(connection)

    def _wait(self, ready: Any, timeout: float, failure: str) -> None:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not ready():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{failure} within {timeout}s")
                self._lock.wait(left)
