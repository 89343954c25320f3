"""The timeline's first draft, from what the incident's tools recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.timeline import MAX_LINES, TimelineEvent, timeline_draft

AT = datetime(2026, 11, 24, 13, 2, tzinfo=UTC)


def test_each_event_is_a_line_in_the_workspaces_zone_oldest_first() -> None:
    events = [
        TimelineEvent(AT + timedelta(minutes=40), "incident.resolved", "Alice"),
        TimelineEvent(AT, "incident.triggered", "Datadog"),
        TimelineEvent(AT + timedelta(minutes=3), "incident.acknowledged", "Alice"),
    ]

    draft = timeline_draft(events, ZoneInfo("Europe/Berlin"), max_chars=3000)

    assert draft == (
        "2026-11-24 14:02 CET — Triggered by Datadog\n"
        "2026-11-24 14:05 CET — Acknowledged by Alice\n"
        "2026-11-24 14:42 CET — Resolved by Alice"
    )


def test_other_tools_actions_and_unknown_event_types_are_said_in_words() -> None:
    events = [
        TimelineEvent(AT, "Create"),
        TimelineEvent(AT + timedelta(minutes=1), "AssignOwnership", "Bob"),
        TimelineEvent(AT + timedelta(minutes=2), "incident.custom_field_values.updated"),
    ]

    lines = timeline_draft(events, ZoneInfo("UTC"), max_chars=3000).splitlines()

    assert [line.split(" — ")[1] for line in lines] == [
        "Alert created",
        "Ownership assigned to Bob",
        "Custom field values updated",
    ]


def test_one_event_recorded_once_per_person_it_names_is_one_line() -> None:
    twice = [TimelineEvent(AT, "Create", "Alice"), TimelineEvent(AT, "Create", "Alice")]

    assert (
        timeline_draft(twice, ZoneInfo("UTC"), max_chars=3000)
        == "2026-11-24 13:02 UTC — Alert created by Alice"
    )


def test_a_time_stored_without_its_zone_is_utc() -> None:
    naive = TimelineEvent(AT.replace(tzinfo=None), "incident.triggered")

    assert timeline_draft([naive], ZoneInfo("America/New_York"), max_chars=3000).startswith(
        "2026-11-24 08:02 EST — Triggered"
    )


def test_nothing_recorded_is_no_draft_and_a_flood_keeps_its_start_and_its_end() -> None:
    flood = [TimelineEvent(AT + timedelta(minutes=n), "incident.annotated") for n in range(49)]
    flood.append(TimelineEvent(AT + timedelta(minutes=49), "incident.resolved", "Alice"))

    lines = timeline_draft(flood, ZoneInfo("UTC"), max_chars=3000).splitlines()

    assert timeline_draft([], ZoneInfo("UTC"), max_chars=3000) == ""
    assert len(lines) == MAX_LINES + 1
    assert lines[0] == "2026-11-24 13:02 UTC — Note added"
    assert lines[-2] == "… 10 more events in the incident's tool …"
    assert lines[-1] == "2026-11-24 13:51 UTC — Resolved by Alice"


def test_a_draft_fits_the_section_in_whole_lines() -> None:
    events = [TimelineEvent(AT + timedelta(minutes=n), "incident.annotated") for n in range(10)]

    draft = timeline_draft(events, ZoneInfo("UTC"), max_chars=150)

    assert len(draft) <= 150
    assert all(line.endswith(("Note added", "tool …")) for line in draft.splitlines())
    assert draft.splitlines()[-1] == "2026-11-24 13:11 UTC — Note added"
