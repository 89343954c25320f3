"""A few fixed jobs. What is due is decided from database rows, never from scheduler state."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler

from bot.services.clock import Clock
from bot.services.dispatch import Dispatcher

log = logging.getLogger(__name__)


def _drain(
    dispatcher: Dispatcher, clock: Clock, on_claimed: Callable[[bool], None] | None = None
) -> None:
    report = dispatcher.drain(now=clock, on_claimed=on_claimed)
    if report.claimed:
        log.info(
            "dispatched: %d sent, %d cancelled, %d postponed, %d dead",
            report.sent,
            report.cancelled,
            report.postponed,
            report.dead,
        )


class OutboxPump:
    """Sends new outbox rows as soon as their transaction commits, instead of on the next tick.

    A thread waiting on an Event: a wake-up that arrives while it is draining makes it drain
    once more, so no row committed meanwhile waits for the periodic job.

    It also says when it is behind (it claimed a full batch), so new starts can wait for it
    (``behind``): on one core the web threads would otherwise take the
    interpreter from it and pile up prompts they have promised faster than it posts them.
    """

    def __init__(self, dispatcher: Dispatcher, clock: Clock, idle_seconds: float) -> None:
        self._dispatcher = dispatcher
        self._clock = clock
        self._idle = idle_seconds
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._caught_up = threading.Event()
        self._caught_up.set()
        self._thread = threading.Thread(target=self._run, name="outbox-pump", daemon=True)

    def wake(self, due_at: datetime) -> None:
        if due_at <= self._clock():
            self._wake.set()

    def start(self) -> None:
        self._thread.start()

    @property
    def behind(self) -> bool:
        """Whether the pump is working through a full batch (more rows probably wait)."""
        return not self._caught_up.is_set()

    def _claimed(self, full: bool) -> None:
        if full:
            self._caught_up.clear()
        else:
            self._caught_up.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(timeout=self._idle)
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                _drain(self._dispatcher, self._clock, self._claimed)
            except Exception:
                # The database or Slack hiccuped: the rows stay pending, the next wake retries.
                log.exception("outbox pump: dispatch failed; will retry")
            finally:
                self._caught_up.set()  # a pump that is not draining holds nobody back


def build_scheduler(
    dispatcher: Dispatcher, clock: Clock, interval_seconds: float
) -> BackgroundScheduler:
    """APScheduler (in-memory job store, UTC) with the periodic dispatch job."""
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        _drain,
        "interval",
        seconds=interval_seconds,
        args=[dispatcher, clock],
        id="dispatch-due-outbox",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
    return scheduler
