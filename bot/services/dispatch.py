"""Sending due outbox rows to Slack: leased, re-checked, recorded, never doubled."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.domain.details import details_of
from bot.domain.document import (
    DROPPED_ITEMS,
    GAPS,
    POSTED_REMINDERS,
    action_item_reminder_starts,
    gaps_param,
    posted_reminders_param,
)
from bot.domain.lifecycle import State
from bot.domain.meetings import read_questions, still_to_update
from bot.domain.messages import (
    ACTION_ITEM_REMINDERS,
    NUDGES,
    REPEATING_NUDGES,
    REQUESTED_BY,
    WAITS_FOR_WORKING_HOURS,
    MessageKind,
    PlannedMessage,
    is_slack_user,
    plan_prompt_undeliverable,
    plan_repeat,
    planned_for_an_earlier_deadline,
    still_applies,
    too_early,
)
from bot.domain.policy import Policy
from bot.domain.postmortem import Postmortem
from bot.persistence.repositories import OutboxItem, Recorded
from bot.persistence.uow import UnitOfWorkFactory
from bot.services.base import (
    current_gaps,
    left_after_done_params,
    mrkdwn_safe,
    plan_messages,
    queue_notice,
    reason_gone_elsewhere,
)

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
# Slack has been down for hours: a temporary failure gives up only once a message has been
# tried MAX_ATTEMPTS times (backing off to every 15 minutes) and is this old.
RETRY_FOR = timedelta(days=1)
# How long a change to the owner prompt waits for the prompt (or a refresh of it) that
# another dispatcher is sending.
PROMPT_IN_FLIGHT_WAIT = timedelta(seconds=2)
# How long a message whose sending got no clear answer waits before it is looked for and
# sent again: a post Slack is still working on (the client gave up at 10 s) lands meanwhile.
UNCLEAR_RETRY_WAIT = timedelta(minutes=1)
# Messages that change the owner prompt in place: each waits for the prompt to be posted.
_CHANGES_PROMPT = frozenset(
    {MessageKind.OWNER_CHOSEN, MessageKind.PROMPT_REFRESH, MessageKind.CANCELLED}
)

# What a new owner is told: once the postmortem is complete, what is still left in it.
_TELLS_A_NEW_OWNER = frozenset({MessageKind.OWNER_CHOSEN, MessageKind.OWNER_TOLD})


def _items_closed_by(item: OutboxItem) -> list[int]:
    """The action items a message closes (done, dropped, or dropped with a cancelled
    postmortem): it takes the Mark done button off their reminders already posted."""
    if item.kind in (MessageKind.ACTION_ITEM_DONE, MessageKind.ACTION_ITEM_DROPPED):
        numbers = [str(item.params.get("number") or "")]
    elif item.kind is MessageKind.CANCELLED:
        numbers = str(item.params.get(DROPPED_ITEMS) or "").split()
    else:
        return []
    return [int(n) for n in numbers if n.isascii() and n.isdigit()]


def _put_off(
    uow: Any, item: OutboxItem, token: str, until: datetime, report: DispatchReport
) -> None:
    """Not now, and nothing tried: the row waits until ``until`` without using an attempt."""
    uow.outbox.defer(item_id=item.id, worker=token, until=until, reason=None)
    uow.commit()
    report.postponed += 1


def _drop(uow: Any, item: OutboxItem, token: str, reason: str, report: DispatchReport) -> None:
    """Not to be sent at all, and why."""
    uow.outbox.mark_cancelled(item_id=item.id, worker=token, reason=reason)
    uow.commit()
    report.cancelled += 1


def _held_questions_to_update(
    uow: Any, item: OutboxItem, now: datetime, report: DispatchReport, token: str
) -> OutboxItem | None:
    """An update of the "was it held?" questions, with where each question it still has to
    update is (POSTED_REMINDERS); None when it waits or is dropped.

    Each question is updated by the last update naming it only: made after it (once backing
    off, say), an earlier one would take back what it said (a meeting moved again, held,
    cancelled). It waits for a question another dispatcher is posting (its ts), and for an
    earlier update of one another dispatcher is making, which would otherwise land last.
    """
    assert item.postmortem_id is not None
    updates = uow.outbox.params_by_id(
        postmortem_id=item.postmortem_id, kind=MessageKind.HELD_QUESTION_SETTLED
    )
    questions = still_to_update(
        item.params, [params for update_id, params in updates.items() if update_id > item.id]
    )
    if not questions:
        _drop(uow, item, token, "updated since", report)
        return None
    earlier = [
        update_id
        for update_id, params in updates.items()
        if update_id < item.id and set(read_questions(params)) & set(questions)
    ]
    if uow.outbox.in_flight(item_ids=[*questions, *earlier], now=now, other_than_worker=token):
        _put_off(uow, item, token, now + PROMPT_IN_FLIGHT_WAIT, report)
        return None
    posted = uow.outbox.posted(item_ids=questions)
    if not posted:  # the one being posted as it was settled never got there
        _drop(uow, item, token, "no question posted", report)
        return None
    return replace(item, params={**item.params, POSTED_REMINDERS: posted_reminders_param(posted)})


# An ephemeral line and an update in place leave no message of their own in the channel:
# nothing to look for before sending again.
_LEAVES_NO_MESSAGE = frozenset(
    {MessageKind.NOTICE, MessageKind.PROMPT_REFRESH, MessageKind.HELD_QUESTION_SETTLED}
)


def _recorded_on_its_day(item: OutboxItem, zone: ZoneInfo) -> bool:
    """An action item's reminder planned when its day had already begun in its owner's
    ``zone`` (far east of the workspace): the due-date one of an item recorded on its due
    day, whose announcement has just said so; the week-later one of an overdue item just
    handed over, which is not "a week late" to someone who has just taken it on. Either
    would only come ahead of the announcement."""
    due = _due_on(item.params) if item.kind in ACTION_ITEM_REMINDERS else None
    if due is None:
        return False
    return item.created_at >= action_item_reminder_starts(item.kind, due, zone)


def _due_on(params: dict[str, Any]) -> date | None:
    """An action item's due date, as its reminder's params carry it (None: none readable)."""
    try:
        return date.fromisoformat(str(params.get("due") or ""))
    except ValueError:
        return None


class DeliveryFailed(Exception):
    """Slack refused a message. ``permanent`` errors are not retried; others back off.

    ``unclear``: no clear answer came (a timeout, a dropped connection, a 5xx), so Slack may
    still post the message; the retry, which first looks for it, waits long enough to see it.
    """

    def __init__(
        self,
        error: str,
        *,
        permanent: bool,
        retry_after: float | None = None,
        unclear: bool = False,
        said_by_slack: bool = True,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.permanent = permanent
        self.retry_after = retry_after
        self.unclear = unclear
        # False: held back on this side (the process is stopping), never sent to Slack.
        self.said_by_slack = said_by_slack


class RateLimited(Exception):
    """Wait until ``until`` before the next call: Slack's rate limit, or the process is
    stopping (``reason`` says which)."""

    def __init__(self, until: datetime, reason: str = "ratelimited") -> None:
        super().__init__(until.isoformat())
        self.until = until
        self.reason = reason


@dataclass(frozen=True)
class Outgoing:
    """A message to deliver, with the postmortem as it is now (None for stand-alone notices)."""

    outbox_id: int
    kind: MessageKind
    channel_id: str
    recipient: str | None
    params: dict[str, Any]
    postmortem: Postmortem | None
    policy: Policy
    sent_at: datetime | None = None  # the dispatcher's clock, as it sends


class Messenger(Protocol):
    """The port to Slack: deliver a message, find one delivered before, know a user's zone."""

    def deliver(self, message: Outgoing) -> str | None: ...

    def find_delivered(
        self, *, channel_id: str, outbox_id: int, since: datetime, also_in: str | None = None
    ) -> str | None: ...

    def user_timezone(self, user_id: str) -> str | None: ...


