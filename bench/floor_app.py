"""The floor: the cheapest start this machine can serve under the issue's HTTP stack.

Not the bot, and not a design for it. The issue fixes the server (uvicorn + Starlette at
``POST /slack/events``); this app keeps exactly that and writes everything behind it by hand,
with nothing but the standard library, so the bench can say what ``≥ 0.5 x the ack-only Bolt
app`` asks of a start with *no* library cost at all:

* the request: the body read whole, Slack's signature and timestamp checked with ``hmac``,
  the form parsed with ``urllib.parse`` — no Bolt;
* the start: one SQLite transaction on the raw ``sqlite3`` driver (WAL, ``synchronous=NORMAL``,
  as the bot) inserting the postmortem (one open per channel, by a partial unique index), its
  audit row and three outbox rows (the owner prompt, the "no owner yet" nudge and its
  escalation) — no SQLAlchemy, no repositories, no domain objects;
* the ack: a JSON body written by hand;
* the owner prompt: an asyncio task on the same event loop claims due prompts, posts each to
  the Slack stand-in as hand-written HTTP/1.1 on kept-alive connections (JSON built from
  dicts, the size of the bot's prompt) and records what was sent, a batch per transaction —
  no threads, no slack_sdk, no Block Kit models.

What it leaves out, and the bot cannot: the owner-criteria candidates and their people, the
deadline's working-day arithmetic, the form for missing details, re-reading a row before
posting, leases for several processes, retries, 429s, every other command. So it is a lower
bound on a start's cost, not a fair competitor.

    python -m bench.floor_app --port 3200 --database PATH --slack-api-url URL

SLACK_SIGNING_SECRET must be set. The outbox table has the bot's ``id``, ``kind`` and
``status`` columns so the bench counts prompts the same way for both.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

ACKNOWLEDGED = b'{"response_type": "ephemeral", "text": "Acknowledged."}'

SCHEMA = """
CREATE TABLE IF NOT EXISTS postmortems (
    id INTEGER PRIMARY KEY,
    channel_id TEXT NOT NULL,
    title TEXT NOT NULL,
    state TEXT NOT NULL,
    opened_by TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    meeting_due_by TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS one_open_postmortem_per_channel
    ON postmortems (channel_id) WHERE state NOT IN ('completed', 'cancelled');
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    postmortem_id INTEGER NOT NULL REFERENCES postmortems (id),
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    details TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    postmortem_id INTEGER NOT NULL REFERENCES postmortems (id),
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    due_at TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    slack_ts TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, due_at);
"""

OPEN = (
    "INSERT INTO postmortems (channel_id, title, state, opened_by, opened_at, meeting_due_by) "
    "VALUES (?, ?, 'awaiting_owner', ?, ?, ?) "
    "ON CONFLICT (channel_id) WHERE state NOT IN ('completed', 'cancelled') DO NOTHING "
    "RETURNING id"
)
AUDIT = "INSERT INTO audit (postmortem_id, at, actor, action, details) VALUES (?, ?, ?, ?, ?)"
PLAN = (
    "INSERT INTO outbox (postmortem_id, kind, status, due_at, channel_id) "
    "VALUES (?, ?, 'pending', ?, ?)"
)
CLAIM = (
    "UPDATE outbox SET status = 'sending' WHERE id IN (SELECT id FROM outbox "
    "WHERE kind = 'owner_prompt' AND status = 'pending' AND due_at <= ? ORDER BY id LIMIT 50) "
    "RETURNING id, postmortem_id, channel_id"
)
SENT = "UPDATE outbox SET status = 'sent', slack_ts = ? WHERE id = ?"
OPEN_NAMED = (
    "INSERT INTO postmortems (channel_id, title, state, opened_by, opened_at, meeting_due_by) "
    "VALUES (:channel, :title, 'awaiting_owner', :actor, :at, :due) "
    "ON CONFLICT (channel_id) WHERE state NOT IN ('completed', 'cancelled') DO NOTHING "
    "RETURNING id"
)
AUDIT_NAMED = (
    "INSERT INTO audit (postmortem_id, at, actor, action, details) "
    "VALUES (:pm, :at, :actor, 'opened', :details)"
)
PLAN_NAMED = (
    "INSERT INTO outbox (postmortem_id, kind, status, due_at, channel_id) "
    "VALUES (:pm, :kind, 'pending', :due, :channel)"
)
CLAIM_NAMED = CLAIM.replace("due_at <= ?", "due_at <= :now")
SENT_NAMED = "UPDATE outbox SET status = 'sent', slack_ts = :ts WHERE id = :id"
SLACK_WINDOW_S = 300
PROMPT_CONNECTIONS = 4
MAX_BACKLOG = 100
LIBRARIES = ("bolt", "sqlalchemy", "slack_sdk")


class Store:
    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.executescript(SCHEMA)

    def open_postmortem(self, channel_id: str, title: str, actor: str) -> int | None:
        now = datetime.now(UTC)
        at = now.isoformat()
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute(
                OPEN, (channel_id, title, actor, at, (now + timedelta(days=7)).isoformat())
            ).fetchone()
            if row is None:
                db.execute("ROLLBACK")
                return None
            postmortem_id = int(row[0])
            db.execute(AUDIT, (postmortem_id, at, actor, "opened", json.dumps({"title": title})))
            db.executemany(
                PLAN,
                [
                    (postmortem_id, "owner_prompt", at, channel_id),
                    (
                        postmortem_id,
                        "nudge_no_owner",
                        (now + timedelta(days=1)).isoformat(),
                        channel_id,
                    ),
                    (
                        postmortem_id,
                        "escalate_no_owner",
                        (now + timedelta(days=2)).isoformat(),
                        channel_id,
                    ),
                ],
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return postmortem_id

    def claim_prompts(self) -> list[tuple[int, int, str]]:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        rows = db.execute(CLAIM, (datetime.now(UTC).isoformat(),)).fetchall()
        db.execute("COMMIT")
        return [(int(a), int(b), str(c)) for a, b, c in rows]

    def record_sent(self, sent: list[tuple[str, int]]) -> None:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        db.executemany(SENT, sent)
        db.execute("COMMIT")

    def title(self, postmortem_id: int) -> str:
        row = self.db.execute("SELECT title FROM postmortems WHERE id = ?", (postmortem_id,))
        return str(row.fetchone()[0])


class SqlAlchemyStore(Store):
    """The same statements through SQLAlchemy Core (``text()``, compiled once, cached)."""

    def __init__(self, path: str) -> None:
        from sqlalchemy import create_engine, event, text

        super().__init__(path)  # creates the schema; its raw connection is only read
        self.engine = create_engine(f"sqlite:///{path}", isolation_level="AUTOCOMMIT")

        @event.listens_for(self.engine, "connect")
        def _pragmas(connection: Any, _: Any) -> None:
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
                connection.execute(f"PRAGMA {pragma}")

        self.text = text
        self.open_sql, self.audit_sql, self.plan_sql = (
            text(OPEN_NAMED),
            text(AUDIT_NAMED),
            text(PLAN_NAMED),
        )
        self.claim_sql, self.sent_sql = text(CLAIM_NAMED), text(SENT_NAMED)

    def open_postmortem(self, channel_id: str, title: str, actor: str) -> int | None:
        now = datetime.now(UTC)
        at = now.isoformat()
        with self.engine.connect() as c:
            c.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                due = (now + timedelta(days=7)).isoformat()
                values = {"channel": channel_id, "title": title, "actor": actor, "at": at}
                row = c.execute(self.open_sql, {**values, "due": due}).first()
                if row is None:
                    c.exec_driver_sql("ROLLBACK")
                    return None
                postmortem_id = int(row[0])
                details = json.dumps({"title": title})
                c.execute(
                    self.audit_sql,
                    {"pm": postmortem_id, "at": at, "actor": actor, "details": details},
                )
                later = [(now + timedelta(days=d)).isoformat() for d in (1, 2)]
                c.execute(
                    self.plan_sql,
                    [
                        {"pm": postmortem_id, "kind": kind, "due": due_at, "channel": channel_id}
                        for kind, due_at in zip(
                            ("owner_prompt", "nudge_no_owner", "escalate_no_owner"),
                            (at, *later),
                            strict=True,
                        )
                    ],
                )
                c.exec_driver_sql("COMMIT")
            except BaseException:
                c.exec_driver_sql("ROLLBACK")
                raise
        return postmortem_id

    def claim_prompts(self) -> list[tuple[int, int, str]]:
        with self.engine.connect() as c:
            c.exec_driver_sql("BEGIN IMMEDIATE")
            rows = c.execute(self.claim_sql, {"now": datetime.now(UTC).isoformat()}).all()
            c.exec_driver_sql("COMMIT")
        return [(int(a), int(b), str(c_)) for a, b, c_ in rows]

    def record_sent(self, sent: list[tuple[str, int]]) -> None:
        with self.engine.connect() as c:
            c.exec_driver_sql("BEGIN IMMEDIATE")
            c.execute(self.sent_sql, [{"ts": ts, "id": outbox_id} for ts, outbox_id in sent])
            c.exec_driver_sql("COMMIT")

    def title(self, postmortem_id: int) -> str:
        with self.engine.connect() as c:
            query = self.text("SELECT title FROM postmortems WHERE id = :id")
            return str(c.execute(query, {"id": postmortem_id}).scalar_one())


def prompt_body(outbox_id: int, postmortem_id: int, channel_id: str, title: str) -> bytes:
    """A chat.postMessage the size and shape of the bot's owner prompt."""
    text = (
        f"Postmortem #{postmortem_id} for *{title}* needs exactly one owner. A single owner "
        "avoids the bystander effect; owning it is not blame. The review is collaborative "
        "and blameless: it looks at systems and decisions, never at a person to blame."
    )
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": "Who meets the owner criteria: nobody was named."}
            ],
        },
        {
            "type": "actions",
            "block_id": f"owner:{postmortem_id}",
            "elements": [
                {
                    "type": "button",
                    "action_id": "owner.claim_self",
                    "text": {"type": "plain_text", "text": "I'll own it"},
                    "value": str(postmortem_id),
                    "style": "primary",
                },
                {
                    "type": "users_select",
                    "action_id": "owner.pick",
                    "placeholder": {"type": "plain_text", "text": "Someone else…"},
                },
            ],
        },
    ]
    message = {
        "channel": channel_id,
        "text": text,
        "blocks": blocks,
        "metadata": {
            "event_type": "postmortem_outbox",
            "event_payload": {"outbox_id": outbox_id, "postmortem_id": postmortem_id},
        },
    }
    return json.dumps(message).encode()


