"""A small HTTP/1.1 load generator for signed Slack requests (asyncio streams, keep-alive).

httpx costs more CPU per request than the servers under test, so requests are written as
raw bytes on persistent connections and responses are parsed just enough (status line,
Content-Length or chunked body). Only 127.0.0.1 is ever targeted; every loop is bounded by
both a deadline and a request count.

Two modes:

* closed loop: ``connections`` workers, each sends its next request when the previous
  answer arrived → throughput and ack latency under saturation;
* open loop: request ``i`` is scheduled at ``t0 + i / rate``, whatever happened before,
  and its latency is measured from that scheduled time (no coordinated omission: a
  stalled server is charged for the requests that queued behind the stall).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import re
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from urllib.parse import urlencode

HOST = "127.0.0.1"  # never anything else
PATH = "/slack/events"
MAX_OPEN_LOOP_CONNECTIONS = 512
OPENED = re.compile(rb"Opened postmortem #(\d+)")


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    """``v0=HMAC_SHA256(secret, "v0:{ts}:{body}")``, as in tests/support/signing.py."""
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def _slash_command(channel_id: str, user_id: str, text: str, trigger_id: str) -> bytes:
    return urlencode(
        {
            "token": "deprecated-verification-token",
            "team_id": "T0STANDIN",
            "team_domain": "standin",
            "channel_id": channel_id,
            "channel_name": channel_id.lower(),
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": "/postmortem",
            "text": text,
            "api_app_id": "A0STANDIN",
            "response_url": "https://hooks.slack.com/commands/T0STANDIN/1234/5678",
            "trigger_id": trigger_id,
        }
    ).encode()


def _claim_click(channel_id: str, user_id: str, postmortem_id: int) -> bytes:
    payload = {
        "type": "block_actions",
        "team": {"id": "T0STANDIN", "domain": "standin"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": "T0STANDIN"},
        "api_app_id": "A0STANDIN",
        "token": "deprecated",
        "container": {"type": "message", "message_ts": "1700000000.000100", "is_ephemeral": False},
        "trigger_id": "12321423423.333649436676.d8c1bb837935619ccad0f624c448ffb3",
        "channel": {"id": channel_id, "name": channel_id.lower()},
        "message": {"ts": "1700000000.000100", "text": "", "blocks": []},
        "response_url": "https://hooks.slack.com/actions/T0STANDIN/1/abc",
        "actions": [
            {
                "action_id": "owner.claim_self",
                "block_id": f"owner:{postmortem_id}",
                "value": str(postmortem_id),
                "type": "button",
                "action_ts": "1700000000.000200",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


@dataclass
class Workload:
    """What to send next: starts in fresh channels, or clicks on postmortems opened earlier.

    ``Opened postmortem #N`` in a start's answer is remembered (with its channel) so a later
    click phase claims postmortems that exist and are still unclaimed.
    """

    secret: str
    port: int
    tag: str
    kind: str = "start"  # "start" or "click"
    _counter: itertools.count[int] = field(default_factory=itertools.count)
    opened: deque[tuple[int, str]] = field(default_factory=deque)
    starts_acked: int = 0
    last_start_ack: float = 0.0  # time.time() of the last answered start

    def next_request(self) -> tuple[bytes, str, str]:
        """(raw HTTP request, kind, channel) for the next request."""
        n = next(self._counter)
        if self.kind == "click" and self.opened:
            pid, channel = self.opened.popleft()
            body = _claim_click(channel, f"U0CLICK{n % 97}", pid)
            return self._raw(body), "click", channel
        if self.kind == "click":  # nothing opened (the ack-only app): a click all the same
            return self._raw(_claim_click("C0NONE", "U0CLICK", n + 1)), "click", "C0NONE"
        channel = f"C{self.tag}{n:08d}"
        trigger = f"{n}.{self.tag}.bench"
        body = _slash_command(channel, f"U0BENCH{n % 89}", f"start Bench incident {n}", trigger)
        return self._raw(body), "start", channel

    def _raw(self, body: bytes) -> bytes:
        ts = str(int(time.time()))
        head = (
            f"POST {PATH} HTTP/1.1\r\n"
            f"Host: {HOST}:{self.port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"X-Slack-Request-Timestamp: {ts}\r\n"
            f"X-Slack-Signature: {slack_signature(self.secret, ts, body)}\r\n"
            "\r\n"
        )
        return head.encode("ascii") + body

    def answered(self, kind: str, channel: str, status: int, body: bytes) -> None:
        if kind != "start" or status != 200:
            return
        self.starts_acked += 1
        self.last_start_ack = time.time()
        found = OPENED.search(body)
        if found:
            self.opened.append((int(found.group(1)), channel))


# uvicorn closes a keep-alive connection after 5 s idle; a request sent on it as it closes
# fails on the client ("IncompleteReadError"), which says nothing about the server under test.
REUSE_IDLE_SECONDS = 4.0


class Connection:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.last_used = time.perf_counter()

    @property
    def fresh(self) -> bool:
        """Idle for less than the server's keep-alive timeout, with a margin."""
        return time.perf_counter() - self.last_used < REUSE_IDLE_SECONDS

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(HOST, port)
        return cls(reader, writer)

    async def request(self, raw: bytes) -> tuple[int, bytes, bool]:
        """Send ``raw``; return (status, body, whether the connection stays usable)."""
        self.last_used = time.perf_counter()
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = -1
        chunked = False
        keep = True
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                keep = False
        if chunked:
            body = await self._chunked()
        elif length >= 0:
            body = await self.reader.readexactly(length)
        else:
            body = await self.reader.read()
            keep = False
        return status, body, keep

    async def _chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    def close(self) -> None:
        self.writer.close()


