"""The "was it held?" question, once settled (the meeting marked held, or moved, or the
postmortem cancelled): the question posted is updated in place, once per settlement, and no
longer offers its Mark meeting held button; handed over, it asks the new owner instead.

The runtime as in production and the Slack stand-in, on SQLite and PostgreSQL. The clock
starts on Tuesday 24 November 2026, 14:00 UTC; Bob, the owner, works 09:00-18:00 in New
York (14:00-23:00 UTC).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.bootstrap import Runtime
from bot.devtools.slack_standin import SlackStandIn
from bot.domain.postmortem import MEETING_LENGTH, IncidentReport
from bot.persistence.db import create_session_factory
from bot.persistence.tables import OutboxRow
from bot.persistence.uow import UnitOfWork
from tests.support.clock import FakeClock
from tests.support.dispatch_worker import posted_by_another_replica
from tests.support.slack_user import buttons

CHANNEL = "C0INCIDENT"
MEETING = datetime(2026, 11, 25, 15, tzinfo=UTC)  # Wednesday, 10:00 in New York
MOVED_TO = datetime(2026, 11, 30, 15, tzinfo=UTC)  # the Monday after
MOVED_AGAIN = datetime(2026, 11, 27, 15, tzinfo=UTC)  # that Friday, after all


def scheduled_by_bob(runtime: Runtime, clock: FakeClock) -> None:
    """Bob owns "Checkout errors" and schedules its meeting for Wednesday 15:00 UTC."""
    postmortem = runtime.postmortems.open_postmortem(
        report=IncidentReport(
            key="pd:Q1", title="Checkout errors", source="pagerduty", resolved_at=clock()
        ),
        channel_id=CHANNEL,
        opened_by="U0ALICE",
    ).postmortem
    runtime.dispatcher.drain(now=clock())  # the prompt, which the claim then updates
    runtime.postmortems.claim_ownership(
        postmortem_id=postmortem.id, owner="U0BOB", chosen_by="U0BOB", channel_id=CHANNEL
    )
    schedule(runtime, MEETING)
    runtime.dispatcher.drain(now=clock())


def schedule(runtime: Runtime, at: datetime) -> None:
    runtime.lifecycle.schedule_meeting(
        channel_id=CHANNEL, actor="U0BOB", at=at, participants=[], justification=None
    )


def asked_bob(runtime: Runtime, clock: FakeClock, slack: SlackStandIn) -> str:
    """``scheduled_by_bob``; once the meeting's hour is over, Bob is asked whether it took
    place. The question's ts."""
    scheduled_by_bob(runtime, clock)
    clock.set(MEETING + MEETING_LENGTH)
    runtime.dispatcher.drain(now=clock())
    [question] = shown(slack, CHANNEL)
    assert "Mark meeting held" in json.dumps(question["blocks"])
    return str(question["ts"])


def shown(slack: SlackStandIn, channel: str) -> list[dict[str, Any]]:
    """The "was it held?" questions as ``channel`` shows them now (updates included)."""
    return [
        m
        for m in slack.messages(channel)
        if m.get("metadata", {}).get("event_payload", {}).get("kind") == "ask_mark_held"
    ]


def updates_of(slack: SlackStandIn, ts: str) -> list[dict[str, Any]]:
    return [c.params for c in slack.calls("chat.update") if c.params["ts"] == ts]


def rows(runtime: Runtime, kind: str) -> list[Any]:
    with runtime.engine.connect() as connection:
        return list(
            connection.execute(
                select(OutboxRow.status, OutboxRow.last_error, OutboxRow.channel_id)
                .where(OutboxRow.kind == kind)
                .order_by(OutboxRow.id)
            )
        )


def outbox(runtime: Runtime) -> list[Any]:
    with runtime.engine.connect() as connection:
        return list(connection.execute(select(OutboxRow).order_by(OutboxRow.id)))


def moved(runtime: Runtime) -> None:
    schedule(runtime, MOVED_TO)


def held(runtime: Runtime) -> None:
    runtime.lifecycle.mark_meeting_held(channel_id=CHANNEL, actor="U0BOB")


def cancelled(runtime: Runtime) -> None:
    runtime.lifecycle.cancel(channel_id=CHANNEL, actor="U0ALICE", reason="opened twice")


