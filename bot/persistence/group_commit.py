"""Group commit: units of work from many threads share one transaction and one commit.

A start or a click is four small statements and a commit; the commit (and opening the
session and transaction around it) costs as much as the statements. Under load, requests
that arrive while a transaction is running are queued, and the next transaction runs them
all: one BEGIN, one COMMIT, one fsync. Nobody waits for a batch to fill — a request that
finds nothing running runs at once, alone — so this adds no latency when the bot is quiet.

The first thread to find nothing running leads: it takes the queue (its own request
first), runs it, commits, wakes the others and hands the lead to the next waiter. Every
caller still returns only after its own work is committed.

A unit of work must only touch the database through the ``UnitOfWork`` it is given, must
not commit or roll back, and must be safe to run again: if any unit of a batch fails, the
batch is rolled back and each unit is run again in its own transaction, so one bad request
never fails, or half-writes, another.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

from bot.persistence.uow import UnitOfWork, UnitOfWorkFactory

T = TypeVar("T")
log = logging.getLogger(__name__)


class _Ticket(Generic[T]):
    def __init__(self, work: Callable[[UnitOfWork], T]) -> None:
        self.work = work
        self.wake = threading.Event()
        self.finished = False
        self.value: T | None = None
        self.error: BaseException | None = None

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]


class GroupCommit:
    def __init__(self, uow_factory: UnitOfWorkFactory, *, max_batch: int = 64) -> None:
        self._uow_factory = uow_factory
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: deque[_Ticket[object]] = deque()
        self._leading = False

    @property
    def queued(self) -> int:
        """Units waiting for the next transaction (for monitoring and tests)."""
        with self._lock:
            return len(self._queue)

    def run(self, work: Callable[[UnitOfWork], T]) -> T:
        """Run ``work`` in a transaction (perhaps shared) and return once it is committed."""
        ticket: _Ticket[T] = _Ticket(work)
        with self._lock:
            self._queue.append(ticket)  # type: ignore[arg-type]
            leads, self._leading = not self._leading, True
        if not leads:
            ticket.wake.wait()  # finished by a leader, or woken unfinished to lead
        if not ticket.finished:
            self._lead()
        return ticket.outcome()

    def _lead(self) -> None:
        with self._lock:
            batch = [self._queue.popleft() for _ in range(min(self._max_batch, len(self._queue)))]
        try:
            self._run_batch(batch)
        finally:
            for ticket in batch:
                if not ticket.finished:  # interrupted (e.g. KeyboardInterrupt) before it ran
                    ticket.error = RuntimeError("the shared transaction was interrupted")
                    ticket.finished = True
                ticket.wake.set()
            with self._lock:
                if self._queue:
                    self._queue[0].wake.set()  # unfinished when it wakes: it leads next
                else:
                    self._leading = False

    def _run_batch(self, batch: list[_Ticket[object]]) -> None:
        committed = False
        try:
            with self._uow_factory() as uow:
                # Repositories hand out domain objects, never ORM rows, so nothing one unit
                # loaded can be served stale (the identity map is weak) to the next.
                values = [ticket.work(uow) for ticket in batch]
                uow.commit()
                committed = True
                for ticket, value in zip(batch, values, strict=True):
                    ticket.value, ticket.finished = value, True
        except Exception as error:
            if committed:  # closing the session failed after the commit: the work is done
                log.warning("closing a committed transaction failed", exc_info=True)
                return
            if len(batch) == 1:
                batch[0].error, batch[0].finished = error, True
                return
            # Someone's unit failed and took the transaction with it: everyone alone, once.
            for ticket in batch:
                self._run_batch([ticket])
