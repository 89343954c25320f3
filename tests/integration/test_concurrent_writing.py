"""Many people writing one postmortem: every action item gets its own number, no section
anyone saved is lost, and what an edit replaced stays in the audit trail (SQLite and
PostgreSQL)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.bootstrap import Runtime
from bot.domain.document import ActionItemRefused, Section, fingerprint
from bot.domain.postmortem import IncidentReport
from bot.persistence.tables import ActionItemRow, AuditEventRow
from tests.support.clock import FakeClock

WRITERS = 8


def open_one(runtime: Runtime, clock: FakeClock) -> int:
    outcome = runtime.postmortems.open_postmortem(
        report=IncidentReport(
            key="k1", title="Checkout errors", source="slack", resolved_at=clock()
        ),
        channel_id="C0INCIDENT",
        opened_by="U0ALICE",
    )
    return outcome.postmortem.id


def test_action_items_added_at_once_are_numbered_one_to_n_without_a_gap(
    runtime: Runtime, clock: FakeClock
) -> None:
    postmortem_id = open_one(runtime, clock)
    due = (clock() + timedelta(days=7)).date()

    def add(n: int) -> int:
        _, item = runtime.documents.add_action_item(
            channel_id="C0INCIDENT",
            actor=f"U0W{n}",
            owner_id="U0DAN",
            due_on=due,
            text=f"Step {n}",
            postmortem_id=postmortem_id,
        )
        return item.number

    with ThreadPoolExecutor(WRITERS) as pool:
        numbers = sorted(pool.map(add, range(WRITERS)))

    assert numbers == list(range(1, WRITERS + 1))


def test_sections_saved_at_once_by_different_people_are_all_kept(
    runtime: Runtime, clock: FakeClock
) -> None:
    postmortem_id = open_one(runtime, clock)
    sections = list(Section)
    nothing_shown = {s: fingerprint("") for s in Section}

    def save(section: Section) -> None:
        runtime.documents.save(
            postmortem_id=postmortem_id,
            channel_id="C0INCIDENT",
            actor=f"U0{section.name[:6]}",
            submitted={section: f"{section.value} text"},
            shown=nothing_shown,
        )

    with ThreadPoolExecutor(len(sections)) as pool:
        list(pool.map(save, sections))

    _, document = runtime.documents.for_form(channel_id="C0INCIDENT")
    assert document is not None
    assert {s: document.text(s) for s in Section} == {s: f"{s.value} text" for s in Section}


def test_each_save_keeps_what_the_sections_it_changed_said_before(
    runtime: Runtime, clock: FakeClock
) -> None:
    postmortem_id = open_one(runtime, clock)
    nothing_shown = {s: fingerprint("") for s in Section}
    first = {Section.SUMMARY: "Checkout failed.", Section.IMPACT: "Orders"}
    runtime.documents.save(
        postmortem_id=postmortem_id,
        channel_id="C0INCIDENT",
        actor="U0BOB",
        submitted=first,
        shown=nothing_shown,
    )
    runtime.documents.save(
        postmortem_id=postmortem_id,
        channel_id="C0INCIDENT",
        actor="U0CAROL",
        submitted={Section.SUMMARY: "Checkout failed for 25 minutes."},
        shown={**nothing_shown, Section.SUMMARY: fingerprint("Checkout failed.")},
    )

    with Session(runtime.engine) as session:
        saves = session.scalars(
            select(AuditEventRow.details)
            .where(AuditEventRow.action == "document_saved")
            .order_by(AuditEventRow.id)
        ).all()
    assert saves == [
        {"sections": ["summary", "impact"], "before": {}},
        {"sections": ["summary"], "before": {"summary": "Checkout failed."}},
    ]


def test_an_action_item_marked_done_by_many_at_once_is_done_once(
    runtime: Runtime, clock: FakeClock
) -> None:
    postmortem_id = open_one(runtime, clock)
    runtime.documents.add_action_item(
        channel_id="C0INCIDENT",
        actor="U0BOB",
        owner_id="U0DAN",
        due_on=(clock() + timedelta(days=7)).date(),
        text="Alert on queue depth",
    )

    def mark(n: int) -> bool:
        try:
            runtime.documents.complete_action_item(
                asked_in="C0INCIDENT", actor=f"U0W{n}", number=1, postmortem_id=postmortem_id
            )
        except ActionItemRefused:
            return False
        return True

    with ThreadPoolExecutor(WRITERS) as pool:
        marked = list(pool.map(mark, range(WRITERS)))

    assert marked.count(True) == 1


def test_a_change_waiting_on_another_persons_change_tells_only_its_own(
    runtime: Runtime, clock: FakeClock
) -> None:
    postmortem_id = open_one(runtime, clock)
    due = (clock() + timedelta(days=7)).date()
    runtime.documents.add_action_item(
        channel_id="C0INCIDENT", actor="U0BOB", owner_id="U0DAN", due_on=due, text="Step"
    )
    item = (ActionItemRow.postmortem_id == postmortem_id, ActionItemRow.number == 1)

    with runtime.engine.connect() as other, ThreadPoolExecutor(1) as pool:
        handing_over = other.begin()  # someone hands item 1 to Erin, not committed yet
        other.execute(update(ActionItemRow).where(*item).values(owner_id="U0ERIN"))
        redating = pool.submit(
            runtime.documents.change_action_item,
            asked_in="C0INCIDENT",
            actor="U0CAROL",
            number=1,
            due_on=due + timedelta(days=7),
        )
        time.sleep(0.3)
        assert not redating.done(), "the change did not wait for the one under way"
        handing_over.commit()
        _, before, after = redating.result(timeout=10)

    assert (before.owner_id, after.owner_id) == ("U0ERIN", "U0ERIN")
    with Session(runtime.engine) as session:
        told = session.scalars(
            select(AuditEventRow.details).where(AuditEventRow.action == "action_item_changed")
        ).one()
    assert told == {"number": "1", "due": {"was": due.isoformat(), "now": after.due_on.isoformat()}}
