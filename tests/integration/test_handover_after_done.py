"""Handing a completed postmortem over, at the services, on SQLite and PostgreSQL: who may,
what the audit keeps, which pending reminders follow the new owner (and which stay), and a
cancelled one refused.

The clock starts on Tuesday 24 November 2026, 14:00 UTC; working hours are the default.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from bot.bootstrap import Runtime
from bot.devtools.slack_standin import SlackStandIn
from bot.domain.errors import IllegalTransition, NotAllowed
from bot.domain.lifecycle import State
from tests.integration.test_dispatch_delivery import CHANNEL, open_postmortem, outbox
from tests.support.clock import FakeClock


def completed_by_bob(runtime: Runtime, clock: FakeClock) -> None:
    """Bob owns #1, met, recorded an action item of his own and marked it done, with its
    document not written: what went wrong and how the response worked are missing."""
    open_postmortem(runtime, clock)
    runtime.postmortems.claim_ownership(
        postmortem_id=1, owner="U0BOB", chosen_by="U0BOB", channel_id=CHANNEL
    )
    runtime.lifecycle.mark_meeting_held(channel_id=CHANNEL, actor="U0BOB", unscheduled=True)
    runtime.documents.add_action_item(
        channel_id=CHANNEL,
        actor="U0BOB",
        owner_id="U0BOB",
        due_on=date(2026, 12, 4),
        text="Serialise config pushes and deploys",
    )
    runtime.lifecycle.complete(channel_id=CHANNEL, actor="U0BOB")
    runtime.dispatcher.drain(now=clock())


def owner_of(runtime: Runtime) -> str | None:
    found = runtime.postmortems.get(postmortem_id=1)
    assert found is not None
    return found.owner_id


def pending(runtime: Runtime) -> list[tuple[str, str | None]]:
    """(kind, recipient) of every message still to be sent, oldest first."""
    return [(row.kind, row.recipient) for row in outbox(runtime) if row.status == "pending"]


def test_a_completed_postmortem_is_handed_over_and_its_gaps_reminder_follows_the_new_owner(
    runtime: Runtime, clock: FakeClock
) -> None:
    completed_by_bob(runtime, clock)
    assert ("nudge_artifact_gaps", "U0BOB") in pending(runtime)

    # No number: the channel's only postmortem is its completed one.
    handed = runtime.postmortems.hand_over(channel_id=CHANNEL, actor="U0BOB", new_owner="U0CAROL")

    assert (handed.owner_id, handed.state) == ("U0CAROL", State.COMPLETED)
    trail = runtime.postmortems.audit_trail(postmortem_id=1)
    assert [(who, what) for _, who, what in trail][-1] == ("U0BOB", "owner_handed_over")
    still_to_send = pending(runtime)
    assert ("nudge_artifact_gaps", "U0CAROL") in still_to_send
    assert ("nudge_artifact_gaps", "U0BOB") not in still_to_send
    # Bob's own action item is still his to do: its reminders stay with him.
    assert ("action_item_due", "U0BOB") in still_to_send
    assert ("action_item_overdue", "U0BOB") in still_to_send
    # Nothing that only makes sense before `done` is planned for the new owner.
    kinds = {kind for kind, _ in still_to_send}
    assert kinds & {"nudge_no_meeting", "nudge_no_draft", "nudge_not_done"} == set()
    assert ("owner_chosen", None) in still_to_send
    assert ("owner_told", "U0CAROL") in still_to_send


def test_the_new_owner_hears_what_is_left_as_it_is_sent_and_is_reminded_of_the_gaps(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    completed_by_bob(runtime, clock)

    runtime.postmortems.hand_over(channel_id=CHANNEL, actor="U0BOB", new_owner="U0CAROL")
    runtime.dispatcher.drain(now=clock())
    clock.advance(timedelta(days=6))  # Monday 30 November, 14:00: the gaps reminder is due
    runtime.dispatcher.drain(now=clock())

    def sent(kind: str) -> list[str]:
        return [
            str(c.params["text"])
            for c in slack.calls("chat.postMessage")
            if c.params["metadata"]["event_payload"]["kind"] == kind
        ]

    [_, announcement] = sent("owner_chosen")  # Bob's claim, then the hand-over
    assert announcement.startswith("<@U0CAROL>, you now own the postmortem for *Checkout errors*")
    assert "does not say yet what went wrong to cause it" in announcement
    assert "Its open action item is followed up with its owner" in announcement
    assert "`/postmortem schedule #1`" not in announcement
    [direct] = sent("owner_told")
    assert "which is already complete" in direct
    [reminder] = sent("nudge_artifact_gaps")
    assert reminder.startswith(":memo: <@U0CAROL>, the postmortem for *Checkout errors* (#1)")


def test_someone_else_still_cannot_hand_over_a_completed_postmortem(
    runtime: Runtime, clock: FakeClock
) -> None:
    completed_by_bob(runtime, clock)

    with pytest.raises(NotAllowed, match="Only the current owner <@U0BOB>"):
        runtime.postmortems.hand_over(
            channel_id=CHANNEL, actor="U0MALLORY", new_owner="U0MALLORY", postmortem_id=1
        )

    assert owner_of(runtime) == "U0BOB"
    assert ("nudge_artifact_gaps", "U0BOB") in pending(runtime)


def test_a_cancelled_postmortem_is_not_handed_over_and_says_it_was_cancelled(
    runtime: Runtime, clock: FakeClock
) -> None:
    open_postmortem(runtime, clock)
    runtime.postmortems.claim_ownership(
        postmortem_id=1, owner="U0BOB", chosen_by="U0BOB", channel_id=CHANNEL
    )
    runtime.lifecycle.cancel(channel_id=CHANNEL, actor="U0BOB", reason="Opened twice")

    with pytest.raises(IllegalTransition) as refused:
        runtime.postmortems.hand_over(
            channel_id=CHANNEL, actor="U0BOB", new_owner="U0CAROL", postmortem_id=1
        )

    assert str(refused.value) == (
        "I can't hand this postmortem over: it was cancelled. Nothing is left to do; a new "
        "incident gets its own postmortem with `/postmortem start`."
    )
    assert owner_of(runtime) == "U0BOB"
    trail = runtime.postmortems.audit_trail(postmortem_id=1)
    assert "owner_handed_over" not in [what for _, _, what in trail]


def exported(runtime: Runtime) -> str:
    """The Markdown of the last export queued."""
    [*_, last] = [row for row in outbox(runtime) if row.kind == "document_export"]
    params: dict[str, Any] = last.params
    return str(params["markdown"])


def test_the_export_lists_the_owner_who_ran_the_meeting_not_the_one_handed_it_after(
    runtime: Runtime, clock: FakeClock
) -> None:
    open_postmortem(runtime, clock)
    runtime.postmortems.claim_ownership(
        postmortem_id=1, owner="U0BOB", chosen_by="U0BOB", channel_id=CHANNEL
    )
    runtime.lifecycle.schedule_meeting(
        channel_id=CHANNEL,
        actor="U0BOB",
        at=clock() + timedelta(days=1),
        participants=["U0DAN"],
        justification=None,
    )
    clock.advance(timedelta(days=1, hours=1))
    runtime.lifecycle.mark_meeting_held(channel_id=CHANNEL, actor="U0BOB")
    runtime.lifecycle.complete(channel_id=CHANNEL, actor="U0BOB")
    clock.advance(timedelta(days=3))
    runtime.postmortems.hand_over(channel_id=CHANNEL, actor="U0BOB", new_owner="U0CAROL")

    runtime.documents.export(channel_id=CHANNEL, actor="U0CAROL")

    markdown = exported(runtime)
    assert "- Owner: <@U0CAROL>\n" in markdown
    assert "- Participants: <@U0BOB>, <@U0DAN>\n" in markdown


def test_handed_over_in_the_second_it_was_marked_held_its_owner_then_took_part(
    runtime: Runtime, clock: FakeClock
) -> None:
    completed_by_bob(runtime, clock)  # held unscheduled, and done, at this very moment
    runtime.postmortems.hand_over(channel_id=CHANNEL, actor="U0BOB", new_owner="U0CAROL")

    runtime.documents.export(channel_id=CHANNEL, actor="U0BOB", postmortem_id=1)

    assert "- Participants: <@U0BOB>\n" in exported(runtime)
