"""The postmortem document's rules: collaborative edits that never overwrite, action items,
and the Markdown artifact."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.document import (
    MAX_ACTION_ITEMS,
    MAX_SECTION,
    ActionItem,
    ActionItemRefused,
    Document,
    Edit,
    Gap,
    Section,
    SectionTooLong,
    action_item_params,
    action_item_reminder_applies,
    action_item_reminder_starts,
    artifact_gaps,
    check_action_item,
    check_action_item_change,
    fingerprint,
    merge_edit,
    plan_action_item_reminders,
    read_gaps,
    render_markdown,
)
from bot.domain.lifecycle import State
from bot.domain.messages import MessageKind
from bot.domain.policy import Policy
from bot.domain.postmortem import HandOver, Postmortem

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def stored(**sections: str) -> Document:
    return Document(
        postmortem_id=1,
        sections={Section(name): text for name, text in sections.items()},
        started_by="U0ALICE",
        started_at=NOW,
        updated_by="U0CAROL",
        updated_at=NOW,
    )


def shown(document: Document | None) -> dict[Section, str]:
    """What a form opened on ``document`` remembers of it."""
    return {s: fingerprint(document.text(s) if document else "") for s in Section}


def test_a_first_edit_writes_only_the_sections_filled_in() -> None:
    edit = merge_edit(None, {Section.SUMMARY: "  Checkout failed.  "}, shown(None))

    assert edit == Edit({Section.SUMMARY: "Checkout failed."}, ())


def test_an_untouched_section_keeps_what_someone_else_saved_since_the_form_opened() -> None:
    opened_on = stored(summary="Checkout failed.")
    submitted = {Section.SUMMARY: "Checkout failed.", Section.IMPACT: "40% of orders"}
    meanwhile = stored(summary="Checkout failed.", timeline="13:02 alert")

    edit = merge_edit(meanwhile, submitted, shown(opened_on))

    assert edit == Edit({Section.IMPACT: "40% of orders"}, ())


def test_changing_a_section_someone_else_changed_meanwhile_is_refused_but_not_the_others() -> None:
    opened_on = stored(summary="Checkout failed.")
    meanwhile = stored(summary="Checkout failed for 25 minutes.")
    submitted = {Section.SUMMARY: "Checkout broke.", Section.IMPACT: "40% of orders"}

    edit = merge_edit(meanwhile, submitted, shown(opened_on))

    assert edit == Edit({Section.IMPACT: "40% of orders"}, (Section.SUMMARY,))


def test_a_section_the_form_did_not_send_back_is_left_alone_not_cleared() -> None:
    opened_on = stored(summary="Checkout failed.", impact="40% of orders")

    edit = merge_edit(opened_on, {Section.TIMELINE: "13:02 alert"}, shown(opened_on))

    assert edit == Edit({Section.TIMELINE: "13:02 alert"}, ())


def test_writing_what_is_already_stored_is_no_conflict_and_no_change() -> None:
    opened_on = stored()
    meanwhile = stored(summary="Checkout failed.")

    edit = merge_edit(meanwhile, {Section.SUMMARY: "Checkout failed."}, shown(opened_on))

    assert edit == Edit({}, ())


def test_emptying_a_section_removes_its_text() -> None:
    opened_on = stored(summary="Checkout failed.")

    edit = merge_edit(opened_on, {Section.SUMMARY: " "}, shown(opened_on))

    assert edit == Edit({Section.SUMMARY: ""}, ())


def test_a_section_longer_than_slack_allows_is_refused_for_that_section() -> None:
    with pytest.raises(SectionTooLong) as refused:
        merge_edit(None, {Section.TIMELINE: "x" * (MAX_SECTION + 1)}, shown(None))

    assert refused.value.section is Section.TIMELINE


def test_an_action_item_due_today_is_accepted_and_its_spaces_tidied() -> None:
    text = check_action_item(
        "  Alert on\nqueue depth ", due_on=date(2026, 11, 27), today=NOW.date()
    )

    assert text == "Alert on queue depth"


@pytest.mark.parametrize(
    ("text", "due_on", "existing", "says"),
    [
        ("Alert on queue depth", date(2026, 11, 26), 0, "2026-11-26 has passed"),
        ("Alert on queue depth", date(9999, 12, 31), 0, "9999-12-31 is more than a year away"),
        ("Alert on queue depth", date(2027, 11, 28), 0, "2027-11-28 is more than a year away"),
        ("   ", date(2026, 12, 1), 0, "Say what is to be done"),
        ("x" * 301, date(2026, 12, 1), 0, "keep it to 300"),
        ("Alert", date(2026, 12, 1), MAX_ACTION_ITEMS, "already has 100 action items"),
    ],
)
def test_an_action_item_that_cannot_be_recorded_says_what_to_change(
    text: str, due_on: date, existing: int, says: str
) -> None:
    with pytest.raises(ActionItemRefused) as refused:
        check_action_item(text, due_on=due_on, today=NOW.date(), existing=existing)

    assert says in str(refused.value)


def postmortem(**fields: object) -> Postmortem:
    base: dict[str, object] = {
        "id": 7,
        "incident_key": "slack:C1:1",
        "title": "Checkout errors",
        "source": "slack",
        "channel_id": "C0INCIDENT",
        "state": State.IN_REVIEW,
        "resolved_at": datetime(2026, 11, 24, 13, 40, tzinfo=UTC),
        "opened_at": datetime(2026, 11, 24, 13, 45, tzinfo=UTC),
        "opened_by": "U0ALICE",
        "severity": "SEV2",
        "owner_id": "U0BOB",
        "meeting_at": datetime(2026, 11, 26, 14, 0, tzinfo=UTC),
        "meeting_held_at": datetime(2026, 11, 26, 15, 0, tzinfo=UTC),
        "meeting_participants": ("U0CS",),
    }
    base.update(fields)
    return Postmortem(**base)  # type: ignore[arg-type]


def test_the_markdown_strikes_a_dropped_item_through_with_neither_an_open_nor_a_ticked_box() -> (
    None
):
    dropped = ActionItem(
        3,
        "Shard the queue",
        "U0DAN",
        date(2026, 12, 4),
        "U0BOB",
        NOW,
        "U0BOB",
        NOW,
        drop_reason="the queue was removed",
    )

    markdown = render_markdown(postmortem(), None, [dropped], Policy())

    assert (
        "3. ~~Shard the queue — owner <@U0DAN>, due 2026-12-04~~ "
        "(dropped 2026-11-27: the queue was removed)\n"
    ) in markdown


def test_the_markdown_has_every_section_the_action_items_and_the_facts() -> None:
    document = stored(summary="Checkout failed.", contributing_factors="A retry storm.")
    items = [
        ActionItem(1, "Alert on queue depth", "U0DAN", date(2026, 12, 4), "U0BOB", NOW),
        ActionItem(2, "Canary payments", "U0BOB", date(2026, 12, 9), "U0BOB", NOW, "U0BOB", NOW),
    ]

    markdown = render_markdown(postmortem(), document, items, Policy(incident_managers=("U0IM",)))

    assert markdown.startswith("# Postmortem #7: Checkout errors\n")
    assert "- Severity: SEV2" in markdown
    assert "- Owner: <@U0BOB>" in markdown
    assert "- Meeting: held 2026-11-26 15:00 UTC" in markdown
    assert "- Participants: <@U0BOB>, <@U0IM>, <@U0CS>" in markdown
    assert "## Summary\n\nCheckout failed." in markdown
    assert "## Contributing factors\n\nA retry storm." in markdown
    assert "## Impact\n\n_Not written yet." in markdown
    assert "## How the incident response worked" in markdown
    assert "1. [ ] Alert on queue depth — owner <@U0DAN>, due 2026-12-04\n" in markdown
    assert "2. [x] Canary payments — owner <@U0BOB>, due 2026-12-09 (done 2026-11-27)" in markdown
    assert "blameless" in markdown.lower()


def test_a_false_alarm_says_so_and_an_empty_document_invites_writing_it() -> None:
    markdown = render_markdown(postmortem(false_alarm=True, owner_id=None), None, [], Policy())

    assert "False alarm: yes" in markdown
    assert "Owner: not chosen yet" in markdown
    assert "_None recorded yet. Add one with `/postmortem action" in markdown
    assert markdown.count("_Not written yet.") == len(Section)


def test_a_cancelled_postmortems_markdown_says_neither_reviewed_nor_yet_nor_how_to_add() -> None:
    cancelled = postmortem(
        state=State.CANCELLED,
        false_alarm=True,
        owner_id=None,
        meeting_held_at=None,
        cancelled_at=NOW,
        cancel_reason="opened twice, see #2",
    )

    markdown = render_markdown(cancelled, None, [], Policy())

    assert "- Status: Cancelled (not reviewed)\n" in markdown
    assert "- False alarm: yes\n" in markdown
    assert "- Owner: none (cancelled before anyone took it on)\n" in markdown
    assert "- Meeting: not held (was scheduled for 2026-11-26 14:00 UTC)\n" in markdown
    assert markdown.count("_Not written._") == len(Section)
    assert markdown.endswith("## Action items\n\n_None recorded._\n")
    assert "reviewed all the same" not in markdown
    assert "yet" not in markdown
    assert "/postmortem" not in markdown
    unscheduled = replace(cancelled, meeting_at=None)
    assert "- Meeting: none held\n" in render_markdown(unscheduled, None, [], Policy())


MANAGED = Policy(incident_managers=("U0IM",))


def test_the_participants_are_nobody_when_nobody_owned_it_or_met_about_it() -> None:
    cancelled = postmortem(
        state=State.CANCELLED,
        owner_id=None,
        meeting_at=None,
        meeting_held_at=None,
        meeting_participants=(),
        cancelled_at=NOW,
    )

    markdown = render_markdown(cancelled, None, [], MANAGED)

    assert "- Participants: none recorded\n" in markdown
    assert "U0IM" not in markdown


def test_a_meeting_cancelled_before_it_was_held_leaves_only_the_owner_as_participant() -> None:
    cancelled = postmortem(state=State.CANCELLED, meeting_held_at=None, cancelled_at=NOW)

    assert "- Participants: <@U0BOB>\n" in render_markdown(cancelled, None, [], MANAGED)


def test_a_meeting_held_without_being_scheduled_here_names_no_incident_manager() -> None:
    held = postmortem(meeting_at=None, meeting_participants=())

    assert "- Participants: <@U0BOB>\n" in render_markdown(held, None, [], MANAGED)


def test_an_owner_handed_it_after_the_meeting_is_not_listed_as_taking_part() -> None:
    # Bob ran the meeting (held 26 November 15:00); Carol took it on once it was complete.
    handed_on = HandOver(NOW, from_owner="U0BOB", to_owner="U0CAROL")
    completed = postmortem(state=State.COMPLETED, owner_id="U0CAROL", completed_at=NOW)

    markdown = render_markdown(completed, None, [], MANAGED, [handed_on])

    assert "- Owner: <@U0CAROL>\n" in markdown
    assert "- Participants: <@U0BOB>, <@U0IM>, <@U0CS>\n" in markdown


def test_the_owner_who_ran_the_meeting_is_listed_not_those_before_or_after() -> None:
    # Alice handed it to Bob before the meeting; Bob, who ran it, to Carol after it.
    hand_overs = [
        HandOver(datetime(2026, 11, 25, 9, 0, tzinfo=UTC), from_owner="U0ALICE", to_owner="U0BOB"),
        HandOver(NOW, from_owner="U0BOB", to_owner="U0CAROL"),
    ]
    completed = postmortem(state=State.COMPLETED, owner_id="U0CAROL", completed_at=NOW)

    assert "- Participants: <@U0BOB>, <@U0IM>, <@U0CS>\n" in render_markdown(
        completed, None, [], MANAGED, hand_overs
    )


def test_handed_over_as_an_unscheduled_meeting_is_recorded_the_owner_then_took_part() -> None:
    # Marked held unscheduled and handed over within the same second: held first.
    held = postmortem(meeting_at=None, meeting_participants=(), meeting_held_at=NOW)
    handed_on = HandOver(NOW, from_owner="U0BOB", to_owner="U0CAROL")

    markdown = render_markdown(replace(held, owner_id="U0CAROL"), None, [], MANAGED, [handed_on])

    assert "- Participants: <@U0BOB>\n" in markdown


def test_an_owner_handed_a_meeting_still_to_come_is_listed_for_it() -> None:
    scheduled = postmortem(state=State.MEETING_SCHEDULED, owner_id="U0CAROL", meeting_held_at=None)
    handed_on = HandOver(NOW, from_owner="U0BOB", to_owner="U0CAROL")
    later = replace(scheduled, meeting_at=NOW + timedelta(days=1))

    assert "- Participants: <@U0CAROL>, <@U0IM>, <@U0CS>\n" in render_markdown(
        later, None, [], MANAGED, [handed_on]
    )


@pytest.mark.parametrize(
    ("today", "last_day"),
    [(date(2026, 11, 27), date(2027, 11, 27)), (date(2028, 2, 29), date(2029, 2, 28))],
)
def test_an_action_item_may_be_due_up_to_a_year_ahead(today: date, last_day: date) -> None:
    assert check_action_item("Alert", due_on=last_day, today=today) == "Alert"


def an_item(due_on: date, **changes: object) -> ActionItem:
    fields: dict[str, object] = {
        "number": 3,
        "text": "Alert on queue depth",
        "owner_id": "U0DAN",
        "due_on": due_on,
        "added_by": "U0BOB",
        "added_at": NOW,
    }
    fields.update(changes)
    return ActionItem(**fields)  # type: ignore[arg-type]


def test_an_action_item_is_reminded_as_its_due_date_begins_then_a_week_later() -> None:
    planned = plan_action_item_reminders(an_item(date(2026, 12, 4)), Policy(), NOW)

    # Due when the day begins first anywhere (UTC+14); the dispatcher then holds each for
    # the day to begin where its owner is.
    assert [(p.kind, p.due_at, p.recipient) for p in planned] == [
        (MessageKind.ACTION_ITEM_DUE, datetime(2026, 12, 3, 10, tzinfo=UTC), "U0DAN"),
        (MessageKind.ACTION_ITEM_OVERDUE, datetime(2026, 12, 10, 10, tzinfo=UTC), "U0DAN"),
    ]
    assert planned[0].params == {
        "number": "3",
        "text": "Alert on queue depth",
        "owner": "U0DAN",
        "due": "2026-12-04",
    }


def test_an_action_item_due_the_day_it_is_recorded_gets_only_the_week_later_reminder() -> None:
    planned = plan_action_item_reminders(an_item(NOW.date()), Policy(), NOW)

    assert [p.kind for p in planned] == [MessageKind.ACTION_ITEM_OVERDUE]
    assert planned[0].due_at == datetime(2026, 12, 3, 10, tzinfo=UTC)


def test_due_today_is_today_in_the_workspaces_zone() -> None:
    tokyo = Policy(workspace_timezone="Asia/Tokyo")  # 19:00 on Friday 27 November there

    due_today = plan_action_item_reminders(an_item(date(2026, 11, 27)), tokyo, NOW)
    due_tomorrow = plan_action_item_reminders(an_item(date(2026, 11, 28)), tokyo, NOW)

    assert [p.kind for p in due_today] == [MessageKind.ACTION_ITEM_OVERDUE]
    assert [p.kind for p in due_tomorrow] == [
        MessageKind.ACTION_ITEM_DUE,
        MessageKind.ACTION_ITEM_OVERDUE,
    ]


def test_a_reminder_applies_only_while_its_item_is_open() -> None:
    due = date(2026, 12, 4)
    done = an_item(due, done_by="U0DAN", done_at=NOW + timedelta(days=1))

    assert action_item_reminder_applies(an_item(due))
    assert not action_item_reminder_applies(done)
    assert not action_item_reminder_applies(None)


def test_a_reminder_planned_before_its_item_changed_owner_or_due_date_no_longer_applies() -> None:
    due = date(2026, 12, 4)
    planned = action_item_params(an_item(due))

    assert action_item_reminder_applies(an_item(due), planned)
    assert not action_item_reminder_applies(an_item(due + timedelta(days=7)), planned)
    assert not action_item_reminder_applies(an_item(due, owner_id="U0ERIN"), planned)


@pytest.mark.parametrize(
    ("due_on", "owner_id", "says"),
    [
        (date(2026, 12, 4), None, "Action item 3 is already due 2026-12-04."),
        (None, "U0DAN", "Action item 3 is already <@U0DAN>'s."),
        (date(2026, 11, 1), None, "2026-11-01 has passed"),
        (date(2028, 1, 1), None, "2028-01-01 is more than a year away"),
    ],
)
def test_a_change_that_changes_nothing_or_gives_an_impossible_date_is_refused(
    due_on: date | None, owner_id: str | None, says: str
) -> None:
    with pytest.raises(ActionItemRefused, match=re.escape(says)):
        check_action_item_change(
            an_item(date(2026, 12, 4)), due_on=due_on, owner_id=owner_id, today=NOW.date()
        )


def test_a_week_after_the_due_date_is_a_calendar_week_across_a_clock_change() -> None:
    london = ZoneInfo("Europe/London")  # back to GMT on Sunday 25 October

    starts = action_item_reminder_starts(
        MessageKind.ACTION_ITEM_OVERDUE, date(2026, 10, 20), london
    )

    assert starts == datetime(2026, 10, 27, 0, 0, tzinfo=UTC)  # midnight in London


DUE = date(2026, 12, 4)


def test_nothing_written_lacks_every_part_of_the_artifact() -> None:
    assert artifact_gaps(None, []) == [Gap.WHAT_WENT_WRONG, Gap.STEPS, Gap.RESPONSE]


def test_the_contributing_factors_say_what_went_wrong() -> None:
    written = stored(contributing_factors="A config push, then retries.", response="Paged.")

    assert artifact_gaps(written, [an_item(DUE)]) == []


def test_a_summary_impact_timeline_and_what_went_well_do_not_say_what_caused_it() -> None:
    # "A detailed description of exactly what went wrong in order to cause the incident":
    # what happened, and to whom, is not why.
    written = stored(
        summary="Checkout failed.", impact="40% of orders", timeline="13:02", went_well="Rollback"
    )

    assert artifact_gaps(written, [an_item(DUE)]) == [Gap.WHAT_WENT_WRONG, Gap.RESPONSE]


def test_a_blank_section_is_not_written() -> None:
    written = stored(contributing_factors="A config push.", response="  \n ")

    assert artifact_gaps(written, [an_item(DUE)]) == [Gap.RESPONSE]


def test_a_done_action_item_is_a_step_but_a_dropped_one_is_not() -> None:
    written = stored(contributing_factors="A config push.", response="Paged in 2 min.")
    done = an_item(DUE, done_by="U0DAN", done_at=NOW)
    dropped = an_item(DUE, done_by="U0BOB", done_at=NOW, drop_reason="the queue is gone")

    assert artifact_gaps(written, [done]) == []
    assert artifact_gaps(written, [dropped]) == [Gap.STEPS]
    assert artifact_gaps(written, [dropped, an_item(DUE)]) == []


@pytest.mark.parametrize(
    ("param", "gaps"),
    [
        ("what_went_wrong,steps", [Gap.WHAT_WENT_WRONG, Gap.STEPS]),
        ("", []),
        (None, []),  # a message planned before gaps were recorded
        ("response,something_new", [Gap.RESPONSE]),
    ],
)
def test_the_gaps_a_message_names_are_read_back_ignoring_what_is_not_one(
    param: object, gaps: list[Gap]
) -> None:
    assert read_gaps(param) == gaps
