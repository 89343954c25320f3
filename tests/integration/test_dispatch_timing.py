"""(a) With a controlled clock, each default nudge fires at its moment, inside working hours.

The guidance's defaults, UTC workspace, Mon-Fri 09:00-18:00. The clock starts on
Tuesday 2026-11-24 14:00 UTC, when the incident is resolved.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.bootstrap import Runtime, build_runtime
from bot.devtools.slack_standin import SlackStandIn
from bot.domain.postmortem import MEETING_LENGTH, IncidentReport, Postmortem
from bot.persistence.tables import OutboxRow
from tests.conftest import make_settings
from tests.support.clock import FakeClock

CHANNEL = "C0INCIDENT"
STEP = timedelta(minutes=15)


ZERO = timedelta(0)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def runtime_with_policy(
    policy: str, database_url: str, slack: SlackStandIn, clock: FakeClock, tmp_path: Path
) -> Runtime:
    """The runtime, built as in production, with this policy file (stop it when done)."""
    path = tmp_path / "policy.yaml"
    path.write_text(policy)
    return build_runtime(
        make_settings(database_url, slack, postmortem_policy_file=str(path)), clock=clock
    )


def open_postmortem(
    runtime: Runtime, clock: FakeClock, key: str = "pd:Q1", *, resolved_ago: timedelta = ZERO
) -> Postmortem:
    outcome = runtime.postmortems.open_postmortem(
        report=IncidentReport(
            key=key, title="Checkout errors", source="pagerduty", resolved_at=clock() - resolved_ago
        ),
        channel_id=CHANNEL,
        opened_by="U0ALICE",
    )
    return outcome.postmortem


class Timeline:
    """Advance the clock in small steps, dispatching at each: when was each kind posted?"""

    def __init__(self, runtime: Runtime, clock: FakeClock, slack: SlackStandIn) -> None:
        self.runtime, self.clock, self.slack = runtime, clock, slack
        self.seen = 0
        self.posted: list[tuple[str, datetime, str]] = []  # (kind, when, channel)

    def run_until(self, end: datetime) -> None:
        while True:
            self.runtime.dispatcher.drain(now=self.clock())
            calls = self.slack.calls("chat.postMessage")
            for call in calls[self.seen :]:
                kind = call.params["metadata"]["event_payload"]["kind"]
                self.posted.append((kind, self.clock(), call.params["channel"]))
            self.seen = len(calls)
            if self.clock() >= end:
                return
            self.clock.advance(STEP)

    def when(self, kind: str) -> list[datetime]:
        return [moment for k, moment, _ in self.posted if k == kind]


def test_unowned_postmortem_nudges_the_channel_after_1h_every_4_working_hours_then_escalates(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    open_postmortem(runtime, clock)
    timeline = Timeline(runtime, clock, slack)

    timeline.run_until(at(25, 23))

    assert timeline.when("owner_prompt") == [at(24, 14)]
    # 15:00 + 4 working hours: 3 left on Tuesday (to 18:00), 1 on Wednesday from 09:00.
    assert timeline.when("nudge_no_owner") == [at(24, 15), at(25, 10)]
    assert timeline.when("escalate_no_owner") == [at(25, 14)]
    escalation = slack.calls("chat.postMessage")[-1].params
    assert escalation["channel"] == CHANNEL


def first_no_owner_nudge_snoozed(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn, *, resolved_ago: timedelta = ZERO
) -> tuple[Timeline, str]:
    """Opened Tuesday 14:00; Dave snoozes its first no-owner nudge (15:00); run to Thursday
    18:00. The timeline, and the answer to the snooze."""
    open_postmortem(runtime, clock, resolved_ago=resolved_ago)
    timeline = Timeline(runtime, clock, slack)
    timeline.run_until(at(24, 15))
    [first] = sent_ids(runtime, "nudge_no_owner")
    answer = runtime.lifecycle.snooze(outbox_id=first, actor="U0DAVE", channel_id=CHANNEL)
    timeline.run_until(at(26, 18))
    return timeline, answer


# Wednesday 25 November 2026, 14:00 UTC, as a Slack date: each reader sees their own zone.
WEDNESDAY_2PM_IN_EACH_ZONE = "<!date^1795615200^{date_short_pretty} at {time}|2026-11-25 14:00 UTC>"


def test_a_no_owner_nudge_snoozed_past_the_escalation_does_not_come_back_after_it(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    timeline, answer = first_no_owner_nudge_snoozed(runtime, clock, slack)

    # A day later would be Wednesday 15:00, after the escalation at 14:00: the channel's
    # nudges stop at the escalation, and the 4-hourly repeat went with the snooze.
    assert timeline.when("nudge_no_owner") == [at(24, 15)]
    assert timeline.when("escalate_no_owner") == [at(25, 14)]
    assert answer == (
        "Snoozed until the escalation: no more reminders to pick an owner for postmortem #1; "
        f"if nobody owns it by {WEDNESDAY_2PM_IN_EACH_ZONE}, the escalation goes out then."
    )


def test_for_a_postmortem_opened_late_the_overdue_notice_is_the_escalation_nudges_stop_at(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    timeline, answer = first_no_owner_nudge_snoozed(
        runtime, clock, slack, resolved_ago=timedelta(days=10)
    )

    assert timeline.when("nudge_no_owner") == [at(24, 15)]
    assert timeline.when("escalate_overdue") == [at(25, 14)]
    assert timeline.when("escalate_no_owner") == []
    assert answer == (
        "Snoozed until the escalation: no more reminders to pick an owner for postmortem #1; "
        f"the overdue notice goes to the incident managers at {WEDNESDAY_2PM_IN_EACH_ZONE}, "
        "unless the meeting is on the calendar by then."
    )


def test_a_no_owner_nudge_still_waiting_once_the_escalation_went_out_is_dropped(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    # A row planned for after the escalation, as a snooze by an earlier version did.
    open_postmortem(runtime, clock)
    timeline = Timeline(runtime, clock, slack)
    timeline.run_until(at(24, 15))
    with runtime.engine.begin() as connection:
        connection.execute(
            update(OutboxRow)
            .where(OutboxRow.kind == "nudge_no_owner", OutboxRow.status == "pending")
            .values(due_at=at(25, 15, 5))
        )

    timeline.run_until(at(26, 18))

    assert timeline.when("nudge_no_owner") == [at(24, 15)]
    assert timeline.when("escalate_no_owner") == [at(25, 14)]
    with runtime.engine.connect() as connection:
        left = connection.execute(
            select(OutboxRow.status, OutboxRow.last_error).where(
                OutboxRow.kind == "nudge_no_owner", OutboxRow.due_at == at(25, 15, 5)
            )
        ).one()
    assert tuple(left) == ("cancelled", "reason gone")


def test_snoozing_a_no_owner_nudge_once_the_escalation_went_out_says_none_comes_after_it(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    open_postmortem(runtime, clock)
    timeline = Timeline(runtime, clock, slack)
    timeline.run_until(at(25, 15))
    last = sent_ids(runtime, "nudge_no_owner")[-1]

    answer = runtime.lifecycle.snooze(outbox_id=last, actor="U0DAVE", channel_id=CHANNEL)
    timeline.run_until(at(26, 18))

    assert answer == (
        "No need to snooze: the escalation has gone out, and no reminder to pick an owner "
        "comes after it."
    )
    assert timeline.when("nudge_no_owner") == [at(24, 15), at(25, 10)]


def test_escalation_names_the_incident_managers(
    database_url: str, slack: SlackStandIn, clock: FakeClock, tmp_path: Path
) -> None:
    runtime = runtime_with_policy(
        "incident_managers: [U0IM1, U0IM2]\nworking_hours: always\n",
        database_url,
        slack,
        clock,
        tmp_path,
    )
    try:
        open_postmortem(runtime, clock)
        clock.advance(timedelta(hours=24))
        runtime.dispatcher.drain(now=clock())
    finally:
        runtime.stop()

    [escalation] = [
        c.params
        for c in slack.calls("chat.postMessage")
        if c.params["metadata"]["event_payload"]["kind"] == "escalate_no_owner"
    ]
    assert "<@U0IM1> <@U0IM2>" in escalation["text"]


def test_meeting_reminders_on_day_3_and_5_and_overdue_after_day_7_wait_for_working_hours(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    postmortem = open_postmortem(runtime, clock)
    runtime.postmortems.claim_ownership(
        postmortem_id=postmortem.id, owner="U0BOB", chosen_by="U0BOB", channel_id=CHANNEL
    )
    timeline = Timeline(runtime, clock, slack)

    timeline.run_until(at(30, 9) + timedelta(days=1, hours=6))

    # Day 3 is Friday 14:00; day 5 is Sunday, so it waits for Monday 09:00.
    assert timeline.when("remind_meeting_due") == [at(27, 14), at(30, 9)]
    assert timeline.when("escalate_overdue") == [datetime(2026, 12, 1, 14, tzinfo=UTC)]
    assert not [m for _, m, _ in timeline.posted if m.weekday() >= 5]
    assert not [m for _, m, _ in timeline.posted if not 9 <= m.hour < 18]


def owned_by_bob_half_an_hour_on(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> Timeline:
    """A postmortem opened now, which Bob takes on at 14:30; its timeline from there."""
    postmortem = open_postmortem(runtime, clock)
    clock.advance(timedelta(minutes=30))
    runtime.postmortems.claim_ownership(
        postmortem_id=postmortem.id, owner="U0BOB", chosen_by="U0BOB", channel_id=CHANNEL
    )
    return Timeline(runtime, clock, slack)


def test_owner_without_a_meeting_is_nudged_a_working_day_later_in_their_own_time_zone(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    slack.add_user("U0BOB", tz="Asia/Tokyo")
    timeline = owned_by_bob_half_an_hour_on(runtime, clock, slack)

    timeline.run_until(at(26, 6))

    # One working day after Tuesday 14:30 UTC is Wednesday 14:30 UTC — 23:30 in Tokyo,
    # so the nudge waits for 09:00 Thursday in Tokyo (00:00 UTC).
    assert timeline.when("nudge_no_meeting") == [at(26, 0)]
    nudge = next(
        c.params
        for c in slack.calls("chat.postMessage")
        if c.params["metadata"]["event_payload"]["kind"] == "nudge_no_meeting"
    )
    assert "<@U0BOB>" in nudge["text"]
    assert "/postmortem schedule" in nudge["text"]
    # Waiting for working hours was no failed attempt: nothing suspected an earlier send.
    assert slack.calls("conversations.history") == []


def test_an_owner_whose_time_zone_does_not_load_is_nudged_in_the_workspaces_hours(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    slack.add_user("U0BOB", tz="America")  # a folder of zones, not one: ZoneInfo raises OSError
    timeline = owned_by_bob_half_an_hour_on(runtime, clock, slack)

    timeline.run_until(at(26, 6))

    # One working day after Tuesday 14:30 UTC, in the workspace's zone (UTC).
    assert timeline.when("nudge_no_meeting") == [at(25, 14, 30)]


def test_scheduling_stops_the_no_meeting_nudge_and_the_owner_is_asked_once_the_meeting_ended(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    slack.add_user("U0BOB", tz="Europe/London")
    postmortem = open_postmortem(runtime, clock)
    runtime.postmortems.claim_ownership(
        postmortem_id=postmortem.id, owner="U0BOB", chosen_by="U0BOB", channel_id=CHANNEL
    )
    runtime.lifecycle.schedule_meeting(
        channel_id=CHANNEL, actor="U0BOB", at=at(26, 10), participants=["U0CS"], justification=None
    )
    timeline = Timeline(runtime, clock, slack)

    timeline.run_until(at(26, 12))

    assert timeline.when("nudge_no_meeting") == []
    assert timeline.when("meeting_invite") == [at(24, 14)]
    assert timeline.when("ask_mark_held") == [at(26, 11)]  # the booked hour is over
    ask = slack.calls("chat.postMessage")[-1].params
    actions = [
        e["action_id"] for b in ask["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert actions == ["lifecycle.mark_held", "nudge.snooze"]


def test_with_working_hours_always_nudges_fire_at_night_and_on_weekends(
    database_url: str, slack: SlackStandIn, tmp_path: Path
) -> None:
    clock = FakeClock(datetime(2026, 11, 28, 22, 0, tzinfo=UTC))  # Saturday night
    runtime = runtime_with_policy("working_hours: always\n", database_url, slack, clock, tmp_path)
    try:
        open_postmortem(runtime, clock)
        timeline = Timeline(runtime, clock, slack)
        timeline.run_until(datetime(2026, 11, 29, 7, 0, tzinfo=UTC))
    finally:
        runtime.stop()

    assert timeline.when("nudge_no_owner") == [
        datetime(2026, 11, 28, 23, 0, tzinfo=UTC),
        datetime(2026, 11, 29, 3, 0, tzinfo=UTC),
        datetime(2026, 11, 29, 7, 0, tzinfo=UTC),
    ]


# -- a meeting on the calendar: no "schedule it" reminders, no overdue notice ---------------

DEADLINE = datetime(2026, 12, 1, 14, tzinfo=UTC)  # 7 days after Tuesday 24 Nov 14:00


def owned_and_scheduled(
    runtime: Runtime, clock: FakeClock, *, at_: datetime, why: str | None = None
) -> None:
    postmortem = open_postmortem(runtime, clock)
    runtime.postmortems.claim_ownership(
        postmortem_id=postmortem.id, owner="U0BOB", chosen_by="U0BOB", channel_id=CHANNEL
    )
    runtime.lifecycle.schedule_meeting(
        channel_id=CHANNEL, actor="U0BOB", at=at_, participants=[], justification=why
    )


def test_a_meeting_scheduled_exactly_at_the_deadline_is_not_overdue_and_is_asked_about_once_due(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    owned_and_scheduled(runtime, clock, at_=DEADLINE)
    timeline = Timeline(runtime, clock, slack)

    timeline.run_until(DEADLINE + timedelta(hours=3))

    assert timeline.when("remind_meeting_due") == []
    assert timeline.when("escalate_overdue") == []
    assert timeline.when("ask_mark_held") == [DEADLINE + MEETING_LENGTH]


def test_a_meeting_never_marked_held_is_asked_about_again_and_escalated_a_day_after(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    owned_and_scheduled(runtime, clock, at_=DEADLINE)  # Tuesday 1 December 14:00
    timeline = Timeline(runtime, clock, slack)

    timeline.run_until(DEADLINE + timedelta(days=8, hours=2))

    # Once it ended, then Friday, then (over the weekend) Wednesday: a postmortem never
    # stalls after one ask…
    ended = DEADLINE + MEETING_LENGTH
    assert timeline.when("ask_mark_held") == [
        ended,
        ended + timedelta(days=3),
        ended + timedelta(days=8),
    ]
    # …and a day after the meeting's time, still unmarked, the incident managers hear of it.
    assert timeline.when("escalate_overdue") == [DEADLINE + timedelta(days=1)]
    overdue = next(
        c.params["text"]
        for c in slack.calls("chat.postMessage")
        if c.params["metadata"]["event_payload"]["kind"] == "escalate_overdue"
    )
    assert "nobody has marked it held" in overdue


def test_a_late_meeting_accepted_with_a_justification_gets_no_deadline_reminder_or_overdue_notice(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    meeting = DEADLINE + timedelta(days=3)  # Friday 4 December 14:00
    owned_and_scheduled(
        runtime, clock, at_=meeting, why="Half the responders are at a conference until the 3rd"
    )
    timeline = Timeline(runtime, clock, slack)

    timeline.run_until(meeting + timedelta(hours=2))

    assert timeline.when("remind_meeting_due") == []
    assert timeline.when("escalate_overdue") == []
    assert timeline.when("ask_mark_held") == [meeting + MEETING_LENGTH]
    texts = [c.params["text"] for c in slack.calls("chat.postMessage")]
    assert not [t for t in texts if "should be held before" in t or "overdue" in t]


# -- after the meeting is held: the "finish it, then done" reminder --------------------------


def test_a_finish_reminder_goes_to_the_owner_while_in_review_and_is_dropped_once_done(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    slack.add_user("U0BOB", tz="Europe/London")
    meeting = at(25, 10)
    owned_and_scheduled(runtime, clock, at_=meeting)
    clock.set(meeting + timedelta(hours=1))
    runtime.lifecycle.mark_meeting_held(channel_id=CHANNEL, actor="U0BOB")
    timeline = Timeline(runtime, clock, slack)

    timeline.run_until(datetime(2026, 12, 2, 12, tzinfo=UTC))
    runtime.lifecycle.complete(channel_id=CHANNEL, actor="U0BOB")
    timeline.run_until(datetime(2026, 12, 9, 12, tzinfo=UTC))

    # Two working days after Wednesday 11:00 is Friday 11:00, then three more (Wednesday);
    # after `done`, nothing more.
    assert timeline.when("nudge_not_done") == [at(27, 11), datetime(2026, 12, 2, 11, tzinfo=UTC)]
    reminder = next(
        c.params
        for c in slack.calls("chat.postMessage")
        if c.params["metadata"]["event_payload"]["kind"] == "nudge_not_done"
    )
    assert reminder["text"].startswith(":memo: <@U0BOB>, the postmortem meeting for")
    assert "`/postmortem done #1`" in reminder["text"]
    actions = [
        e["action_id"] for b in reminder["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert actions == ["nudge.snooze"]


def test_an_owner_far_west_of_the_workspace_is_asked_again_every_three_of_their_working_days(
    database_url: str, slack: SlackStandIn, clock: FakeClock, tmp_path: Path
) -> None:
    slack.add_user("U0BOB", tz="America/Los_Angeles")
    policy = "workspace_timezone: Europe/Berlin\n"
    runtime = runtime_with_policy(policy, database_url, slack, clock, tmp_path)
    try:
        owned_and_scheduled(runtime, clock, at_=at(30, 10))  # Monday, ends 11:00 UTC
        timeline = Timeline(runtime, clock, slack)
        timeline.run_until(datetime(2026, 12, 9, 12, tzinfo=UTC))
    finally:
        runtime.stop()

    # Each is held for 09:00 in Los Angeles (17:00 UTC), which is 18:00, the close, in
    # Berlin: counted in Berlin's working days, each round started the next day there and
    # came every four of Bob's working days (Friday 4th, Thursday 10th), not every three.
    assert timeline.when("ask_mark_held") == [
        at(30, 17),
        datetime(2026, 12, 3, 17, tzinfo=UTC),  # Thursday
        datetime(2026, 12, 8, 17, tzinfo=UTC),  # Tuesday, over the weekend
    ]


def sent_ids(runtime: Runtime, kind: str) -> list[int]:
    with runtime.engine.connect() as connection:
        return list(
            connection.scalars(
                select(OutboxRow.id).where(OutboxRow.kind == kind, OutboxRow.status == "sent")
            )
        )


def test_a_snoozed_reminder_of_a_series_replaces_its_next_instead_of_joining_it(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    owned_and_scheduled(runtime, clock, at_=at(25, 9))  # Wednesday 09:00 UTC
    timeline = Timeline(runtime, clock, slack)
    timeline.run_until(at(27, 12))  # Friday noon: asked on Wednesday, next due Monday
    [asked] = sent_ids(runtime, "ask_mark_held")

    runtime.lifecycle.snooze(outbox_id=asked, actor="U0BOB", channel_id=CHANNEL)
    timeline.run_until(datetime(2026, 12, 3, 16, tzinfo=UTC))

    # The snoozed copy waits for Monday's working hours (09:00 in Bob's zone, 14:00 UTC), where
    # the series' next one was due: one message then, not two, and the series goes on from it.
    assert timeline.when("ask_mark_held") == [
        at(25, 14),
        at(30, 14),
        datetime(2026, 12, 3, 14, tzinfo=UTC),
    ]


def test_a_moved_postmortems_no_owner_nudges_repeat_until_escalation_from_the_move(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    stored = runtime.postmortems.open_postmortem(
        report=IncidentReport(key="x:1", title="Disk full", source="x", resolved_at=clock()),
        channel_id=None,
        opened_by="x",
    ).postmortem
    clock.advance(timedelta(hours=25))  # Wednesday 15:00, a day after it was stored
    runtime.postmortems.move_here(postmortem_id=stored.id, channel_id=CHANNEL, actor="U0ALICE")
    timeline = Timeline(runtime, clock, slack)

    timeline.run_until(clock() + timedelta(days=2))

    # As for a postmortem opened at the move: 1 h, then every 4 working hours, escalated at 24 h.
    assert timeline.when("nudge_no_owner") == [at(25, 16), at(26, 11)]
    assert timeline.when("escalate_no_owner") == [at(26, 15)]


def test_snoozing_a_stale_was_it_held_after_a_reschedule_asks_nothing_early(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    owned_and_scheduled(runtime, clock, at_=at(25, 9))  # Wednesday 09:00 UTC
    timeline = Timeline(runtime, clock, slack)
    timeline.run_until(at(25, 16))  # asked on Wednesday; the meeting did not happen
    runtime.lifecycle.schedule_meeting(
        channel_id=CHANNEL, actor="U0BOB", at=at(30, 9), participants=[], justification=None
    )
    [stale] = sent_ids(runtime, "ask_mark_held")

    answer = runtime.lifecycle.snooze(outbox_id=stale, actor="U0BOB", channel_id=CHANNEL)
    timeline.run_until(at(30, 16))

    assert answer.startswith("No need to snooze")
    # Nothing on Thursday about a meeting still ahead; asked again once Monday's has come.
    assert timeline.when("ask_mark_held") == [at(25, 14), at(30, 14)]


def test_was_it_held_planned_for_the_meetings_start_before_an_upgrade_waits_for_its_end(
    runtime: Runtime, clock: FakeClock, slack: SlackStandIn
) -> None:
    # Rows written by a version that asked at the meeting's start: the series must not be
    # dropped because the question comes early now.
    owned_and_scheduled(runtime, clock, at_=DEADLINE)
    with runtime.engine.begin() as connection:
        connection.execute(
            update(OutboxRow).where(OutboxRow.kind == "ask_mark_held").values(due_at=DEADLINE)
        )
    timeline = Timeline(runtime, clock, slack)

    timeline.run_until(DEADLINE + timedelta(hours=3))

    assert timeline.when("ask_mark_held") == [DEADLINE + MEETING_LENGTH]


def test_a_repeating_nudge_slack_was_slow_to_take_counts_its_next_from_when_it_was_sent(
    database_url: str, slack: SlackStandIn, clock: FakeClock, tmp_path: Path
) -> None:
    runtime = runtime_with_policy(
        "working_hours: always\nnudges:\n  no_owner: {first: 1m, repeat: 2s}\n",
        database_url,
        slack,
        clock,
        tmp_path,
    )
    try:
        open_postmortem(runtime, clock)
        runtime.dispatcher.drain(now=clock())  # the owner prompt
        clock.advance(timedelta(minutes=1))
        claimed_at = clock()
        slack.delay("chat.postMessage", 3.2)  # longer than the repeat: Slack stalls
        runtime.dispatcher.drain(now=claimed_at)  # the clock stands still; Slack does not
    finally:
        runtime.stop()

    with runtime.engine.connect() as connection:
        rows = list(
            connection.execute(
                select(OutboxRow).where(OutboxRow.kind == "nudge_no_owner").order_by(OutboxRow.id)
            )
        )
    first, following = rows[0], rows[1]
    assert first.status == "sent"
    assert first.sent_at >= claimed_at + timedelta(seconds=3)
    # Not due the moment the slow one went out (it would then follow at once).
    assert following.due_at == first.sent_at + timedelta(seconds=2)


def prompt_rows(runtime: Runtime) -> list[OutboxRow]:
    with runtime.engine.connect() as connection:
        return list(
            connection.execute(  # type: ignore[arg-type]
                select(OutboxRow).where(OutboxRow.kind == "owner_prompt").order_by(OutboxRow.id)
            )
        )


def test_a_rate_limit_slack_was_slow_to_answer_is_waited_out_from_its_answer_not_the_claim(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    open_postmortem(runtime, clock, key="pd:Q1")
    open_postmortem(runtime, clock, key="pd:Q2")
    claimed_at = clock()
    slack.delay("chat.postMessage", 3.2)  # Slack stalls, then says "slow down"
    slack.rate_limit_next("chat.postMessage", retry_after=30)

    report = runtime.dispatcher.drain(now=claimed_at)  # the clock stands still; Slack does not

    # Retry-After counts from Slack's answer, 3 s into the batch: counted from the claim,
    # the message (and the rest of the batch) would be tried again 3 s before Slack allows.
    limited, rest = prompt_rows(runtime)
    assert (limited.status, rest.status) == ("pending", "pending")
    assert limited.due_at >= claimed_at + timedelta(seconds=3 + 30)
    assert rest.due_at == limited.due_at
    assert report.rate_limited_until == limited.due_at


@pytest.mark.parametrize("how", ["slack_refused_for_now", "a_bug_while_sending"])
def test_a_failure_slack_was_slow_to_answer_backs_off_from_its_answer_not_the_claim(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock, how: str
) -> None:
    open_postmortem(runtime, clock)
    claimed_at = clock()
    messenger = type(runtime.dispatcher._messenger)

    def slow_bug(self: object, message: object) -> str | None:
        time.sleep(3.2)
        raise RuntimeError("a bug while rendering")

    with pytest.MonkeyPatch.context() as patch:
        if how == "slack_refused_for_now":
            slack.delay("chat.postMessage", 3.2)
            slack.fail_next("chat.postMessage", "service_unavailable")
        else:
            patch.setattr(messenger, "deliver", slow_bug)
        report = runtime.dispatcher.drain(now=claimed_at)  # the clock stands still

    # The first failure backs off 2 s. Counted from the claim, the retry would have been due
    # before the send had even failed; it counts from the failure, 3 s into the batch.
    [prompt] = prompt_rows(runtime)
    assert (report.postponed, prompt.status, prompt.attempts) == (1, "pending", 1)
    assert prompt.due_at >= claimed_at + timedelta(seconds=3 + 2)
