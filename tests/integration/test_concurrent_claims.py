"""Clicks at the same instant from different processes still give exactly one owner."""

from __future__ import annotations

import multiprocessing
import time
from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.domain.policy import Policy
from bot.domain.postmortem import IncidentReport
from bot.persistence.db import create_db_engine, create_session_factory
from bot.persistence.tables import OutboxRow, PostmortemRow
from bot.persistence.uow import UnitOfWork
from bot.services.clock import system_clock
from bot.services.postmortems import PostmortemService

PROCESSES = 4
POSTMORTEMS = 25


def service_for(database_url: str) -> PostmortemService:
    factory = create_session_factory(create_db_engine(database_url))
    return PostmortemService(
        uow_factory=lambda: UnitOfWork(factory), policy=Policy(), clock=system_clock
    )


def claim_all(database_url: str, user: str, ids: list[int], start_at: float) -> list[bool]:
    service = service_for(database_url)
    time.sleep(max(0.0, start_at - time.time()))  # every process fires at the same instant
    return [
        service.claim_ownership(
            postmortem_id=pid, owner=user, chosen_by=user, channel_id="C0RACE"
        ).won
        for pid in ids
    ]


def test_concurrent_claims_from_several_processes_give_exactly_one_owner(
    database_url: str,
) -> None:
    service = service_for(database_url)
    ids = [
        service.open_postmortem(
            report=IncidentReport(
                key=f"race:{n}",
                title=f"Race {n}",
                source="test",
                resolved_at=datetime.now(UTC),
            ),
            channel_id=f"C0RACE{n}",
            opened_by="U0OPENER",
        ).postmortem.id
        for n in range(POSTMORTEMS)
    ]
    users = [f"U0CLICKER{n}" for n in range(PROCESSES)]
    start_at = time.time() + 3.0  # after every process has imported and connected

    with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
        results = pool.starmap(claim_all, [(database_url, u, ids, start_at) for u in users])

    engine = create_db_engine(database_url)
    with engine.connect() as connection:
        owners = dict(connection.execute(select(PostmortemRow.id, PostmortemRow.owner_id)).all())
        notices = connection.execute(
            select(func.count()).where(OutboxRow.kind == "notice")
        ).scalar_one()
    engine.dispose()
    for index, pid in enumerate(ids):
        winners = [users[n] for n in range(PROCESSES) if results[n][index]]
        assert len(winners) == 1, f"postmortem {pid}: winners {winners}"
        assert owners[pid] == winners[0]
    # Everyone who lost was told who owns it.
    assert notices == POSTMORTEMS * (PROCESSES - 1)
