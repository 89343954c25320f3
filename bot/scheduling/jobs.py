"""A few fixed jobs. What is due is decided from database rows, never from scheduler state."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler

from bot.services.clock import Clock
from bot.services.dispatch import DeliveryFailed, Dispatcher, Messenger, Outgoing

log = logging.getLogger(__name__)

# The longest stopping waits for the pump: a message already on its way to Slack (the Slack
# client's 10 s timeout) and the recording of it.
STOP_TIMEOUT_SECONDS = 15.0


class GatedMessenger:
    """The dispatchers' messenger, which starts no Slack call once ``close()`` is called.

    Stopping must neither cut a message off half-way (posted, never recorded: the next
    process finds it by its metadata, but only after the 2-minute lease) nor wait for the
    rest of a claimed batch (up to 50 messages, each up to the 10 s Slack timeout). Once
    closed, the next message is answered "not now, try again at once", as a Slack rate limit
    is: the dispatcher records what has reached Slack, then hands that row and the rest of
    its batch back with ``OutboxRepository.defer`` (lease cleared, no attempt counted), so
    the next process or replica sends them straight away. Nothing was sent for them, so
    nothing can be doubled. A call already under way finishes and is recorded as usual.
    """

    def __init__(self, inner: Messenger) -> None:
        self._inner = inner
        self._closed = threading.Event()

    def close(self) -> None:
        self._closed.set()

    def _refuse_if_closed(self) -> None:
        if self._closed.is_set():
            raise DeliveryFailed(
                "shutting down", permanent=False, retry_after=0, said_by_slack=False
            )

    def deliver(self, message: Outgoing) -> str | None:
        self._refuse_if_closed()
        return self._inner.deliver(message)

    def find_delivered(
        self, *, channel_id: str, outbox_id: int, since: datetime, also_in: str | None = None
    ) -> str | None:
        self._refuse_if_closed()
        return self._inner.find_delivered(
            channel_id=channel_id, outbox_id=outbox_id, since=since, also_in=also_in
        )

    def user_timezone(self, user_id: str) -> str | None:
        # Not refused: the dispatcher asks outside its "try again" handling (a refusal would
        # count as a failed attempt), and the answer is cached for an hour anyway.
        return self._inner.user_timezone(user_id)


# Enough to see what is wrong; a whole batch refused says the same thing fifty times.
_ERRORS_LOGGED = 5


def _few(failures: list[str]) -> str:
    more = "; …" if len(failures) > _ERRORS_LOGGED else ""
    return "; ".join(failures[:_ERRORS_LOGGED]) + more


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
    # Each in one line: an operator sees what Slack refused, and why, without a trace (a
    # message that will be retried is said as much as one that died). One Slack did not
    # answer may well be posted: said so, lest someone post it again by hand.
    if report.errors:
        log.warning("Slack did not take %d message(s): %s", len(report.errors), _few(report.errors))
    if report.unanswered:
        log.warning(
            "Slack did not answer in time for %d message(s), which may have been posted: %s; "
            "each is looked for in its conversation before it is sent again",
            len(report.unanswered),
            _few(report.unanswered),
        )


class _Failures:
    """Logs a dispatch failure in full once, then one line while the same one goes on.

    With the database down, the pump and the periodic job fail every few seconds: a stack
    trace each time buried the log (490 lines in 32 s). The first trace says what is wrong;
    the rest only says it still is.
    """

    def __init__(self, who: str) -> None:
        self._who = who
        self._last: str | None = None
        self._lock = threading.Lock()

    def failed(self, error: Exception) -> None:
        first_line = (str(error).strip().splitlines() or [""])[0]
        said = f"{type(error).__name__}: {first_line}"
        with self._lock:
            again, self._last = said == self._last, said
        if again:
            log.warning("%s: dispatch still failing (%s); will retry", self._who, said)
        else:
            log.exception("%s: dispatch failed; will retry", self._who)

    def succeeded(self) -> None:
        with self._lock:
            if self._last is not None:
                log.info("%s: dispatching again", self._who)
            self._last = None


def _drain_periodically(dispatcher: Dispatcher, clock: Clock, failures: _Failures) -> None:
    """The periodic job: its failures are logged here, not as APScheduler's trace per run."""
    try:
        _drain(dispatcher, clock)
    except Exception as error:  # the rows stay pending; the next run retries
        failures.failed(error)
    else:
        failures.succeeded()


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
        self._failures = _Failures("outbox pump")
        self._caught_up = threading.Event()
        self._caught_up.set()
        # Event-loop waiters of the current "behind" spell: woken once when it ends, so a
        # held-back start costs one wake-up, not a timer every few milliseconds.
        self._waiters_lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
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

    async def wait_caught_up(self, timeout: float) -> None:
        """On the calling event loop, wait (at most ``timeout``) until the pump is not behind."""
        if not self.behind:
            return
        loop = asyncio.get_running_loop()
        with self._waiters_lock:
            event = next((e for waiting_loop, e in self._waiters if waiting_loop is loop), None)
            if event is None:
                event = asyncio.Event()
                self._waiters.append((loop, event))
        # Checked again after registering: a catch-up that came in between found nobody to
        # wake, but it is visible here.
        if not self.behind:
            return
        with contextlib.suppress(TimeoutError):  # bounded: the start goes ahead regardless
            await asyncio.wait_for(event.wait(), timeout)

    def _claimed(self, full: bool) -> None:
        if full:
            self._caught_up.clear()
        else:
            self._set_caught_up()

    def _set_caught_up(self) -> None:
        self._caught_up.set()
        with self._waiters_lock:
            waiters, self._waiters = self._waiters, []
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):  # that loop has closed: nobody waits
                loop.call_soon_threadsafe(event.set)

    def stop(self) -> None:
        """Start no new drain (the one under way goes on; ``join`` waits for it)."""
        self._stopping.set()
        self._wake.set()

    def join(self, timeout: float = STOP_TIMEOUT_SECONDS) -> bool:
        """Wait, at most ``timeout``, for the pump to stop; whether it has."""
        if self._thread.is_alive():
            self._thread.join(timeout=timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(timeout=self._idle)
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                _drain(self._dispatcher, self._clock, self._claimed)
            except Exception as error:
                # The database or Slack hiccuped: the rows stay pending, the next wake retries.
                self._failures.failed(error)
            else:
                self._failures.succeeded()
            finally:
                self._set_caught_up()  # a pump that is not draining holds nobody back


class _PreviousDrainStillRunning(logging.Filter):
    """APScheduler warns at every tick a drain outlasts (a slow Slack, a long backlog). Here
    that is by design: one drain at a time (``max_instances=1``), and the one running takes
    whatever is due. A debug line, not a warning every few seconds."""

    SKIPPED = "maximum number of running instances reached"

    def filter(self, record: logging.LogRecord) -> bool:
        if self.SKIPPED not in str(record.msg):
            return True
        log.debug("%s", record.getMessage())
        return False


_SKIPPED_TICKS = _PreviousDrainStillRunning()


def build_scheduler(
    dispatcher: Dispatcher, clock: Clock, interval_seconds: float
) -> BackgroundScheduler:
    """APScheduler (in-memory job store, UTC) with the periodic dispatch job."""
    scheduler_log = logging.getLogger("apscheduler.scheduler")
    if _SKIPPED_TICKS not in scheduler_log.filters:
        scheduler_log.addFilter(_SKIPPED_TICKS)
    scheduler = BackgroundScheduler(timezone="UTC", logger=scheduler_log)
    scheduler.add_job(
        _drain_periodically,
        "interval",
        seconds=interval_seconds,
        args=[dispatcher, clock, _Failures("periodic dispatch")],
        id="dispatch-due-outbox",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
    return scheduler