class SlackConnection:
    """One kept-alive HTTP/1.1 connection to the Web API, requests written by hand."""

    def __init__(self, url: str, token: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.token = token
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, method: str, body: bytes) -> dict[str, Any]:
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        head = (
            f"POST {self.prefix}/{method} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Authorization: Bearer {self.token}\r\n"
            "Content-Type: application/json; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        writer.write(head + body)
        header = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in header.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        answer: dict[str, Any] = json.loads(await reader.readexactly(length))
        return answer


def prompt_blocks_with_models(postmortem_id: int, title: str) -> tuple[str, list[Any]]:
    """The same prompt built with slack_sdk's Block Kit models, as the bot builds it."""
    from slack_sdk.models.blocks import (
        ActionsBlock,
        ButtonElement,
        ContextBlock,
        MarkdownTextObject,
        PlainTextObject,
        SectionBlock,
        UserSelectElement,
    )

    text = (
        f"Postmortem #{postmortem_id} for *{title}* needs exactly one owner. A single owner "
        "avoids the bystander effect; owning it is not blame. The review is collaborative "
        "and blameless: it looks at systems and decisions, never at a person to blame."
    )
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=text)),
        ContextBlock(
            elements=[MarkdownTextObject(text="Who meets the owner criteria: nobody was named.")]
        ),
        ActionsBlock(
            block_id=f"owner:{postmortem_id}",
            elements=[
                ButtonElement(
                    action_id="owner.claim_self",
                    text=PlainTextObject(text="I'll own it"),
                    value=str(postmortem_id),
                    style="primary",
                ),
                UserSelectElement(
                    action_id="owner.pick", placeholder=PlainTextObject(text="Someone else…")
                ),
            ],
        ),
    ]
    return text, [block.to_dict() for block in blocks]


