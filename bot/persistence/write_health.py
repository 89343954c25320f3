"""Whether the database still takes writes, as the app's own transactions found.

``SELECT 1`` answers while every write fails ("database or disk is full", a read-only
replica after a failover, a revoked grant): readiness would say all is well while every
command, click and webhook fails. Writing a row on every probe would cost a transaction per
probe and could itself fill the disk, so readiness asks this instead: a write the app
attempted failed in the last ``window``, and none has been committed since.

The window matters: a replica taken out of rotation gets no more traffic, so no write could
ever prove it healthy again. After ``window`` without a failed write it is ready again; if
writes still fail, the next one says so.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event

# Statements that change rows: a failure of one of these (or of a commit) is a write failure.
_WRITES = ("INSERT", "UPDATE", "DELETE")
WINDOW_SECONDS = 120.0


class WriteHealth:
    def __init__(
        self,
        *,
        window_seconds: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._window = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        # What happened last, in order (a count, not a clock: a commit and its failure can
        # fall in the same clock tick).
        self._events = 0
        self._failed: tuple[int, float, str] | None = None  # (order, when, why)
        self._committed = 0
        # Marks a connection whose transaction changed rows (per watcher: each pops its own).
        self._wrote = f"wrote-{id(self)}"

    def watch(self, engine: Engine) -> None:
        event.listen(engine, "after_cursor_execute", self._after_execute)
        event.listen(engine, "handle_error", self._on_error)
        event.listen(engine, "commit", self._on_commit)
        event.listen(engine, "rollback", self._on_rollback)

    def failing(self) -> str | None:
        """Why writes are failing (one failed lately and none was committed since); else None."""
        with self._lock:
            if self._failed is None:
                return None
            order, when, why = self._failed
            if self._committed > order or self._clock() - when > self._window:
                return None
            return why

    def _after_execute(
        self, conn: Any, cursor: Any, statement: str, *_args: Any, **_kwargs: Any
    ) -> None:
        # Only a statement that changed rows proves the database takes writes: an UPDATE
        # that matched nothing writes no page, and succeeds on a full disk.
        if getattr(cursor, "rowcount", 0) > 0 and statement.lstrip().upper().startswith(_WRITES):
            conn.info[self._wrote] = True

    def _on_error(self, context: Any) -> None:
        if context.is_disconnect or context.connection is None:
            return  # unreachable, not refusing writes: readiness sees that by itself
        statement = (context.statement or "").lstrip().upper()
        # No statement: the failure came from the commit itself.
        if statement and not statement.startswith(_WRITES):
            return
        cause = context.original_exception
        first_line = (str(cause).strip().splitlines() or [""])[0]
        with self._lock:
            self._events += 1
            self._failed = (
                self._events,
                self._clock(),
                f"{type(cause).__name__}: {first_line}"[:300],
            )

    def _on_commit(self, conn: Any) -> None:
        # Fired as the commit starts; a commit that then fails is recorded after this.
        if not conn.info.pop(self._wrote, False):
            return
        with self._lock:
            self._events += 1
            self._committed = self._events

    def _on_rollback(self, conn: Any) -> None:
        conn.info.pop(self._wrote, None)  # rolled back: nothing written
