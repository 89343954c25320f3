"""Group commit: concurrent units share a transaction, and one bad unit spoils no other."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from bot.domain.messages import MessageKind, PlannedMessage
from bot.domain.policy import Policy
from bot.domain.postmortem import IncidentReport
from bot.persistence.db import create_db_engine, create_session_factory
from bot.persistence.group_commit import GroupCommit
from bot.persistence.tables import AuditEventRow, OutboxRow, PostmortemRow
from bot.persistence.uow import UnitOfWork
from bot.services.clock import system_clock
from bot.services.postmortems import PostmortemService
from tests.support.waiting import wait_until

T = TypeVar("T")
NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


class CountingUnitOfWork(UnitOfWork):
    commits = 0
    lock = threading.Lock()

    def commit(self) -> None:
        super().commit()
        with CountingUnitOfWork.lock:
            CountingUnitOfWork.commits += 1


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    built = create_db_engine(database_url)
    yield built
    built.dispose()


@pytest.fixture
def uow_factory(engine: Engine) -> Callable[[], UnitOfWork]:
    sessions = create_session_factory(engine)
    CountingUnitOfWork.commits = 0
    return lambda: CountingUnitOfWork(sessions)


def write_row(uow: UnitOfWork, actor: str) -> str:
    """A unit that writes one row naming ``actor`` (a notice to them) and returns the name."""
    notice = PlannedMessage(MessageKind.NOTICE, NOW, recipient=actor, params={"text": "hi"})
    uow.outbox.add(postmortem_id=None, channel_id="C0GROUP", planned=notice, now=NOW)
    return actor


def start_blocked_leader(
    group: GroupCommit, pool: ThreadPoolExecutor, actor: str
) -> tuple[Future[str], threading.Event]:
    """A unit that holds its transaction open until released, so others queue behind it."""
    release = threading.Event()
    running = threading.Event()

    def first(uow: UnitOfWork) -> str:
        running.set()
        release.wait(timeout=10)
        return write_row(uow, actor)

    leader = pool.submit(group.run, first)
    assert running.wait(timeout=10)  # the leader's transaction is open; others will queue
    return leader, release


def enqueue(
    pool: ThreadPoolExecutor, group: GroupCommit, work: Callable[[UnitOfWork], T]
) -> Future[T]:
    """Submit ``work`` and return once it is waiting in the queue (so the order is known)."""
    expected = group.queued + 1
    future = pool.submit(group.run, work)
    wait_until(lambda: group.queued == expected)
    return future


def actors(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return sorted(connection.scalars(select(OutboxRow.recipient)))


def test_units_that_arrive_while_a_transaction_runs_share_the_next_commit(
    engine: Engine, uow_factory: Callable[[], UnitOfWork]
) -> None:
    group = GroupCommit(uow_factory)
    with ThreadPoolExecutor(max_workers=20) as pool:
        leader, release_first = start_blocked_leader(group, pool, "U000")
        others = [enqueue(pool, group, partial(write_row, actor=f"U{n:03}")) for n in range(1, 20)]
        release_first.set()
        results = [leader.result(timeout=10)] + [f.result(timeout=10) for f in others]

    assert results == [f"U{n:03}" for n in range(20)]  # each caller gets its own result
    assert actors(engine) == [f"U{n:03}" for n in range(20)]
    assert CountingUnitOfWork.commits == 2  # the leader's, then one for the 19 that queued


def test_a_failing_unit_fails_alone_and_leaves_nothing_half_written(
    engine: Engine, uow_factory: Callable[[], UnitOfWork]
) -> None:
    group = GroupCommit(uow_factory)

    def broken(uow: UnitOfWork) -> str:
        write_row(uow, "UBROKEN")  # written, then the unit fails: this row must not survive
        raise ValueError("bad request")

    with ThreadPoolExecutor(max_workers=4) as pool:
        leader, release_first = start_blocked_leader(group, pool, "UFIRST")
        before = enqueue(pool, group, lambda uow: write_row(uow, "UBEFORE"))
        failing = enqueue(pool, group, broken)
        after = enqueue(pool, group, lambda uow: write_row(uow, "UAFTER"))
        release_first.set()
        assert leader.result(timeout=10) == "UFIRST"
        assert before.result(timeout=10) == "UBEFORE"
        assert after.result(timeout=10) == "UAFTER"
        with pytest.raises(ValueError, match="bad request"):
            failing.result(timeout=10)

    assert actors(engine) == ["UAFTER", "UBEFORE", "UFIRST"]


def test_concurrent_claims_in_one_process_still_give_exactly_one_owner(
    engine: Engine, uow_factory: Callable[[], UnitOfWork]
) -> None:
    service = PostmortemService(uow_factory=uow_factory, policy=Policy(), clock=system_clock)
    opened = service.open_postmortem(
        report=IncidentReport(key="pd:RACE", title="Race", source="pagerduty", resolved_at=NOW),
        channel_id="C0RACE",
        opened_by="U0OPENER",
    ).postmortem
    start = threading.Barrier(16)

    def claim(user: str) -> bool:
        start.wait(timeout=10)
        return service.claim_ownership(
            postmortem_id=opened.id, owner=user, chosen_by=user, channel_id="C0RACE"
        ).won

    with ThreadPoolExecutor(max_workers=16) as pool:
        won = list(pool.map(claim, [f"U{n:03}" for n in range(16)]))

    assert won.count(True) == 1
    winner = f"U{won.index(True):03}"
    with engine.connect() as connection:
        owner = connection.scalar(
            select(PostmortemRow.owner_id).where(PostmortemRow.id == opened.id)
        )
        assigned = connection.scalar(
            select(func.count()).where(AuditEventRow.action == "owner_assigned")
        )
    assert owner == winner
    assert assigned == 1


def test_a_database_error_in_one_unit_does_not_fail_the_others(
    engine: Engine, uow_factory: Callable[[], UnitOfWork]
) -> None:
    # On PostgreSQL an error aborts the whole transaction: the others must be re-run, alone.
    group = GroupCommit(uow_factory)

    def violates_not_null(uow: UnitOfWork) -> str:
        write_row(uow, "UDOOMED")
        uow.audit.record(postmortem_id=None, at=NOW, actor="U0", action="x")  # type: ignore[arg-type]
        return "never"

    with ThreadPoolExecutor(max_workers=4) as pool:
        leader, release_first = start_blocked_leader(group, pool, "UFIRST")
        before = enqueue(pool, group, lambda uow: write_row(uow, "UBEFORE"))
        failing = enqueue(pool, group, violates_not_null)
        release_first.set()
        assert leader.result(timeout=10) == "UFIRST"
        assert before.result(timeout=10) == "UBEFORE"
        with pytest.raises(IntegrityError):
            failing.result(timeout=10)

    assert actors(engine) == ["UBEFORE", "UFIRST"]


def test_each_unit_reads_what_the_units_before_it_in_the_transaction_wrote(
    engine: Engine, uow_factory: Callable[[], UnitOfWork]
) -> None:
    service = PostmortemService(uow_factory=uow_factory, policy=Policy(), clock=system_clock)
    service.open_postmortem(
        report=IncidentReport(key="pd:STALE", title="Stale", source="pagerduty", resolved_at=NOW),
        channel_id="C0STALE",
        opened_by="U0OPENER",
    )
    group = GroupCommit(uow_factory)

    def owner_now(uow: UnitOfWork) -> str | None:
        return uow.postmortems.open_in_channel("C0STALE")[0].owner_id

    def claim(uow: UnitOfWork) -> bool:
        pid = uow.postmortems.open_in_channel("C0STALE")[0].id
        return uow.postmortems.claim_owner(postmortem_id=pid, owner="U0BOB", by="U0BOB", at=NOW)

    with ThreadPoolExecutor(max_workers=4) as pool:
        leader, release_first = start_blocked_leader(group, pool, "UFIRST")
        before = enqueue(pool, group, owner_now)
        claimed = enqueue(pool, group, claim)
        after = enqueue(pool, group, owner_now)
        release_first.set()
        leader.result(timeout=10)
        assert (before.result(timeout=10), claimed.result(timeout=10)) == (None, True)
        assert after.result(timeout=10) == "U0BOB"  # not the object the first unit loaded