class SdkSender:
    """slack_sdk's WebClient (kept-alive, as the bot's) on worker threads."""

    def __init__(self, slack_api_url: str, token: str) -> None:
        from bot.slack.keepalive import KeepAliveWebClient

        self.client = KeepAliveWebClient(token=token, base_url=slack_api_url.rstrip("/") + "/")

    def post(self, outbox_id: int, postmortem_id: int, channel_id: str, title: str) -> str:
        text, blocks = prompt_blocks_with_models(postmortem_id, title)
        answer = self.client.chat_postMessage(
            channel=channel_id,
            text=text,
            blocks=blocks,
            metadata={
                "event_type": "postmortem_outbox",
                "event_payload": {"outbox_id": outbox_id, "postmortem_id": postmortem_id},
            },
        )
        return str(answer.get("ts", ""))


class Pump:
    """Posts due owner prompts as soon as a start commits one.

    Starts wait while more than ``MAX_BACKLOG`` prompts are unposted (``room``): without it
    the event loop serves acks first and prompts fall behind without bound, and an ack that
    only queues work does not count.
    """

    def __init__(
        self, store: Store, slack_api_url: str, token: str, *, slack_sdk: bool = False
    ) -> None:
        self.store = store
        self.sdk = SdkSender(slack_api_url, token) if slack_sdk else None
        self.wake = asyncio.Event()
        self.room = asyncio.Event()
        self.room.set()
        self.backlog = 0
        self.connections = [
            SlackConnection(slack_api_url, token) for _ in range(PROMPT_CONNECTIONS)
        ]

    async def run(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while batch := self.store.claim_prompts():
                shares = [batch[i :: len(self.connections)] for i in range(len(self.connections))]
                results = await asyncio.gather(
                    *(self._post_all(c, s) for c, s in zip(self.connections, shares, strict=True))
                )
                sent = [one for share in results for one in share]
                self.store.record_sent(sent)
                self.backlog -= len(sent)
                if self.backlog <= MAX_BACKLOG:
                    self.room.set()

    def started(self) -> None:
        self.backlog += 1
        if self.backlog > MAX_BACKLOG:
            self.room.clear()
        self.wake.set()

    async def _post_all(
        self, connection: SlackConnection, rows: list[tuple[int, int, str]]
    ) -> list[tuple[str, int]]:
        sent = []
        for outbox_id, postmortem_id, channel_id in rows:
            title = self.store.title(postmortem_id)
            if self.sdk is not None:
                ts = await asyncio.to_thread(
                    self.sdk.post, outbox_id, postmortem_id, channel_id, title
                )
                sent.append((ts, outbox_id))
                continue
            answer = await connection.post(
                "chat.postMessage", prompt_body(outbox_id, postmortem_id, channel_id, title)
            )
            sent.append((str(answer.get("ts", "")), outbox_id))
        return sent


def signed(secret: bytes, headers: dict[bytes, bytes], body: bytes) -> bool:
    stamp = headers.get(b"x-slack-request-timestamp", b"")
    given = headers.get(b"x-slack-signature", b"")
    if not stamp.isdigit() or abs(time.time() - int(stamp)) > SLACK_WINDOW_S:
        return False
    expected = (
        b"v0=" + hmac.new(secret, b"v0:" + stamp + b":" + body, hashlib.sha256).hexdigest().encode()
    )
    return hmac.compare_digest(expected, given)


def bolt_events(
    *, store: Store, pump: Pump, signing_secret: str, slack_api_url: str
) -> Callable[[Request], Awaitable[Response]]:
    """The start dispatched by a Bolt ``App(process_before_response=True)``, as the bot's."""
    from slack_bolt import Ack, App
    from slack_bolt.adapter.starlette import SlackRequestHandler
    from slack_sdk import WebClient

    bolt = App(
        client=WebClient(token="xoxb-bench", base_url=slack_api_url.rstrip("/") + "/"),
        signing_secret=signing_secret,
        process_before_response=True,
        token_verification_enabled=False,
    )

    @bolt.command("/postmortem")
    def command(ack: Ack, command: dict[str, Any]) -> None:
        words = command.get("text", "").split(maxsplit=1)
        if len(words) != 2 or words[0] != "start":
            ack(response_type="ephemeral", text="Acknowledged.")
            return
        postmortem_id = store.open_postmortem(command["channel_id"], words[1], command["user_id"])
        if postmortem_id is None:
            ack(response_type="ephemeral", text="This channel already has an open postmortem.")
            return
        pump.started()
        text = f"Opened postmortem #{postmortem_id}. I asked the channel to pick its owner."
        ack(response_type="ephemeral", text=text)

    handler = SlackRequestHandler(bolt)

    async def events(request: Request) -> Response:
        if b"text=start" in await request.body():  # Starlette keeps the body for Bolt
            await pump.room.wait()
        return await handler.handle(request)

    return events


def build_app(
    *, store: Store, pump: Pump, signing_secret: str, bolt_on: str | None = None
) -> Starlette:
    """``bolt_on``: the Slack API URL, to dispatch through Bolt instead of by hand."""
    secret = signing_secret.encode()

    async def by_hand(request: Request) -> Response:
        body = await request.body()
        headers = {
            b"x-slack-request-timestamp": request.headers.get(
                "x-slack-request-timestamp", ""
            ).encode(),
            b"x-slack-signature": request.headers.get("x-slack-signature", "").encode(),
        }
        if not signed(secret, headers, body):
            return Response(b'{"error": "invalid_signature"}', 401, media_type="application/json")
        form = dict(parse_qsl(body.decode()))
        words = form.get("text", "").split(maxsplit=1)
        if form.get("command") != "/postmortem" or len(words) != 2 or words[0] != "start":
            return Response(ACKNOWLEDGED, media_type="application/json")
        await pump.room.wait()
        postmortem_id = store.open_postmortem(form["channel_id"], words[1], form["user_id"])
        if postmortem_id is None:
            text = "This channel already has an open postmortem."
        else:
            pump.started()
            text = f"Opened postmortem #{postmortem_id}. I asked the channel to pick its owner."
        answer = json.dumps({"response_type": "ephemeral", "text": text}).encode()
        return Response(answer, media_type="application/json")

    async def healthz(_: Request) -> Response:
        return Response(b'{"ok": true}', media_type="application/json")

    events: Callable[[Request], Awaitable[Response]] = by_hand
    if bolt_on is not None:
        events = bolt_events(
            store=store, pump=pump, signing_secret=signing_secret, slack_api_url=bolt_on
        )

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(pump.run())
        try:
            yield
        finally:
            task.cancel()

    return Starlette(
        routes=[
            Route("/slack/events", events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.floor_app")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", required=True, help="a SQLite file path")
    parser.add_argument("--slack-api-url", required=True)
    parser.add_argument(
        "--with",
        dest="libraries",
        action="append",
        default=[],
        choices=LIBRARIES,
        help="put this library back on the start's path (repeatable)",
    )
    args = parser.parse_args(argv)
    store = (
        SqlAlchemyStore(args.database) if "sqlalchemy" in args.libraries else Store(args.database)
    )
    pump = Pump(store, args.slack_api_url, "xoxb-bench", slack_sdk="slack_sdk" in args.libraries)
    app = build_app(
        store=store,
        pump=pump,
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        bolt_on=args.slack_api_url if "bolt" in args.libraries else None,
    )
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
