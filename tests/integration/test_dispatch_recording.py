"""When the dispatcher writes down what reached Slack: prompts in small groups, others at once."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from slack_sdk import WebClient
from sqlalchemy import Engine, select, update

from bot.bootstrap import Runtime
from bot.devtools.slack_standin import SlackStandIn
from bot.domain.messages import MessageKind, PlannedMessage
from bot.persistence.db import create_session_factory
from bot.persistence.repositories import OutboxItem, OutboxRepository, Recorded
from bot.persistence.tables import OutboxRow, PostmortemRow
from bot.persistence.uow import UnitOfWork
from bot.services.dispatch import Dispatcher, Messenger, Outgoing
from bot.slack.messenger import SlackMessenger
from tests.support.clock import FakeClock
from tests.support.dispatch_worker import ALWAYS, PassThrough
from tests.support.lifecycle import open_many

T = TypeVar("T")


class Watching(PassThrough):
    """The real messenger; before each delivery it runs ``before`` (to look at the database)."""

    def __init__(self, inner: Messenger, before: Callable[[Outgoing], None]) -> None:
        super().__init__(inner)
        self._before = before

    def deliver(self, message: Outgoing) -> str | None:
        self._before(message)
        return self._inner.deliver(message)


def dispatcher(
    runtime: Runtime,
    slack: SlackStandIn,
    before: Callable[[Outgoing], None],
    *,
    lease: timedelta = timedelta(minutes=2),
    worker_id: str = "recording-test",
) -> Dispatcher:
    sessions = create_session_factory(runtime.engine)
    return Dispatcher(
        uow_factory=lambda: UnitOfWork(sessions),
        messenger=Watching(SlackMessenger(WebClient(base_url=slack.url, token="xoxb-t")), before),
        policy=ALWAYS,
        worker_id=worker_id,
        lease=lease,
    )


def statuses(engine: Engine) -> dict[int, str]:
    with engine.connect() as connection:
        return dict(connection.execute(select(OutboxRow.id, OutboxRow.status)).all())


def test_a_notice_is_recorded_as_sent_before_the_next_message_goes_out(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    # Ephemeral notices cannot be found in the channel again: a crash after sending one must
    # not leave it unrecorded while the rest of the batch goes out.
    with UnitOfWork(create_session_factory(runtime.engine)) as uow:
        for user in ("U0A", "U0B", "U0C"):
            notice = PlannedMessage(
                MessageKind.NOTICE, clock(), recipient=user, params={"text": "hi"}
            )
            uow.outbox.add(postmortem_id=None, channel_id="C0X", planned=notice, now=clock())
        uow.commit()
    seen: list[dict[int, str]] = []
    report = dispatcher(
        runtime, slack, lambda _: seen.append(statuses(runtime.engine))
    ).dispatch_due(now=clock())

    assert report.sent == 3
    ids = sorted(statuses(runtime.engine))
    assert [
        sorted(v for k, v in snapshot.items() if k in ids[:n]) for n, snapshot in enumerate(seen)
    ] == [
        [],
        ["sent"],
        ["sent", "sent"],
    ]


def test_prompts_already_posted_are_recorded_when_a_429_stops_the_batch(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    open_many(runtime, clock, 4)
    calls = 0

    def third_is_rate_limited(message: Outgoing) -> None:
        nonlocal calls
        calls += 1
        if calls == 3 and message.kind is MessageKind.OWNER_PROMPT:
            slack.rate_limit_next("chat.postMessage", retry_after=30)

    report = dispatcher(runtime, slack, third_is_rate_limited).dispatch_due(now=clock())

    assert report.sent == 2
    with runtime.engine.connect() as connection:
        prompts = connection.execute(
            select(OutboxRow.status, OutboxRow.slack_ts)
            .where(OutboxRow.kind == MessageKind.OWNER_PROMPT.value)
            .order_by(OutboxRow.id)
        ).all()
        prompt_ts = connection.scalars(
            select(PostmortemRow.prompt_ts).order_by(PostmortemRow.id)
        ).all()
    assert [status for status, _ in prompts] == ["sent", "sent", "pending", "pending"]
    assert all(ts for _, ts in prompts[:2])
    assert prompt_ts[:2] == [ts for _, ts in prompts[:2]]  # the prompts can be updated in place
    assert prompt_ts[2:] == [None, None]


def test_a_batch_slower_than_its_lease_keeps_its_rows_and_sends_each_once(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    # Slack takes 0.6 s a message against a 1 s lease: without renewing, the second row's
    # lease has run out when another dispatcher looks, and both would send it.
    open_many(runtime, clock, 3)
    claimed_at = clock()
    delivered: list[Outgoing] = []
    other_sent: list[int] = []

    def slow_slack_and_a_second_dispatcher(message: Outgoing) -> None:
        time.sleep(0.6)
        delivered.append(message)
        if len(delivered) == 2:  # 1.2 s in: another dispatcher looks, at 1.5 s by its clock
            other = dispatcher(runtime, slack, lambda _: None, worker_id="other")
            other_sent.append(other.dispatch_due(now=claimed_at + timedelta(seconds=1.5)).sent)

    slow = dispatcher(
        runtime, slack, slow_slack_and_a_second_dispatcher, lease=timedelta(seconds=1)
    )
    report = slow.dispatch_due(now=claimed_at)

    assert other_sent == [0]
    assert report.sent == 3
    posted = [
        c.params["metadata"]["event_payload"]["outbox_id"] for c in slack.calls("chat.postMessage")
    ]
    assert len(posted) == len(set(posted)) == 3


# -- a row a service cancels while a dispatcher holds it -----------------------------------


def on_the_outbox(runtime: Runtime, act: Callable[[OutboxRepository], T]) -> T:
    """``act`` on the outbox in a transaction of its own, committed (as another process)."""
    with UnitOfWork(create_session_factory(runtime.engine)) as uow:
        result = act(uow.outbox)
        uow.commit()
    return result


def claim(runtime: Runtime, clock: FakeClock, worker: str) -> list[OutboxItem]:
    """What ``worker`` claims of the rows due now (a lease of 2 minutes)."""
    return on_the_outbox(
        runtime,
        lambda outbox: outbox.claim_due(
            now=clock(), worker=worker, lease=timedelta(minutes=2), limit=5
        ),
    )


def claimed_nudge(runtime: Runtime, clock: FakeClock, worker: str) -> int:
    """The first no-owner nudge of a new postmortem, claimed by ``worker`` as it falls due."""
    open_many(runtime, clock, 1)
    runtime.dispatcher.drain(now=clock())  # the owner prompt
    clock.advance(timedelta(hours=1))
    [nudge] = claim(runtime, clock, worker)
    assert nudge.kind is MessageKind.NUDGE_NO_OWNER
    return nudge.id


def cancel_nudges(runtime: Runtime) -> None:
    """What picking an owner does to the no-owner nudges still pending."""
    on_the_outbox(
        runtime,
        lambda outbox: outbox.cancel_pending(postmortem_id=1, kinds=[MessageKind.NUDGE_NO_OWNER]),
    )


def record(runtime: Runtime, clock: FakeClock, nudge: int, worker: str) -> Recorded:
    return on_the_outbox(
        runtime,
        lambda outbox: outbox.mark_sent(item_id=nudge, worker=worker, ts="1.000100", at=clock()),
    )


def row(runtime: Runtime, nudge: int) -> OutboxRow:
    with runtime.engine.connect() as connection:
        return connection.execute(select(OutboxRow).where(OutboxRow.id == nudge)).one()  # type: ignore[return-value]


def test_a_message_recorded_by_the_dispatcher_that_holds_it_is_sent(
    runtime: Runtime, clock: FakeClock
) -> None:
    nudge = claimed_nudge(runtime, clock, "replica-1")

    assert record(runtime, clock, nudge, "replica-1") is Recorded.SENT
    assert (row(runtime, nudge).status, row(runtime, nudge).slack_ts) == ("sent", "1.000100")


def test_a_message_cancelled_while_it_was_posted_is_recorded_as_sent_saying_so(
    runtime: Runtime, clock: FakeClock
) -> None:
    nudge = claimed_nudge(runtime, clock, "replica-1")
    cancel_nudges(runtime)

    recorded = record(runtime, clock, nudge, "replica-1")

    assert recorded is Recorded.SENT_THOUGH_ITS_REASON_WENT
    stored = row(runtime, nudge)
    assert (stored.status, stored.slack_ts, stored.lease_owner) == ("sent", "1.000100", None)
    assert stored.last_error == "posted as it was cancelled: reason gone"


def test_a_dispatcher_whose_lease_ran_out_cannot_record_a_row_another_now_holds(
    runtime: Runtime, clock: FakeClock
) -> None:
    nudge = claimed_nudge(runtime, clock, "replica-1")
    clock.advance(timedelta(minutes=3))  # replica-1's lease runs out; replica-2 takes the row
    [taken] = claim(runtime, clock, "replica-2")
    cancel_nudges(runtime)

    recorded = record(runtime, clock, nudge, "replica-1")

    assert taken.id == nudge
    assert recorded is Recorded.LEASE_LOST
    stored = row(runtime, nudge)
    assert (stored.status, stored.slack_ts, stored.lease_owner) == ("cancelled", None, "replica-2")


def test_a_dispatcher_lets_go_of_a_row_cancelled_before_its_turn(
    runtime: Runtime, clock: FakeClock
) -> None:
    nudge = claimed_nudge(runtime, clock, "replica-1")
    cancel_nudges(runtime)

    to_send = on_the_outbox(
        runtime, lambda outbox: outbox.still_to_send(item_id=nudge, worker="replica-1")
    )

    assert to_send is False
    # Not "in flight" any more: nothing waits for it, and nothing takes it for heard.
    assert (row(runtime, nudge).status, row(runtime, nudge).lease_owner) == ("cancelled", None)


def test_a_dispatcher_finishing_a_row_cancelled_under_it_lets_go(
    runtime: Runtime, clock: FakeClock
) -> None:
    nudge = claimed_nudge(runtime, clock, "replica-1")
    cancel_nudges(runtime)

    finished = on_the_outbox(
        runtime,
        lambda outbox: outbox.defer(
            item_id=nudge, worker="replica-1", until=clock() + timedelta(hours=1), reason=None
        ),
    )

    assert finished is False
    assert (row(runtime, nudge).status, row(runtime, nudge).lease_owner) == ("cancelled", None)


def test_renewing_a_batch_lets_go_of_rows_cancelled_before_their_turn_but_not_of_posted_ones(
    runtime: Runtime, clock: FakeClock
) -> None:
    open_many(runtime, clock, 3)
    posted, waiting, cancelled = (item.id for item in claim(runtime, clock, "replica-1"))
    with runtime.engine.begin() as connection:  # what a move does to the prompts not posted
        connection.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_([posted, cancelled]))
            .values(status="cancelled", last_error="moved to another channel")
        )

    held = on_the_outbox(
        runtime,
        lambda outbox: outbox.renew_leases(
            item_ids=[posted, waiting, cancelled],
            worker="replica-1",
            until=clock() + timedelta(minutes=4),
            posted=[posted],
        ),
    )

    assert held == {posted, waiting}
    assert row(runtime, cancelled).lease_owner is None
    assert row(runtime, posted).lease_owner == "replica-1"  # to record it as sent
    assert row(runtime, waiting).lease_expires_at == clock() + timedelta(minutes=4)


def test_a_cancel_while_the_meetings_invite_is_being_posted_says_the_meeting_is_off(
    runtime: Runtime, clock: FakeClock
) -> None:
    # The invite a dispatcher holds may be reaching Slack (and calendars): it is not one
    # "still waiting to be posted", which the channel never heard of.
    open_many(runtime, clock, 1)
    runtime.dispatcher.drain(now=clock())  # the owner prompt
    runtime.postmortems.claim_ownership(
        postmortem_id=1, owner="U0BOB", chosen_by="U0BOB", channel_id="C0BURST000"
    )
    runtime.dispatcher.drain(now=clock())  # the owner's announcement and the like
    meeting = clock() + timedelta(days=2)
    runtime.lifecycle.schedule_meeting(
        channel_id="C0BURST000", actor="U0BOB", at=meeting, participants=[], justification=None
    )
    [invite] = [
        i for i in claim(runtime, clock, "replica-b") if i.kind is MessageKind.MEETING_INVITE
    ]

    runtime.lifecycle.cancel(channel_id="C0BURST000", actor="U0BOB", reason="opened twice")

    [cancelled] = [r for r in rows_of(runtime, "cancelled")]
    assert cancelled.params["meeting_called_off"] == meeting.isoformat()
    assert "U0BOB" in cancelled.params["invited"].split()
    assert invite.id  # held by replica-b all along


def rows_of(runtime: Runtime, kind: str) -> list[OutboxRow]:
    with runtime.engine.connect() as connection:
        return list(connection.execute(select(OutboxRow).where(OutboxRow.kind == kind)))  # type: ignore[arg-type]