@dataclass
class DispatchReport:
    sent: int = 0
    cancelled: int = 0
    postponed: int = 0
    dead: int = 0
    claimed: int = 0
    errors: list[str] = field(default_factory=list)
    # No clear answer came (a timeout, a dropped connection, a 5xx): Slack may have them.
    unanswered: list[str] = field(default_factory=list)
    rate_limited_until: datetime | None = None


@dataclass(frozen=True)
class _Delivered:
    """A message Slack accepted, not yet recorded as sent."""

    item: OutboxItem
    postmortem: Postmortem | None
    ts: str | None
    # The recipient's zone, as looked up to hold it for their working hours (None when it
    # waits for none): a repeating reminder counts its next time in it.
    zone: ZoneInfo | None = None


class _Unrecorded:
    """Messages Slack accepted that are not yet recorded as sent, and when to record them.

    Recording each message in its own transaction cost as much as sending it, so owner
    prompts — the burst after many starts — are recorded together: up to ``MAX_COUNT`` at a
    time, and never later than ``MAX_AGE`` seconds after the oldest was sent. Every other
    message is recorded at once: a notice cannot be found again in the channel (it is
    ephemeral), and a nudge must be "sent" as soon as someone can click its Snooze button.
    """

    MAX_COUNT = 10
    MAX_AGE = 0.05

    def __init__(self) -> None:
        self._messages: list[_Delivered] = []
        self._oldest_at = 0.0

    def add(self, message: _Delivered) -> None:
        if not self._messages:
            self._oldest_at = time.monotonic()
        self._messages.append(message)

    def due(self) -> bool:
        return (
            self._messages[-1].item.kind is not MessageKind.OWNER_PROMPT
            or len(self._messages) >= self.MAX_COUNT
            or time.monotonic() - self._oldest_at >= self.MAX_AGE
        )

    def items(self) -> list[OutboxItem]:
        return [message.item for message in self._messages]

    def take(self) -> list[_Delivered]:
        taken, self._messages = self._messages, []
        return taken


