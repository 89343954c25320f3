"""People added to a postmortem's candidates after it opened (PagerDuty's, found later)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.bootstrap import Runtime
from bot.domain.owners import Candidate, Criterion, Person, with_more_evidence
from bot.domain.postmortem import IncidentReport
from bot.services import postmortems as service_module
from tests.support.clock import FakeClock


def test_two_deliveries_adding_people_at_once_keep_both(
    runtime: Runtime, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On PostgreSQL the second waits for the first's row lock; SQLite's writer lock already
    # serializes them. Without either, the slower write erased the faster one's person.
    opened = runtime.postmortems.open_postmortem(
        report=IncidentReport(key="pd:Q1", title="Outage", source="slack", resolved_at=clock()),
        channel_id="C0INCIDENT",
        opened_by="U0CAROL",
    ).postmortem
    merge = with_more_evidence
    first_is_merging = threading.Event()

    def slow_first_merge(
        candidates: Iterable[Candidate], evidence: Mapping[Criterion, Iterable[Person]]
    ) -> list[Candidate]:
        if not first_is_merging.is_set():
            first_is_merging.set()
            time.sleep(0.5)  # the second delivery reads and writes meanwhile, if it can
        return merge(candidates, evidence)

    monkeypatch.setattr(service_module, "with_more_evidence", slow_first_merge)

    def add(user: str) -> None:
        runtime.postmortems.add_candidates(
            postmortem_id=opened.id,
            evidence={Criterion.LED_RESPONSE: (Person(slack_user_id=user),)},
            actor="pagerduty",
        )

    with ThreadPoolExecutor(max_workers=2) as deliveries:
        first = deliveries.submit(add, "U0ALICE")
        first_is_merging.wait(timeout=5)
        second = deliveries.submit(add, "U0TESS")
        first.result(timeout=10)
        second.result(timeout=10)

    stored = runtime.postmortems.get(postmortem_id=opened.id)
    assert stored is not None
    assert {c.person.slack_user_id for c in stored.candidates} == {"U0ALICE", "U0TESS"}
