"""The Web API client reuses its connection, and never writes into one the server dropped."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from urllib.error import URLError

import pytest
from slack_sdk.errors import SlackApiError

from bot.devtools.slack_standin import SlackStandIn
from bot.slack.keepalive import KeepAliveWebClient


class CountingServer:
    """A bare HTTP/1.1 server that counts connections and requests; it can drop a connection
    silently after answering, as servers do to idle keep-alive connections."""

    def __init__(self, *, drop_after_each: bool = False, status: int = 200) -> None:
        self.connections = 0
        self.requests: list[bytes] = []
        self._drop = drop_after_each
        self._status = status
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.dropped = threading.Semaphore(0)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/api/"

    def __enter__(self) -> CountingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._sock.close()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        reader = connection.makefile("rb")
        with connection:
            while True:
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    line = reader.readline()
                    if not line:
                        return
                    head += line
                length = next(
                    int(h.split(b":")[1])
                    for h in head.split(b"\r\n")
                    if h.lower().startswith(b"content-length")
                )
                self.requests.append(reader.read(length))
                if self._status == 429:
                    body, extra = b'{"ok": false, "error": "ratelimited"}', b"Retry-After: 7\r\n"
                else:
                    body, extra = json.dumps({"ok": True, "ts": "1.000100"}).encode(), b""
                connection.sendall(
                    f"HTTP/1.1 {self._status} X\r\nContent-Type: application/json\r\n".encode()
                    + extra
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                if self._drop:
                    connection.shutdown(socket.SHUT_RDWR)
                    self.dropped.release()
                    return


def test_consecutive_calls_from_one_thread_share_one_connection() -> None:
    with CountingServer() as server:
        client = KeepAliveWebClient(token="xoxb-test", base_url=server.url, retry_handlers=[])
        for n in range(3):
            assert client.chat_postMessage(channel="C1", text=f"hi {n}")["ts"] == "1.000100"
    assert server.connections == 1
    assert len(server.requests) == 3


def test_a_connection_the_server_dropped_is_replaced_and_nothing_is_sent_twice() -> None:
    with CountingServer(drop_after_each=True) as server:
        # No slack_sdk retries (as in production): a request written into the dropped
        # connection would fail here instead of being quietly sent again.
        client = KeepAliveWebClient(token="xoxb-test", base_url=server.url, retry_handlers=[])
        for n in range(3):
            assert client.chat_postMessage(channel="C1", text=f"hi {n}")["ok"]
            assert server.dropped.acquire(timeout=10)  # the server has hung up on us
    assert server.connections == 3
    # One request per call, in order: none repeated, none lost.
    assert [[f"hi {n}" in r.decode() for n in range(3)] for r in server.requests] == [
        [True, False, False],
        [False, True, False],
        [False, False, True],
    ]


def test_http_errors_still_become_slack_api_errors_with_their_headers() -> None:
    with CountingServer(status=429) as server:
        client = KeepAliveWebClient(token="xoxb-test", base_url=server.url, retry_handlers=[])
        with pytest.raises(SlackApiError) as raised:
            client.chat_postMessage(channel="C1", text="hi")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn() as slack:
        yield slack


def test_calls_from_different_threads_each_get_an_answer(standin: SlackStandIn) -> None:
    client = KeepAliveWebClient(token="xoxb-test", base_url=standin.url, retry_handlers=[])
    answers: list[bool] = []

    def post(n: int) -> None:
        answers.append(bool(client.chat_postMessage(channel="C1", text=f"thread {n}")["ok"]))

    threads = [threading.Thread(target=post, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert answers == [True] * 4
    assert sorted(c.params["text"] for c in standin.calls("chat.postMessage")) == [
        f"thread {n}" for n in range(4)
    ]


def test_a_server_that_cannot_be_reached_raises_what_urlopen_raises() -> None:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
    # Nothing listens there any more: the same URLError slack_sdk's own client would raise,
    # which the messenger turns into a retryable network failure.
    client = KeepAliveWebClient(
        token="xoxb-test", base_url=f"http://127.0.0.1:{port}/api/", retry_handlers=[]
    )
    with pytest.raises(URLError):
        client.chat_postMessage(channel="C1", text="hi")