class _Lease:
    """How long this batch's claim still holds, by the monotonic clock since it was taken.

    Renewed once half of it is gone, so a row is never sent on a lease about to expire.
    """

    def __init__(self, length: timedelta, *, claimed_at: datetime) -> None:
        self._length = length
        self._claimed_at = claimed_at  # the dispatcher's clock: what the lease was written in
        self._started = time.monotonic()
        self._renewed = self._started

    def half_gone(self) -> bool:
        return time.monotonic() - self._renewed >= self._length.total_seconds() / 2

    def now(self) -> datetime:
        """The dispatcher's clock now: the claim's time plus what has passed since. A slow
        Slack can hold a batch for many seconds: what it sent is recorded as sent when it
        was, and a repeating nudge counts its next time from then, not from the claim (else
        the next one can be due already and follow at once); so do a failure's back-off and
        a rate limit's Retry-After (else the retry comes sooner than either promised). In
        whole seconds: a batch that took milliseconds is recorded at its claim's time, as
        exact as the clock it was claimed by."""
        return self._claimed_at + timedelta(seconds=int(time.monotonic() - self._started))

    def renewed(self) -> datetime:
        """Renew now: the new expiry, in the dispatcher's clock."""
        self._renewed = time.monotonic()
        return self._claimed_at + timedelta(seconds=self._renewed - self._started) + self._length


