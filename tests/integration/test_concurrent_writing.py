"""Many people writing one postmortem at the same instant: every action item gets its own
number, and no section anyone saved is lost (SQLite and PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from bot.bootstrap import Runtime
from bot.domain.document import Section, fingerprint
from bot.domain.postmortem import IncidentReport
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
