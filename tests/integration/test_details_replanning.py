"""A corrected resolution time and the overdue notice another dispatcher holds, or that was
snoozed: it goes out once, when it is true, on SQLite and PostgreSQL.

The clock starts on Tuesday 24 November 2026, 14:00 UTC; the meeting is due within a week of
the resolution; working hours are the default (Monday to Friday, 09:00 to 18:00 UTC).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.bootstrap import Runtime
from bot.devtools.slack_standin import SlackStandIn
from bot.domain.details import details_of
from bot.persistence.db import create_session_factory
from bot.persistence.uow import UnitOfWork
from tests.integration.test_dispatch_delivery import kinds_posted, open_postmortem
from tests.support.clock import FakeClock

A_WEEK = timedelta(days=7)


def move_resolution(runtime: Runtime, by: timedelta) -> None:
    """The opener corrects the resolution time of postmortem #1 by ``by``."""
    found = runtime.postmortems.get(postmortem_id=1)
    assert found is not None
    shown = details_of(found)
    runtime.postmortems.correct_details(
        postmortem_id=1,
        channel_id=str(found.channel_id),
        actor="U0ALICE",
        shown=shown,
        submitted=replace(shown, resolved_at=shown.resolved_at + by),
    )


def held_by_another_dispatcher(runtime: Runtime, clock: FakeClock) -> None:
    """Another replica claims everything due now (and then stalls past its lease)."""
    with UnitOfWork(create_session_factory(runtime.engine)) as uow:
        uow.outbox.claim_due(now=clock(), worker="replica-2", lease=timedelta(minutes=1), limit=50)
        uow.commit()


def overdue_notices(slack: SlackStandIn) -> int:
    return kinds_posted(slack).count("escalate_overdue")


def test_a_held_notice_for_a_deadline_moved_later_is_dropped_and_the_new_one_sent_once(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    open_postmortem(runtime, clock)
    clock.advance(A_WEEK + timedelta(minutes=30))  # Tuesday 1 December, 14:30: overdue
    held_by_another_dispatcher(runtime, clock)

    move_resolution(runtime, by=timedelta(hours=23))  # due Wednesday 13:00 instead
    clock.advance(timedelta(minutes=5))  # the other replica's lease has run out
    runtime.dispatcher.drain(now=clock())
    before_the_new_deadline = overdue_notices(slack)
    clock.advance(timedelta(hours=23))  # Wednesday 2 December, 13:35
    runtime.dispatcher.drain(now=clock())

    assert before_the_new_deadline == 0
    assert overdue_notices(slack) == 1


def test_a_held_notice_still_true_after_an_earlier_resolution_goes_out_once(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    open_postmortem(runtime, clock)
    clock.advance(A_WEEK + timedelta(minutes=30))
    held_by_another_dispatcher(runtime, clock)

    move_resolution(runtime, by=-timedelta(hours=2))  # overdue all the more
    clock.advance(timedelta(minutes=5))
    runtime.dispatcher.drain(now=clock())
    clock.advance(timedelta(hours=1))
    runtime.dispatcher.drain(now=clock())

    assert overdue_notices(slack) == 1


def test_a_snoozed_notice_keeps_its_time_when_the_deadline_stays_passed(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    open_postmortem(runtime, clock)
    clock.advance(A_WEEK + timedelta(minutes=30))
    runtime.dispatcher.drain(now=clock())
    assert overdue_notices(slack) == 1
    [notice] = [
        c.params
        for c in slack.calls("chat.postMessage")
        if c.params["metadata"]["event_payload"]["kind"] == "escalate_overdue"
    ]
    runtime.lifecycle.snooze(
        outbox_id=notice["metadata"]["event_payload"]["outbox_id"],
        actor="U0IM",
        channel_id=notice["channel"],
    )

    move_resolution(runtime, by=-timedelta(minutes=30))
    clock.advance(timedelta(hours=1))
    runtime.dispatcher.drain(now=clock())
    an_hour_on = overdue_notices(slack)
    clock.advance(timedelta(days=1))
    runtime.dispatcher.drain(now=clock())

    assert an_hour_on == 1  # not again at once
    assert overdue_notices(slack) == 2  # the snoozed copy, a day after the snooze


def test_a_notice_planned_for_a_deadline_moved_back_is_not_sent_once_it_was_heard(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    open_postmortem(runtime, clock)
    clock.advance(A_WEEK - timedelta(minutes=5))  # the deadline is 5 minutes ahead

    move_resolution(runtime, by=-timedelta(minutes=10))  # passed: the notice goes now
    runtime.dispatcher.drain(now=clock())
    move_resolution(runtime, by=timedelta(minutes=10))  # ahead again: a notice is planned
    move_resolution(runtime, by=-timedelta(minutes=10))  # passed again, and already heard
    clock.advance(timedelta(minutes=10))
    runtime.dispatcher.drain(now=clock())

    assert overdue_notices(slack) == 1


def test_a_meeting_reminder_already_sent_is_not_sent_again_for_a_later_resolution(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    open_postmortem(runtime, clock)
    clock.advance(timedelta(days=3, minutes=5))  # Friday 14:05: the day-3 reminder is due
    runtime.dispatcher.drain(now=clock())
    assert kinds_posted(slack).count("remind_meeting_due") == 1

    move_resolution(runtime, by=timedelta(hours=2))  # day 3 would now be Friday 16:00
    clock.advance(timedelta(hours=2))
    runtime.dispatcher.drain(now=clock())

    assert kinds_posted(slack).count("remind_meeting_due") == 1
