"""`/readyz` says when the database takes reads but refuses writes (a full disk, a read-only
replica): every command would fail while `SELECT 1` still answers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, update
from starlette.testclient import TestClient

from bot.bootstrap import Runtime
from bot.domain.postmortem import IncidentReport
from bot.persistence.tables import OutboxRow
from bot.persistence.write_health import WriteHealth
from tests.support.clock import FakeClock


@contextmanager
def writes_refused(engine: Engine) -> Iterator[None]:
    """Opening a postmortem fails as on a full disk until the block ends; reads still work."""
    if engine.dialect.name == "sqlite":
        refuse = [
            "CREATE TRIGGER refuse BEFORE INSERT ON postmortems "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        ]
        allow = ["DROP TRIGGER refuse"]
    else:
        refuse = [
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION "
            "'could not extend file: No space left on device'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse BEFORE INSERT ON postmortems "
            "FOR EACH ROW EXECUTE FUNCTION refuse()",
        ]
        allow = ["DROP TRIGGER refuse ON postmortems", "DROP FUNCTION refuse()"]
    with engine.begin() as connection:
        for statement in refuse:
            connection.exec_driver_sql(statement)
    try:
        yield
    finally:
        with engine.begin() as connection:
            for statement in allow:
                connection.exec_driver_sql(statement)


def open_one(runtime: Runtime, clock: FakeClock, key: str) -> None:
    runtime.postmortems.open_postmortem(
        report=IncidentReport(
            key=key, title="Checkout errors", source="slack", resolved_at=clock()
        ),
        channel_id=f"C0{key.upper()}",
        opened_by="U0ALICE",
    )


def test_readiness_fails_while_writes_fail_and_recovers_with_the_next_write(
    runtime: Runtime, clock: FakeClock
) -> None:
    with TestClient(runtime.web_app) as client:
        before = client.get("/readyz")
        with writes_refused(runtime.engine):
            with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the driver raises
                open_one(runtime, clock, "k1")
            during = client.get("/readyz")
        open_one(runtime, clock, "k2")
        after = client.get("/readyz")

    assert before.status_code == 200
    assert during.status_code == 503
    assert during.json()["database"] == "writes failing"
    assert "disk is full" in during.json()["error"] or "No space left" in during.json()["error"]
    assert after.status_code == 200


def test_a_write_failure_long_ago_no_longer_keeps_the_replica_out_of_rotation(
    runtime: Runtime, clock: FakeClock
) -> None:
    seconds = [0.0]
    health = WriteHealth(window_seconds=120, clock=lambda: seconds[0])
    health.watch(runtime.engine)

    with writes_refused(runtime.engine), pytest.raises(Exception):  # noqa: B017, PT011
        open_one(runtime, clock, "k1")
    said = health.failing()
    seconds[0] = 121.0

    assert said is not None
    assert health.failing() is None


def test_reads_and_writes_that_change_nothing_do_not_hide_a_write_failure(
    runtime: Runtime, clock: FakeClock
) -> None:
    health = WriteHealth()
    health.watch(runtime.engine)
    with writes_refused(runtime.engine), pytest.raises(Exception):  # noqa: B017, PT011
        open_one(runtime, clock, "k1")

    runtime.postmortems.status(channel_id="C0K1")  # a read
    with runtime.engine.begin() as connection:  # an UPDATE that matches nothing, committed
        connection.execute(update(OutboxRow).where(OutboxRow.id == -1).values(status="cancelled"))

    assert health.failing() is not None
