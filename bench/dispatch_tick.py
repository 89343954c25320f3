"""One dispatcher tick with 1,000 due rows, over 1,000 vs 1,000,000 rows of outbox history.

    .venv/bin/python -m bench.dispatch_tick --database-url sqlite
    .venv/bin/python -m bench.dispatch_tick --database-url postgresql+psycopg://user@host/db

``sqlite`` uses a temporary file; a PostgreSQL URL names a server, where a scratch database
is created and dropped. History is bulk-loaded (executemany on SQLite, COPY on PostgreSQL)
as already-sent rows. For each history size it reports the median of the claim query alone
(``claim_due`` for 1,000 rows, rolled back, 5 runs) and one full tick: claim, re-check and
send 1,000 messages to a local Slack stand-in, record each ``ts``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from slack_sdk import WebClient
from sqlalchemy import Engine, insert, text

from bot.devtools.scratch_db import scratch_database
from bot.devtools.slack_standin import SlackStandIn
from bot.domain.policy import Policy, WorkingHours
from bot.migrate import upgrade_to_head
from bot.persistence.db import create_db_engine, create_session_factory
from bot.persistence.tables import OutboxRow
from bot.persistence.uow import UnitOfWork
from bot.services.dispatch import Dispatcher
from bot.slack.messenger import SlackMessenger

NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
DUE = 1_000
CHUNK = 50_000
COLUMNS = "kind, channel_id, recipient, params, status, due_at, created_at, attempts, sent_at"
SQLITE_INSERT = f"INSERT INTO outbox ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608


@contextmanager
def scratch(url: str) -> Iterator[str]:
    """A temporary SQLite file, or a scratch database on the PostgreSQL server ``url``."""
    if url.startswith("sqlite"):
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
        return
    with scratch_database(url, "pmbot_bench") as database_url:
        yield database_url


def _history_rows(count: int) -> Iterator[tuple[object, ...]]:
    for n in range(count):
        at = NOW - timedelta(days=30, seconds=n)
        yield ("notice", "C0HISTORY", "U0SOMEONE", "{}", "sent", at, at, 1, at)


def add_history(engine: Engine, count: int) -> None:
    """Bulk-load ``count`` already-sent rows."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            with cursor.copy(f"COPY outbox ({COLUMNS}) FROM STDIN") as copy:
                for row in _history_rows(count):
                    copy.write_row(row)
        else:
            rows = iter(_history_rows(count))
            while chunk := [
                tuple(_sqlite_value(v) for v in r) for _, r in zip(range(CHUNK), rows, strict=False)
            ]:
                cursor.execute("BEGIN")
                cursor.executemany(SQLITE_INSERT, chunk)
                cursor.execute("COMMIT")
        raw.commit()
    finally:
        raw.close()
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))


def _sqlite_value(value: object) -> object:
    # The format SQLAlchemy's DateTime stores on SQLite (naive UTC), so comparisons hold.
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def add_due(engine: Engine, count: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(OutboxRow),
            [
                {
                    "kind": "notice",
                    "channel_id": "C0DUE",
                    "recipient": "U0SOMEONE",
                    "params": {"text": "due"},
                    "status": "pending",
                    "due_at": NOW - timedelta(seconds=n),
                    "created_at": NOW,
                    "attempts": 0,
                }
                for n in range(count)
            ],
        )


def count_rows(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM outbox")).scalar_one())


def time_claim_only(engine: Engine, runs: int = 5) -> float:
    sessions = create_session_factory(engine)
    timings = []
    for _ in range(runs):
        with UnitOfWork(sessions) as uow:
            started = time.perf_counter()
            items = uow.outbox.claim_due(
                now=NOW, worker="bench", lease=timedelta(minutes=2), limit=DUE
            )
            timings.append(time.perf_counter() - started)
            assert len(items) == DUE, len(items)
            uow.rollback()
    return statistics.median(timings) * 1000


def time_tick(engine: Engine, slack: SlackStandIn) -> float:
    dispatcher = Dispatcher(
        uow_factory=lambda: UnitOfWork(create_session_factory(engine)),
        messenger=SlackMessenger(WebClient(base_url=slack.url, token="xoxb-bench")),
        policy=Policy(working_hours=WorkingHours(always=True)),
        worker_id="bench",
        batch_size=DUE,
    )
    started = time.perf_counter()
    report = dispatcher.dispatch_due(now=NOW)
    elapsed = time.perf_counter() - started
    assert report.sent == DUE, report
    return elapsed * 1000


def run(url: str, sizes: list[int]) -> list[tuple[str, int, float, float]]:
    results = []
    with scratch(url) as database_url, SlackStandIn() as slack:
        upgrade_to_head(database_url)
        engine = create_db_engine(database_url)
        backend = engine.dialect.name
        for size in sizes:
            add_history(engine, max(0, size - count_rows(engine)))
            loaded = count_rows(engine)
            add_due(engine, DUE)
            claim_ms = time_claim_only(engine)
            tick_ms = time_tick(engine, slack)
            results.append((backend, loaded, claim_ms, tick_ms))
            print(
                f"{backend:10} history={loaded:>9,}  claim 1,000 due: {claim_ms:7.1f} ms  "
                f"tick (claim+send+record 1,000): {tick_ms:8.0f} ms",
                flush=True,
            )
            slack.reset()
        engine.dispose()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--database-url", default="sqlite", help="'sqlite' or a PostgreSQL URL")
    parser.add_argument(
        "--history", default="1000,1000000", help="comma-separated outbox sizes to measure at"
    )
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.history.split(","))
    run(args.database_url, sizes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