@pytest.mark.parametrize(
    ("settle", "says"),
    [
        (
            moved,
            ":calendar: The postmortem meeting for *Checkout errors* (#1) was moved to "
            f"<!date^{int(MOVED_TO.timestamp())}^",
        ),
        (
            held,
            ":white_check_mark: The postmortem meeting for *Checkout errors* (#1) was marked "
            "held by <@U0BOB>.",
        ),
        (
            cancelled,
            ":no_entry_sign: The postmortem for *Checkout errors* (#1) was cancelled (by "
            "<@U0ALICE>)",
        ),
    ],
)
def test_a_question_settled_otherwise_says_how_instead_of_offering_its_button(
    runtime: Runtime,
    clock: FakeClock,
    slack: SlackStandIn,
    settle: Callable[[Runtime], None],
    says: str,
) -> None:
    ts = asked_bob(runtime, clock, slack)

    settle(runtime)
    runtime.dispatcher.drain(now=clock())
    clock.advance(timedelta(hours=1))
    runtime.dispatcher.drain(now=clock())

    [question] = shown(slack, CHANNEL)
    assert question["text"].startswith(says)
    assert [block["type"] for block in question["blocks"]] == ["section"]  # no buttons
    assert len(updates_of(slack, ts)) == 1


def test_after_a_move_every_question_asked_is_marked_held(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    first_ts = asked_bob(runtime, clock, slack)
    moved(runtime)
    runtime.dispatcher.drain(now=clock())
    clock.set(MOVED_TO + MEETING_LENGTH)
    runtime.dispatcher.drain(now=clock())  # asked again, about Monday's

    held(runtime)
    runtime.dispatcher.drain(now=clock())

    first, second = shown(slack, CHANNEL)
    # The first no longer says "I'll ask again after it": that was asked, and settled.
    assert first["text"].endswith("was marked held by <@U0BOB>.")
    assert second["text"].endswith("was marked held by <@U0BOB>.")
    assert "Mark meeting held" not in json.dumps([first["blocks"], second["blocks"]])
    assert len(updates_of(slack, first_ts)) == 2  # moved, then held
    assert len(updates_of(slack, str(second["ts"]))) == 1


def moved_again(runtime: Runtime) -> None:
    schedule(runtime, MOVED_AGAIN)


@pytest.mark.parametrize(
    ("settle", "says"),
    [
        (
            moved_again,
            ":calendar: The postmortem meeting for *Checkout errors* (#1) was moved to "
            f"<!date^{int(MOVED_AGAIN.timestamp())}^",
        ),
        (
            cancelled,
            ":no_entry_sign: The postmortem for *Checkout errors* (#1) was cancelled (by "
            "<@U0ALICE>)",
        ),
    ],
)
def test_a_question_told_its_meeting_moved_is_told_what_happened_next(
    runtime: Runtime,
    clock: FakeClock,
    slack: SlackStandIn,
    settle: Callable[[Runtime], None],
    says: str,
) -> None:
    ts = asked_bob(runtime, clock, slack)
    moved(runtime)
    runtime.dispatcher.drain(now=clock())

    settle(runtime)
    runtime.dispatcher.drain(now=clock())
    clock.advance(timedelta(hours=1))
    runtime.dispatcher.drain(now=clock())

    [question] = shown(slack, CHANNEL)
    assert question["text"].startswith(says)
    assert [block["type"] for block in question["blocks"]] == ["section"]
    assert len(updates_of(slack, ts)) == 2


def test_an_update_overtaken_while_it_backs_off_is_not_made_after_the_later_one(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    ts = asked_bob(runtime, clock, slack)
    slack.fail_next("chat.update", "internal_error")
    moved(runtime)
    runtime.dispatcher.drain(now=clock())  # refused for now: it backs off

    moved_again(runtime)
    runtime.dispatcher.drain(now=clock())
    clock.advance(timedelta(hours=1))  # past the first one's back-off
    runtime.dispatcher.drain(now=clock())

    [question] = shown(slack, CHANNEL)
    assert f"was moved to <!date^{int(MOVED_AGAIN.timestamp())}^" in question["text"]
    assert [(status, error) for status, error, _ in rows(runtime, "ask_mark_held_settled")] == [
        ("cancelled", "updated since"),
        ("sent", None),
    ]
    assert len(updates_of(slack, ts)) == 2  # the one refused, then the later one's


def test_an_update_waits_for_an_earlier_one_another_dispatcher_is_making(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    ts = asked_bob(runtime, clock, slack)
    moved(runtime)
    [earlier] = [r.id for r in outbox(runtime) if r.kind == "ask_mark_held_settled"]
    # Another replica claims the update (and the new invite); before it has made it, Bob
    # moves the meeting again.
    with UnitOfWork(create_session_factory(runtime.engine)) as other:
        other.outbox.claim_due(
            now=clock(), worker="replica-2", lease=timedelta(minutes=2), limit=50
        )
        other.commit()
    moved_again(runtime)

    runtime.dispatcher.drain(now=clock())
    waited = updates_of(slack, ts)
    with UnitOfWork(create_session_factory(runtime.engine)) as other:  # it made it, late
        other.outbox.mark_sent(item_id=earlier, worker="replica-2", ts=None, at=clock())
        other.commit()
    clock.advance(timedelta(seconds=3))
    runtime.dispatcher.drain(now=clock())

    assert waited == []  # made first, the earlier one would have said Monday last
    [updated] = updates_of(slack, ts)
    assert f"was moved to <!date^{int(MOVED_AGAIN.timestamp())}^" in updated["text"]


def test_a_question_never_posted_is_left_alone(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    scheduled_by_bob(runtime, clock)
    clock.set(MEETING + MEETING_LENGTH)  # the question is due, not sent yet
    updated_before = len(slack.calls("chat.update"))

    held(runtime)
    runtime.dispatcher.drain(now=clock())

    assert [status for status, _, _ in rows(runtime, "ask_mark_held")] == ["cancelled"]
    assert rows(runtime, "ask_mark_held_settled") == []
    assert len(slack.calls("chat.update")) == updated_before
    assert shown(slack, CHANNEL) == []


def test_a_question_being_posted_as_it_is_settled_is_updated_once_its_ts_is_recorded(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    scheduled_by_bob(runtime, clock)
    clock.set(MEETING + MEETING_LENGTH)
    [question_id] = [
        r.id for r in outbox(runtime) if r.kind == "ask_mark_held" and r.status == "pending"
    ]
    # Another replica claims the question and posts it; before it records the ts, Bob
    # marks the meeting held with the command.
    with UnitOfWork(create_session_factory(runtime.engine)) as other:
        other.outbox.claim_due(
            now=clock(), worker="replica-2", lease=timedelta(minutes=2), limit=50
        )
        other.commit()
    ts = posted_by_another_replica(
        slack, CHANNEL, "Did it take place?", outbox_id=question_id, kind="ask_mark_held"
    )
    held(runtime)

    runtime.dispatcher.drain(now=clock())
    waited = updates_of(slack, ts)
    with UnitOfWork(create_session_factory(runtime.engine)) as other:
        other.outbox.mark_sent(item_id=question_id, worker="replica-2", ts=ts, at=clock())
        other.commit()
    clock.advance(timedelta(seconds=3))
    runtime.dispatcher.drain(now=clock())

    assert waited == []  # the update waited for the question's ts
    [updated] = updates_of(slack, ts)
    assert updated["text"].endswith("was marked held by <@U0BOB>.")


def test_a_question_slack_will_not_update_is_left_as_it_is_and_holds_up_nothing(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    ts = asked_bob(runtime, clock, slack)
    slack.fail_next("chat.update", "message_not_found", count=2)  # deleted by hand

    held(runtime)
    runtime.dispatcher.drain(now=clock())
    tried = len(slack.calls("chat.update"))
    clock.advance(timedelta(hours=1))
    runtime.dispatcher.drain(now=clock())

    assert [status for status, _, _ in rows(runtime, "ask_mark_held_settled")] == ["sent"]
    assert len(slack.calls("chat.update")) == tried  # not tried again
    assert any("was held (marked by <@U0BOB>)" in m["text"] for m in slack.messages(CHANNEL))
    [question] = shown(slack, CHANNEL)
    assert question["ts"] == ts
    assert "Mark meeting held" in json.dumps(question["blocks"])  # as it was


def test_a_question_slack_could_not_update_for_now_is_updated_on_the_next_try(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    asked_bob(runtime, clock, slack)
    slack.fail_next("chat.update", "internal_error")

    held(runtime)
    runtime.dispatcher.drain(now=clock())
    [(status, error, _)] = rows(runtime, "ask_mark_held_settled")
    clock.advance(timedelta(minutes=2))  # past the back-off
    runtime.dispatcher.drain(now=clock())

    assert (status, error) == ("pending", "internal_error")
    assert slack.calls("conversations.history") == []  # an update leaves nothing to look for
    [question] = shown(slack, CHANNEL)
    assert question["text"].endswith("was marked held by <@U0BOB>.")
    assert [status for status, _, _ in rows(runtime, "ask_mark_held_settled")] == ["sent"]


def test_a_question_sent_to_the_owner_directly_is_updated_in_their_direct_messages(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    scheduled_by_bob(runtime, clock)
    # As a question sent to Bob rather than to the channel: its row's channel is his id.
    with runtime.engine.begin() as connection:
        connection.execute(
            update(OutboxRow).where(OutboxRow.kind == "ask_mark_held").values(channel_id="U0BOB")
        )
    clock.set(MEETING + MEETING_LENGTH)
    runtime.dispatcher.drain(now=clock())
    [asked] = shown(slack, "U0BOB")

    cancelled(runtime)
    runtime.dispatcher.drain(now=clock())

    [question] = shown(slack, "U0BOB")
    assert question["ts"] == asked["ts"]
    assert "was cancelled (by <@U0ALICE>)" in question["text"]
    assert "Mark meeting held" not in json.dumps(question["blocks"])
    assert [update["channel"] for update in updates_of(slack, str(asked["ts"]))] == ["D0BOB"]


# -- handed over: the question still open asks the new owner ---------------------------------


def handed_to_carol(runtime: Runtime, *, by: str = "U0BOB") -> None:
    runtime.postmortems.hand_over(channel_id=CHANNEL, actor=by, new_owner="U0CAROL")


def test_a_question_handed_over_asks_the_new_owner_and_keeps_its_buttons(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    ts = asked_bob(runtime, clock, slack)
    [question_id] = [
        r.id for r in outbox(runtime) if r.kind == "ask_mark_held" and r.status == "sent"
    ]

    handed_to_carol(runtime)
    runtime.dispatcher.drain(now=clock())

    [question] = shown(slack, CHANNEL)
    assert question["ts"] == ts
    assert question["text"] == (
        ":white_check_mark: <@U0CAROL> (the postmortem was handed over to you by <@U0BOB>), "
        "the postmortem meeting for *Checkout errors* (#1) was due to start "
        f"<!date^{int(MEETING.timestamp())}^{{date_short_pretty}} at {{time}}|2026-11-25 15:00 "
        "UTC>. Did it take place? Click *Mark meeting held* (or `/postmortem held #1`). If it "
        "moved, set the new time with `/postmortem schedule #1`."
    )
    assert [(b["action_id"], b["value"]) for b in buttons(question["blocks"])] == [
        ("lifecycle.mark_held", "1"),
        ("nudge.snooze", str(question_id)),  # its own row, as before
    ]
    assert len(updates_of(slack, ts)) == 1


def test_a_question_handed_over_is_updated_again_once_the_new_owner_marks_it_held(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    ts = asked_bob(runtime, clock, slack)
    handed_to_carol(runtime)
    runtime.dispatcher.drain(now=clock())

    runtime.lifecycle.mark_meeting_held(channel_id=CHANNEL, actor="U0CAROL")
    runtime.dispatcher.drain(now=clock())

    [question] = shown(slack, CHANNEL)
    assert question["text"].endswith("was marked held by <@U0CAROL>.")
    assert buttons(question["blocks"]) == []
    assert len(updates_of(slack, ts)) == 2


def test_a_question_told_its_meeting_moved_is_not_readdressed_by_a_hand_over(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    ts = asked_bob(runtime, clock, slack)
    moved(runtime)
    runtime.dispatcher.drain(now=clock())

    handed_to_carol(runtime)
    runtime.dispatcher.drain(now=clock())

    [question] = shown(slack, CHANNEL)
    assert question["text"].endswith("(by <@U0BOB>): I'll ask again after it.")  # asks nobody
    assert len(updates_of(slack, ts)) == 1
    assert len(rows(runtime, "ask_mark_held_settled")) == 1


def test_a_question_handed_over_twice_before_it_is_updated_asks_the_last_owner_only(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    ts = asked_bob(runtime, clock, slack)
    handed_to_carol(runtime)
    runtime.postmortems.hand_over(channel_id=CHANNEL, actor="U0CAROL", new_owner="U0DAVE")

    runtime.dispatcher.drain(now=clock())

    [updated] = updates_of(slack, ts)
    assert updated["text"].startswith(
        ":white_check_mark: <@U0DAVE> (the postmortem was handed over to you by <@U0CAROL>), "
    )
    assert [status for status, _, _ in rows(runtime, "ask_mark_held_settled")] == [
        "cancelled",
        "sent",
    ]