@dataclass
class Result:
    """What one load phase measured; latencies in seconds."""

    mode: str
    kind: str
    duration: float
    latencies: list[float]
    statuses: Counter[int]
    errors: Counter[str]
    offered_rate: float | None = None
    connections: int = 0

    @property
    def completed(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        return self.completed / self.duration if self.duration > 0 else 0.0

    def quantile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def summary(self) -> dict[str, object]:
        return {
            "mode": self.mode,
            "kind": self.kind,
            "connections": self.connections,
            "offered_rate": self.offered_rate,
            "duration_s": round(self.duration, 3),
            "completed": self.completed,
            "throughput_rps": round(self.throughput, 1),
            "p50_ms": round(self.quantile(0.50) * 1000, 2),
            "p99_ms": round(self.quantile(0.99) * 1000, 2),
            "max_ms": round(max(self.latencies, default=float("nan")) * 1000, 2),
            "statuses": dict(self.statuses),
            "errors": dict(self.errors),
        }


async def closed_loop(
    workload: Workload, *, connections: int, seconds: float, max_requests: int
) -> Result:
    """``connections`` workers send back to back until ``seconds`` or ``max_requests``."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    budget = iter(range(max_requests))
    start = time.perf_counter()
    deadline = start + seconds

    async def worker() -> None:
        conn: Connection | None = None
        try:
            while time.perf_counter() < deadline and next(budget, None) is not None:
                raw, kind, channel = workload.next_request()
                sent = time.perf_counter()
                try:
                    conn = conn or await Connection.open(workload.port)
                    status, body, keep = await conn.request(raw)
                except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                    errors[type(error).__name__] += 1
                    if conn is not None:
                        conn.close()
                    conn = None
                    await asyncio.sleep(0.01)
                    continue
                latencies.append(time.perf_counter() - sent)
                statuses[status] += 1
                workload.answered(kind, channel, status, body)
                if not keep:
                    conn.close()
                    conn = None
        finally:
            if conn is not None:
                conn.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - start
    return Result("closed", workload.kind, elapsed, latencies, statuses, errors, None, connections)


async def open_loop(
    workload: Workload, *, rate: float, seconds: float, max_requests: int
) -> Result:
    """Send at ``rate`` req/s by the clock; latency counts from each request's scheduled time.

    A request whose time has come takes an idle connection or opens a new one (up to
    ``MAX_OPEN_LOOP_CONNECTIONS``; beyond that it waits, and the wait is charged to it).
    """
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    idle: deque[Connection] = deque()
    opened = 0
    capacity = asyncio.Semaphore(MAX_OPEN_LOOP_CONNECTIONS)
    total = min(max_requests, int(rate * seconds))
    tasks: set[asyncio.Task[None]] = set()

    async def send(scheduled: float) -> None:
        nonlocal opened
        raw, kind, channel = workload.next_request()
        async with capacity:
            conn = idle.pop() if idle else None
            while conn is not None and not conn.fresh:  # the server may be closing it
                conn.close()
                conn = idle.pop() if idle else None
            try:
                if conn is None:
                    conn = await Connection.open(workload.port)
                    opened += 1
                status, body, keep = await conn.request(raw)
            except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                errors[type(error).__name__] += 1
                if conn is not None:
                    conn.close()
                return
            latencies.append(time.perf_counter() - scheduled)
            statuses[status] += 1
            workload.answered(kind, channel, status, body)
            if keep:
                idle.append(conn)
            else:
                conn.close()

    start = time.perf_counter()
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(send(scheduled))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    # Bounded: whatever has not answered 30 s after the schedule ended is counted as lost.
    if tasks:
        _done, pending = await asyncio.wait(set(tasks), timeout=30)
        for task in pending:
            task.cancel()
        errors["timeout_30s"] += len(pending)
    elapsed = time.perf_counter() - start
    while idle:
        idle.pop().close()
    result = Result("open", workload.kind, elapsed, latencies, statuses, errors, rate, opened)
    return result
