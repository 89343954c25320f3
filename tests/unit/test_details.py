"""The rules for correcting a postmortem's details, and what a new resolution time plans."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.details import (
    Details,
    ResolutionNotYours,
    check_can_correct,
    check_can_move_resolution,
    correct,
)
from bot.domain.errors import IllegalTransition
from bot.domain.lifecycle import State
from bot.domain.messages import MessageKind, plan_after_resolution_moved
from bot.domain.policy import Policy
from bot.domain.postmortem import Postmortem
from bot.slack.details_form import details_modal, read_details_form

TUESDAY = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
SHOWN = Details(title="Checkout errors", severity=None, resolved_at=TUESDAY, false_alarm=False)


def postmortem(state: State, resolved_at: datetime, **fields: object) -> Postmortem:
    return replace(
        Postmortem(
            id=1,
            incident_key="slack:C1:x",
            title="Checkout errors",
            source="slack",
            channel_id="C1",
            state=state,
            resolved_at=resolved_at,
            opened_at=TUESDAY,
            opened_by="U0ALICE",
        ),
        **fields,  # type: ignore[arg-type]
    )


def test_only_the_fields_the_person_changed_are_applied_over_what_is_stored() -> None:
    stored = replace(SHOWN, title="Someone else's title")

    correction = correct(stored, shown=SHOWN, submitted=replace(SHOWN, severity="SEV2"))

    assert correction.conflicts == {}
    assert correction.after == replace(stored, severity="SEV2")
    assert correction.changed == {"severity"}


def test_a_field_changed_by_both_to_different_values_is_a_conflict_and_nothing_applies() -> None:
    stored = replace(SHOWN, title="Bob's title")
    submitted = replace(SHOWN, title="Carol's title", severity="SEV1")

    correction = correct(stored, shown=SHOWN, submitted=submitted)

    assert correction.conflicts == {"title": "Bob's title"}
    assert correction.after == stored
    assert correction.changed == set()


def test_the_same_change_made_twice_is_no_conflict_and_changes_nothing_more() -> None:
    stored = replace(SHOWN, title="Payments down")

    correction = correct(stored, shown=SHOWN, submitted=replace(SHOWN, title="Payments down"))

    assert correction.conflicts == {}
    assert correction.changed == set()


def test_a_cancelled_postmortem_keeps_its_details() -> None:
    with pytest.raises(IllegalTransition, match="it was cancelled"):
        check_can_correct(postmortem(State.CANCELLED, TUESDAY))
    check_can_correct(postmortem(State.COMPLETED, TUESDAY))  # its record should be right


def test_reminders_whose_time_has_passed_are_not_planned_again() -> None:
    now = TUESDAY
    moved = postmortem(State.DRAFTING, TUESDAY - timedelta(days=4))

    plan = plan_after_resolution_moved(moved, Policy(), now, overdue_notice_heard=False)

    # Resolved the Friday before: day 3 (Monday) has passed; day 5 (Wednesday) and the
    # deadline (Friday) are ahead.
    assert [(p.kind, p.due_at) for p in plan] == [
        (MessageKind.REMIND_MEETING_DUE, TUESDAY + timedelta(days=1)),
        (MessageKind.ESCALATE_OVERDUE, TUESDAY + timedelta(days=3)),
    ]


def test_a_passed_deadline_escalates_now_only_if_the_notice_was_not_sent_yet() -> None:
    moved = postmortem(State.DRAFTING, TUESDAY - timedelta(days=10))

    waiting = plan_after_resolution_moved(moved, Policy(), TUESDAY, overdue_notice_heard=False)
    sent = plan_after_resolution_moved(moved, Policy(), TUESDAY, overdue_notice_heard=True)

    assert [(p.kind, p.due_at) for p in waiting] == [(MessageKind.ESCALATE_OVERDUE, TUESDAY)]
    assert sent == []


def test_a_scheduled_meeting_is_not_called_overdue_before_a_day_after_its_time() -> None:
    meeting = TUESDAY + timedelta(days=2)
    moved = postmortem(
        State.MEETING_SCHEDULED, TUESDAY - timedelta(days=6), meeting_at=meeting, owner_id="U0BOB"
    )

    plan = plan_after_resolution_moved(moved, Policy(), TUESDAY, overdue_notice_heard=False)

    assert [(p.kind, p.due_at) for p in plan] == [
        (MessageKind.ESCALATE_OVERDUE, meeting + timedelta(days=1))
    ]


def test_once_the_meeting_was_held_nothing_counts_from_the_resolution() -> None:
    moved = postmortem(State.IN_REVIEW, TUESDAY - timedelta(days=10), owner_id="U0BOB")

    assert plan_after_resolution_moved(moved, Policy(), TUESDAY, overdue_notice_heard=False) == []


def test_the_refusal_to_move_the_resolution_names_who_may_and_what_else_was_not_saved() -> None:
    by_webhook = postmortem(State.AWAITING_OWNER, TUESDAY, opened_by="pagerduty")

    with pytest.raises(ResolutionNotYours) as refused:
        check_can_move_resolution(
            by_webhook, actor="U0CAROL", incident_managers=("U0IM",), also_changed=True
        )

    assert str(refused.value) == (
        "The resolution time sets the meeting's deadline, so only an incident manager can "
        "change it. Your other changes are not saved either: save them without it."
    )
    assert refused.value.plain_text == str(refused.value)


def test_the_refusal_to_move_the_resolution_says_who_may_without_mentions_in_plain_text() -> None:
    owned = postmortem(State.DRAFTING, TUESDAY, owner_id="U0BOB")

    with pytest.raises(ResolutionNotYours) as refused:
        check_can_move_resolution(owned, actor="U0CAROL", incident_managers=())

    assert str(refused.value) == (
        "The resolution time sets the meeting's deadline, so only its owner <@U0BOB>, "
        "whoever opened it (<@U0ALICE>) or an incident manager can change it."
    )
    # For the details form's inline error, which Slack shows as plain text.
    assert refused.value.plain_text == (
        "The resolution time sets the meeting's deadline, so only its owner, whoever opened "
        "it or an incident manager can change it. `/postmortem status #1` names its owner."
    )


@pytest.mark.parametrize(
    ("chosen", "refused"),
    [("P1", False), ("P2", False), ("SEV2", False), ("-", False), ("P9", True), ("high", True)],
)
def test_the_details_form_takes_the_severities_it_offered_a_webhooks_own_included(
    chosen: str, refused: bool
) -> None:
    paged = postmortem(State.DRAFTING, TUESDAY, severity="P1", owner_id="U0BOB")
    view = details_modal(paged, Policy(), "C1").to_dict()
    state = {
        "severity": {"severity": {"type": "static_select", "selected_option": {"value": chosen}}},
        "title": {"title": {"type": "plain_text_input", "value": "Checkout errors"}},
        "resolved_at": {
            "resolved_at": {
                "type": "datetimepicker",
                "selected_date_time": int(TUESDAY.timestamp()),
            }
        },
    }

    form = read_details_form({**view, "state": {"values": state}}, TUESDAY)

    assert ("severity" in form.errors) is refused


def offered_severities(severity: str | None) -> list[str]:
    view = details_modal(
        postmortem(State.DRAFTING, TUESDAY, severity=severity, owner_id="U0BOB"), Policy(), "C1"
    ).to_dict()
    [block] = [b for b in view["blocks"] if b.get("block_id") == "severity"]
    return [option["value"] for option in block["element"]["options"]]


def test_the_details_form_offers_the_scale_of_the_current_severity() -> None:
    assert offered_severities("P2") == ["P1", "P2", "P3", "P4", "P5", "-"]
    assert offered_severities("SEV3") == ["SEV1", "SEV2", "SEV3", "SEV4", "SEV5", "-"]
    assert offered_severities(None) == ["SEV1", "SEV2", "SEV3", "SEV4", "SEV5"]
    # A tool's own word stays offered, to be kept, with the SEV scale to move it to.
    assert offered_severities("high urgency") == [
        "high urgency",
        "SEV1",
        "SEV2",
        "SEV3",
        "SEV4",
        "SEV5",
        "-",
    ]


def test_a_severity_set_can_be_unset_in_the_details_form() -> None:
    paged = postmortem(State.DRAFTING, TUESDAY, severity="SEV2", owner_id="U0BOB")
    view = details_modal(paged, Policy(), "C1").to_dict()
    [severity] = [b for b in view["blocks"] if b.get("block_id") == "severity"]
    not_set = severity["element"]["options"][-1]
    state = {
        "severity": {"severity": {"type": "static_select", "selected_option": not_set}},
        "title": {"title": {"type": "plain_text_input", "value": "Checkout errors"}},
        "resolved_at": {
            "resolved_at": {
                "type": "datetimepicker",
                "selected_date_time": int(TUESDAY.timestamp()),
            }
        },
    }

    form = read_details_form({**view, "state": {"values": state}}, TUESDAY)

    assert not_set["text"]["text"] == "Not set"
    assert form.submitted is not None
    assert form.submitted.severity is None