class Dispatcher:
    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        messenger: Messenger,
        policy: Policy,
        worker_id: str,
        lease: timedelta = timedelta(minutes=2),
        batch_size: int = 50,
    ) -> None:
        self._uow_factory = uow_factory
        self._messenger = messenger
        self._policy = policy
        self._worker = worker_id
        self._lease = lease
        self._batch_size = batch_size

    def dispatch_due(
        self, *, now: datetime, on_claimed: Callable[[bool], None] | None = None
    ) -> DispatchReport:
        """Claim one batch of due rows and deliver each (call again while ``claimed`` is full).

        ``on_claimed(full)`` hears, before any is sent, whether the batch was full: whether
        more rows are probably waiting behind it.
        """
        report = DispatchReport()
        # Each claim gets its own lease token, so two threads (or processes) that share a
        # worker name can never finish each other's rows.
        token = f"{self._worker[:60]}:{uuid.uuid4().hex[:12]}"
        with self._uow_factory() as uow:
            items = uow.outbox.claim_due(
                now=now, worker=token, lease=self._lease, limit=self._batch_size
            )
            postmortems = uow.postmortems.get_many(
                sorted({i.postmortem_id for i in items if i.postmortem_id is not None})
            )
            uow.commit()
        report.claimed = len(items)
        if on_claimed is not None:
            on_claimed(len(items) >= self._batch_size)
        unrecorded = _Unrecorded()
        lease = _Lease(self._lease, claimed_at=now)
        lost: set[int] = set()
        try:
            for position, item in enumerate(items):
                if lease.half_gone():
                    # A slow Slack can make a batch outlive its lease: another dispatcher
                    # would then take and send the rows this one has yet to send.
                    lost |= self._renew(unrecorded.items(), items[position:], lease, token)
                if item.id in lost:
                    continue  # taken over: the new holder sends it
                loaded = postmortems.get(item.postmortem_id) if item.postmortem_id else None
                try:
                    outcome = self._dispatch_one(item, loaded, now, report, token)
                except DeliveryFailed as failure:
                    # Its back-off or Retry-After counts from Slack's answer, as a sent
                    # message's next nudge does: from the claim, after a slow batch, the
                    # retry would come sooner than promised (or be due already).
                    answered = lease.now()
                    try:
                        self._record_failure(item, failure, answered, report, token)
                    except Exception as error:  # e.g. telling someone of it failed
                        self._failed_unexpectedly(item, error, unrecorded, lease, report, token)
                        continue
                    if failure.retry_after is None:
                        continue
                    # Slack said "slow down": the rest of the batch would only collect 429s.
                    until = answered + timedelta(seconds=failure.retry_after)
                    limit = RateLimited(until, failure.error)
                    self._record_delivered(unrecorded, answered, report, token)
                    self._postpone_rest(items[position + 1 :], limit, report, token)
                    report.rate_limited_until = limit.until
                    break
                except Exception as error:  # one bad row must not hold up the rows behind it
                    self._failed_unexpectedly(item, error, unrecorded, lease, report, token)
                    continue
                if outcome is not None:
                    unrecorded.add(outcome)
                    if unrecorded.due():
                        self._record_delivered(unrecorded, lease.now(), report, token)
        finally:
            # Whatever stopped the batch, what reached Slack is written down first.
            self._record_delivered(unrecorded, lease.now(), report, token)
        return report

    def _failed_unexpectedly(
        self,
        item: OutboxItem,
        error: Exception,
        unrecorded: _Unrecorded,
        lease: _Lease,
        report: DispatchReport,
        token: str,
    ) -> None:
        """A bug or a row-specific database error while sending or recording one row: it backs
        off like a refused message, and the rows behind it go on."""
        log.error("outbox %s (%s) failed unexpectedly", item.id, item.kind, exc_info=error)
        failed_at = lease.now()
        self._record_delivered(unrecorded, failed_at, report, token)
        self._record_failure(
            item,
            DeliveryFailed(f"unexpected: {error!r}", permanent=False),
            failed_at,
            report,
            token,
        )

    def _record_delivered(
        self, unrecorded: _Unrecorded, now: datetime, report: DispatchReport, token: str
    ) -> None:
        """Record, in one transaction, messages that reached Slack and are not yet recorded.

        If this never commits (a crash, the database gone), the leases expire and the next
        holder finds each message in the channel by its metadata instead of posting it again.
        """
        delivered = unrecorded.take()
        if not delivered:
            return
        with self._uow_factory() as uow:
            for sent in delivered:
                recorded = uow.outbox.mark_sent(
                    item_id=sent.item.id, worker=token, ts=sent.ts, at=now
                )
                if recorded is Recorded.LEASE_LOST:
                    log.warning(
                        "outbox %s: lease lost before recording; it was sent once", sent.item.id
                    )
                    continue
                report.sent += 1
                if recorded is Recorded.SENT_THOUGH_ITS_REASON_WENT:
                    log.info(
                        "outbox %s (%s): cancelled while it was posted; recorded as sent",
                        sent.item.id,
                        sent.item.kind,
                    )
                    # Nothing follows from it: no repeat of a nudge whose reason is gone, and
                    # no prompt ts for a postmortem that moved to another channel meanwhile.
                    continue
                self._after_sent(uow, sent, now)
            uow.commit()

    def _renew(
        self, posted: list[OutboxItem], rest: list[OutboxItem], lease: _Lease, token: str
    ) -> set[int]:
        """Extend the lease on the batch's rows sent but not recorded (``posted``) and not
        yet sent (``rest``); the ids no longer held (taken over, or cancelled meanwhile)."""
        posted_ids = [item.id for item in posted]
        ids = posted_ids + [item.id for item in rest]
        with self._uow_factory() as uow:
            held = uow.outbox.renew_leases(
                item_ids=ids, worker=token, until=lease.renewed(), posted=posted_ids
            )
            uow.commit()
        lost = set(ids) - held
        if lost:
            log.warning(
                "outbox %s: no longer held before sending (taken over, or cancelled); left "
                "as they are",
                lost,
            )
        return lost

    def _postpone_rest(
        self, items: list[OutboxItem], limit: RateLimited, report: DispatchReport, token: str
    ) -> None:
        reason = "waiting for a rate limit" if limit.reason == "ratelimited" else limit.reason
        with self._uow_factory() as uow:
            for item in items:
                uow.outbox.defer(item_id=item.id, worker=token, until=limit.until, reason=reason)
            uow.commit()
        report.postponed += len(items)

    def drain(
        self,
        *,
        now: datetime | Callable[[], datetime],
        max_batches: int = 1000,
        on_claimed: Callable[[bool], None] | None = None,
    ) -> DispatchReport:
        """Dispatch batches until nothing due is left (bounded).

        ``now`` may be a clock: it is then read per batch, so a long drain never writes
        leases that are already expired.
        """
        total = DispatchReport()
        for _ in range(max_batches):
            batch = self.dispatch_due(now=now() if callable(now) else now, on_claimed=on_claimed)
            for name in ("sent", "cancelled", "postponed", "dead", "claimed"):
                setattr(total, name, getattr(total, name) + getattr(batch, name))
            total.errors += batch.errors
            total.unanswered += batch.unanswered
            if batch.claimed < self._batch_size or batch.rate_limited_until is not None:
                total.rate_limited_until = batch.rate_limited_until
                break
        return total

    def _dispatch_one(
        self,
        item: OutboxItem,
        postmortem: Postmortem | None,
        now: datetime,
        report: DispatchReport,
        token: str,
    ) -> _Delivered | None:
        """Send one message unless its reason is gone or it must wait; the caller records it,
        or the ``DeliveryFailed`` it raises."""
        with self._uow_factory() as uow:
            # Asked before the postmortem is read, never after: the prompt's row stops being
            # pending in the same commit that stores its ts, so if it is no longer pending
            # here, the read below sees the ts (even under READ COMMITTED). Read the other
            # way round, a prompt recorded in between looked neither in flight nor posted,
            # and the announcement left the prompt's buttons up for good.
            prompt_work = self._prompt_work_pending(uow, item, now)
            if item.kind in NUDGES or item.kind in _CHANGES_PROMPT or postmortem is None:
                # A nudge's reason may have gone since the batch was claimed, and the prompt
                # an owner announcement updates may have been recorded since: look again now.
                postmortem = uow.postmortems.get(item.postmortem_id) if item.postmortem_id else None
            if postmortem is not None and (
                (MessageKind.OWNER_PROMPT in prompt_work and postmortem.prompt_ts is None)
                or (
                    item.kind is MessageKind.OWNER_CHOSEN
                    and MessageKind.PROMPT_REFRESH in prompt_work
                )
            ):
                # Another dispatcher (the periodic job, another replica) has posted the prompt
                # and not yet recorded its ts, or is showing it again with new candidates:
                # changing it now would leave the prompt's buttons up for good (or put them
                # back over the owner's name). Wait for it, without counting an attempt.
                _put_off(uow, item, token, now + PROMPT_IN_FLIGHT_WAIT, report)
                return None
            if reason_gone_elsewhere(
                uow, kind=item.kind, postmortem_id=item.postmortem_id, params=item.params
            ):
                _drop(uow, item, token, "reason gone", report)
                return None
            if postmortem is not None and planned_for_an_earlier_deadline(
                item.kind, item.due_at, postmortem, self._policy
            ):
                _drop(uow, item, token, "deadline moved", report)
                return None
            if postmortem is not None and not still_applies(item.kind, postmortem, now):
                later = too_early(item.kind, postmortem, now)
                if later is not None and not uow.outbox.has_other_pending(
                    postmortem_id=postmortem.id, kind=item.kind, other_than=item.id
                ):
                    _put_off(uow, item, token, later, report)
                    return None
                _drop(uow, item, token, "reason gone", report)
                return None
            # The recipient's zone, looked up once for both checks (a Slack call when uncached).
            zone = self._recipient_zone(item) if item.kind in WAITS_FOR_WORKING_HOURS else None
            if zone is not None and _recorded_on_its_day(item, zone):
                _drop(uow, item, token, "recorded on its due day", report)
                return None
            wait_until = self._outside_working_hours(item, zone, now) if zone is not None else None
            if wait_until is not None:
                _put_off(uow, item, token, wait_until, report)
                return None
            closed = _items_closed_by(item)
            if closed and item.postmortem_id:
                if uow.outbox.about_items_in_flight(
                    postmortem_id=item.postmortem_id,
                    numbers=closed,
                    kinds=sorted(ACTION_ITEM_REMINDERS),
                    now=now,
                    other_than_worker=token,
                ):
                    # A reminder of these items is being posted by another dispatcher: wait
                    # for its ts, or its Mark done button stays up on a closed item.
                    _put_off(uow, item, token, now + PROMPT_IN_FLIGHT_WAIT, report)
                    return None
                # Looked up as it is sent, not when the item was closed: a reminder that was
                # on its way to Slack then has its ts recorded by now.
                posted = uow.outbox.posted_about_items(
                    postmortem_id=item.postmortem_id,
                    numbers=closed,
                    kinds=sorted(ACTION_ITEM_REMINDERS),
                )
                params = {**item.params, POSTED_REMINDERS: posted_reminders_param(posted)}
                item = replace(item, params=params)
            if item.kind is MessageKind.HELD_QUESTION_SETTLED:
                found = _held_questions_to_update(uow, item, now, report, token)
                if found is None:
                    return None
                item = found
            if item.kind is MessageKind.NUDGE_GAPS and item.postmortem_id:
                # What is missing as it is sent, not as it was at `done`: some may be added.
                gaps = gaps_param(current_gaps(uow, item.postmortem_id))
                item = replace(item, params={**item.params, GAPS: gaps})
            if (
                item.kind in _TELLS_A_NEW_OWNER
                and postmortem is not None
                and postmortem.state is State.COMPLETED
            ):
                # Handed over after `done`: the new owner hears what is left in it as it is
                # sent (what was added since the hand-over is not asked for again).
                left = left_after_done_params(uow, postmortem.id)
                item = replace(item, params={**item.params, **left})
            # Last, as close to the post as it gets: a service may have cancelled the row since
            # the batch was claimed (a snooze, an owner picked, a move), for a reason the checks
            # above do not see, or another dispatcher may hold it now. Not for the owner
            # prompt, the pump's most frequent message, which nothing above reads for: only
            # a move cancels one, and a move refuses a postmortem whose prompt is still to be
            # sent (PostmortemService._stranded). On SQLite, this read takes the write lock
            # once per prompt, from the starts: with it, the bench posted 103 prompts/s in its
            # closed loop where it posts 140 without (bench/README.md, 2026-11-27 19:00).
            if item.kind is not MessageKind.OWNER_PROMPT and not uow.outbox.still_to_send(
                item_id=item.id, worker=token
            ):
                uow.commit()
                return None

        # Slack refusing it (``DeliveryFailed``) is the caller's to record, by its clock then.
        ts = self._send(item, postmortem, now)
        return _Delivered(item, postmortem, ts, zone)

    @staticmethod
    def _prompt_work_pending(uow: Any, item: OutboxItem, now: datetime) -> set[MessageKind]:
        """For a message that changes the owner prompt in place: the prompt still pending
        (being sent, or due later), or a refresh of it due (perhaps being sent now; one
        backing off after an error is cancelled once it comes, as nobody awaits an owner)."""
        if item.kind not in _CHANGES_PROMPT or item.postmortem_id is None:
            return set()
        pending = uow.outbox.pending_kinds_for(item.postmortem_id)
        due = uow.outbox.pending_kinds_for(item.postmortem_id, due_by=now)
        work = {MessageKind.OWNER_PROMPT} if MessageKind.OWNER_PROMPT.value in pending else set()
        if MessageKind.PROMPT_REFRESH.value in due:
            work.add(MessageKind.PROMPT_REFRESH)
        return work

    def _send(self, item: OutboxItem, postmortem: Postmortem | None, now: datetime) -> str | None:
        # A previous holder of this row may have sent it and died before recording:
        # Slack has the message (with our metadata) if so, and we must not post it again.
        if item.attempts > 1 and item.kind not in _LEAVES_NO_MESSAGE:
            found = self._messenger.find_delivered(
                # created_at, not due_at: postponing a row moves its due time.
                channel_id=item.channel_id,
                outbox_id=item.id,
                since=item.created_at,
                # Sent to its owner directly when the channel took no more messages.
                also_in=item.recipient if item.kind in ACTION_ITEM_REMINDERS else None,
            )
            if found is not None:
                return found
        return self._messenger.deliver(
            Outgoing(
                outbox_id=item.id,
                kind=item.kind,
                channel_id=item.channel_id,
                recipient=item.recipient,
                params=item.params,
                postmortem=postmortem,
                policy=self._policy,
                sent_at=now,
            )
        )

    def _recipient_zone(self, item: OutboxItem) -> ZoneInfo:
        """The recipient's own time zone (from Slack), else the workspace's."""
        recipient = item.recipient
        return self._policy.person_zone(
            self._messenger.user_timezone(recipient) if recipient is not None else None
        )

    def _outside_working_hours(
        self, item: OutboxItem, zone: ZoneInfo, now: datetime
    ) -> datetime | None:
        """When a reminder must wait for working hours in ``zone`` (the recipient's own, else
        the workspace's), and an action item's for its day to begin there."""
        earliest = now
        due = _due_on(item.params) if item.kind in ACTION_ITEM_REMINDERS else None
        if due is not None:
            starts = action_item_reminder_starts(item.kind, due, zone)
            earliest = max(now, starts.astimezone(now.tzinfo))
        opening = self._policy.working_hours.next_opening(earliest, zone)
        return None if opening <= now else opening

    def _record_failure(
        self,
        item: OutboxItem,
        failure: DeliveryFailed,
        now: datetime,
        report: DispatchReport,
        token: str,
    ) -> None:
        if failure.said_by_slack:
            said = report.unanswered if failure.unclear else report.errors
            said.append(f"{item.kind}#{item.id}: {failure.error}")
        with self._uow_factory() as uow:
            if failure.retry_after is not None and not failure.permanent:
                # Slack said "not now", not "no": the message was not tried, so the wait
                # must not use up its attempts, however long the rate limit lasts.
                uow.outbox.defer(
                    item_id=item.id,
                    worker=token,
                    until=now + timedelta(seconds=failure.retry_after),
                    reason=failure.error,
                )
                report.postponed += 1
            elif failure.permanent or (
                item.attempts >= MAX_ATTEMPTS and now - item.created_at >= RETRY_FOR
            ):
                died = uow.outbox.mark_dead(item_id=item.id, worker=token, error=failure.error)
                report.dead += 1
                if died and item.kind is MessageKind.OWNER_PROMPT:
                    self._tell_prompt_undeliverable(uow, item, failure.error, now)
                elif died and item.kind is MessageKind.DOCUMENT_EXPORT:
                    self._tell_export_refused(uow, item, failure.error, now)
                elif died and item.kind in ACTION_ITEM_REMINDERS:
                    self._tell_reminder_refused(uow, item, failure.error, now)
            else:
                backoff = timedelta(seconds=min(2**item.attempts, 900))
                if failure.unclear:
                    backoff = max(backoff, UNCLEAR_RETRY_WAIT)
                uow.outbox.postpone(
                    item_id=item.id, worker=token, until=now + backoff, error=failure.error
                )
                report.postponed += 1
            uow.commit()

    @staticmethod
    def _tell_export_refused(uow: Any, item: OutboxItem, error: str, now: datetime) -> None:
        """Whoever asked for an export that Slack refused for good is told why, and what to
        do (an ephemeral, or a direct message where the channel shows none)."""
        asker = str(item.params.get("by") or "")
        if not is_slack_user(asker):
            return
        queue_notice(
            uow,
            channel_id=item.channel_id,
            user_id=asker,
            text=(
                f"Slack refused the export of postmortem #{item.postmortem_id}'s document "
                f"(`{error}`), so no file was posted. If I am not in this channel, "
                "`/invite @postmortem-bot`, then run `/postmortem export` again."
            ),
            now=now,
        )

    @staticmethod
    def _tell_reminder_refused(uow: Any, item: OutboxItem, error: str, now: datetime) -> None:
        """The postmortem's owner hears that an action item's owner could not be reminded,
        even directly (their account may be gone): someone has to take the step on."""
        postmortem = uow.postmortems.get(item.postmortem_id) if item.postmortem_id else None
        if postmortem is None or postmortem.channel_id is None:
            return
        lead = postmortem.owner_id
        if not is_slack_user(lead) or lead == item.recipient:
            return
        number, pid = item.params.get("number"), postmortem.id
        what = mrkdwn_safe(str(item.params.get("text") or ""))
        queue_notice(
            uow,
            channel_id=postmortem.channel_id,
            user_id=str(lead),
            text=(
                f"I could not remind <@{item.recipient}> of action item {number} of postmortem "
                f"#{pid} ({what}): Slack said `{error}`. "
                "If they have left, agree who takes it on and hand it to them with "
                f"`/postmortem action #{pid} owner {number} @someone`; if it is no longer "
                f"needed, drop it with `/postmortem action #{pid} drop {number} <why>`."
            ),
            now=now,
        )

    def _tell_prompt_undeliverable(
        self, uow: Any, item: OutboxItem, error: str, now: datetime
    ) -> None:
        """Queue, in the transaction that marks the prompt dead, a DM saying how to fix it.

        A channel the bot cannot post in refuses an ephemeral there too: the message goes
        to the person directly (``chat.postMessage`` to a user id opens the DM).
        """
        postmortem = uow.postmortems.get(item.postmortem_id) if item.postmortem_id else None
        if postmortem is None:
            return
        requested_by = item.params.get(REQUESTED_BY)
        planned = plan_prompt_undeliverable(
            postmortem,
            self._policy,
            error=error,
            requested_by=str(requested_by) if requested_by else None,
            now=now,
        )
        plan_messages(uow, postmortem, planned, now)  # direct messages, to each recipient

    def _after_sent(self, uow: Any, sent: _Delivered, now: datetime) -> None:
        item, postmortem, ts = sent.item, sent.postmortem, sent.ts
        if postmortem is None:
            return
        if item.kind is MessageKind.OWNER_PROMPT and ts is not None:
            uow.postmortems.record_prompt(postmortem_id=postmortem.id, ts=ts)
        if item.kind is MessageKind.PROMPT_REFRESH:
            # Two refreshes sent at once (two replicas) can land in either order: if the
            # candidates or details changed since this one read them, show the prompt once
            # more, so the last word is always the latest.
            current = uow.postmortems.get(postmortem.id)
            if (
                current is not None
                and current.state is State.AWAITING_OWNER
                and (
                    current.candidates != postmortem.candidates
                    or details_of(current) != details_of(postmortem)
                )
            ):
                again = PlannedMessage(MessageKind.PROMPT_REFRESH, now)
                uow.outbox.add(
                    postmortem_id=postmortem.id, channel_id=item.channel_id, planned=again, now=now
                )
        repeat = None
        if item.kind in REPEATING_NUDGES:
            # The next one waits for its recipient's working hours as this one did, so its
            # working days are counted in their zone too: counted in the workspace's, an owner
            # far west of it (09:00 in Los Angeles is 18:00, the close, in Berlin) lost a day
            # each round. Not when someone else owns it now: the next one goes to them, and
            # their zone was not looked up.
            owners_zone = sent.zone if item.recipient == postmortem.owner_id else None
            repeat = plan_repeat(
                item.kind,
                postmortem,
                self._policy,
                now,
                pending=uow.outbox.pending_kinds_for(postmortem.id),
                params=item.params,
                zone=owners_zone,
            )
        if repeat is not None:
            uow.outbox.add(
                postmortem_id=postmortem.id, channel_id=item.channel_id, planned=repeat, now=now
            )
