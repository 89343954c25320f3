"""Never lost, never doubled: crashes, concurrency, rate limits, dead channels, stale reasons."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.bootstrap import Runtime
from bot.devtools.slack_standin import SlackStandIn
from bot.domain.messages import MessageKind, PlannedMessage
from bot.domain.postmortem import IncidentReport, Postmortem
from bot.persistence.db import create_session_factory
from bot.persistence.repositories import OutboxItem
from bot.persistence.tables import OutboxRow
from bot.persistence.uow import UnitOfWork
from bot.services.dispatch import MAX_ATTEMPTS, Dispatcher, DispatchReport, Outgoing
from bot.slack.blocks import status_text
from bot.slack.messenger import SlackMessenger
from tests.support.clock import FakeClock
from tests.support.dispatch_worker import (
    DIE_AFTER_DELIVER,
    outbox_ids_posted,
    posted_by_another_replica,
    spawn,
)

CHANNEL = "C0INCIDENT"


def open_postmortem(runtime: Runtime, clock: FakeClock, key: str = "pd:Q1") -> Postmortem:
    return runtime.postmortems.open_postmortem(
        report=IncidentReport(
            key=key, title="Checkout errors", source="pagerduty", resolved_at=clock()
        ),
        channel_id=CHANNEL,
        opened_by="U0ALICE",
    ).postmortem


def outbox(runtime: Runtime) -> list[OutboxRow]:
    with runtime.engine.connect() as connection:
        return list(connection.execute(select(OutboxRow).order_by(OutboxRow.id)))  # type: ignore[arg-type]


def kinds_posted(slack: SlackStandIn) -> list[str]:
    return [c.params["metadata"]["event_payload"]["kind"] for c in slack.calls("chat.postMessage")]


# -- (b) a sender killed between sending and recording ------------------------------------


def test_a_sender_killed_after_posting_and_before_recording_causes_exactly_one_message(
    runtime: Runtime, database_url: str, slack: SlackStandIn, clock: FakeClock
) -> None:
    open_postmortem(runtime, clock)
    [prompt_row] = [r for r in outbox(runtime) if r.kind == "owner_prompt"]

    crashed = spawn(database_url, slack.url, "crasher", clock(), **{DIE_AFTER_DELIVER: "1"})
    crashed.communicate(timeout=60)
    assert crashed.returncode == -9  # SIGKILL: nothing after deliver ran
    assert outbox_ids_posted(slack.calls("chat.postMessage")) == [prompt_row.id]
    [row] = [r for r in outbox(runtime) if r.id == prompt_row.id]
    assert row.status == "pending"
    assert (row.lease_owner or "").startswith("crasher:")  # leased by the killed worker, unrecorded

    # While the dead worker's lease holds, nobody else takes the row.
    early = spawn(database_url, slack.url, "early", clock() + timedelta(seconds=60))
    assert json.loads(early.communicate(timeout=60)[0])["claimed"] == 0

    restarted = spawn(database_url, slack.url, "restarted", clock() + timedelta(minutes=3))
    _, err = restarted.communicate(timeout=60)
    assert restarted.returncode == 0, err

    assert outbox_ids_posted(slack.calls("chat.postMessage")) == [prompt_row.id]
    [row] = [r for r in outbox(runtime) if r.id == prompt_row.id]
    assert row.status == "sent"
    assert row.slack_ts == slack.messages(CHANNEL)[0]["ts"]
    assert slack.calls("conversations.history"), "the restarted sender must look before posting"


# -- (c) four processes, 2,000 due nudges ----------------------------------------------


@pytest.mark.slow
def test_four_processes_dispatching_2000_due_nudges_send_each_exactly_once(
    runtime: Runtime, database_url: str, slack: SlackStandIn, clock: FakeClock
) -> None:
    now = clock()
    with UnitOfWork(create_session_factory(runtime.engine)) as uow:
        for index in range(10):
            postmortem = uow.postmortems.add(
                report=IncidentReport(
                    key=f"pd:{index}",
                    title=f"Incident {index}",
                    source="pagerduty",
                    resolved_at=now,
                ),
                channel_id=f"C{index:04d}",
                opened_by="U0ALICE",
                now=now,
                lock_channel=False,
            )
            assert postmortem is not None
            for _ in range(200):
                uow.outbox.add(
                    postmortem_id=postmortem.id,
                    channel_id=f"C{index:04d}",
                    planned=PlannedMessage(MessageKind.REMIND_MEETING_DUE, now),
                    now=now,
                )
        uow.commit()
    due = sorted(r.id for r in outbox(runtime))
    assert len(due) == 2000

    workers = [spawn(database_url, slack.url, f"w{n}", now) for n in range(4)]
    reports = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        reports.append(json.loads(out))

    posted = outbox_ids_posted(slack.calls("chat.postMessage"))
    assert len(posted) == 2000
    assert sorted(posted) == due
    assert sum(r["sent"] for r in reports) == 2000
    assert all(r.status == "sent" for r in outbox(runtime))
    assert sum(1 for r in reports if r["sent"] > 0) >= 2, "the work should be shared"


# -- (d) a nudge whose reason is gone is never sent --------------------------------------


def test_picking_an_owner_cancels_the_no_owner_nudges_so_none_is_sent(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    postmortem = open_postmortem(runtime, clock)
    runtime.dispatcher.drain(now=clock())
    runtime.postmortems.claim_ownership(
        postmortem_id=postmortem.id, owner="U0BOB", chosen_by="U0BOB", channel_id=CHANNEL
    )

    clock.advance(timedelta(hours=30))
    runtime.dispatcher.drain(now=clock())

    assert "nudge_no_owner" not in kinds_posted(slack)
    assert "escalate_no_owner" not in kinds_posted(slack)
    cancelled = {r.kind for r in outbox(runtime) if r.status == "cancelled"}
    assert {"nudge_no_owner", "escalate_no_owner"} <= cancelled


def dispatch_with(
    runtime: Runtime, clock: FakeClock, meanwhile: Callable[[OutboxItem], None]
) -> DispatchReport:
    """One dispatch in which ``meanwhile`` runs as each claimed row's turn comes, before the
    dispatcher looks at it again: what a person or another replica does in between."""
    send_one = Dispatcher._dispatch_one

    def turn(
        self: Dispatcher,
        item: OutboxItem,
        loaded: Postmortem | None,
        now: datetime,
        report: DispatchReport,
        token: str,
    ) -> Any:
        meanwhile(item)
        return send_one(self, item, loaded, now, report, token)  # ``loaded`` as claimed

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Dispatcher, "_dispatch_one", turn)
        return runtime.dispatcher.dispatch_due(now=clock())


def test_a_nudge_whose_reason_goes_after_it_was_claimed_is_not_sent(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    postmortem = open_postmortem(runtime, clock)
    runtime.dispatcher.drain(now=clock())
    clock.advance(timedelta(hours=1))
    claimed: list[str] = []

    def owner_picked(item: OutboxItem) -> None:
        claimed.append(item.kind.value)
        runtime.postmortems.claim_ownership(
            postmortem_id=postmortem.id, owner="U0BOB", chosen_by="U0BOB", channel_id=CHANNEL
        )

    report = dispatch_with(runtime, clock, owner_picked)

    assert claimed == ["nudge_no_owner"]
    assert report.cancelled == 1
    assert "nudge_no_owner" not in kinds_posted(slack)


def test_a_nudge_slack_took_as_its_reason_went_is_recorded_as_sent_with_its_ts(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    postmortem = open_postmortem(runtime, clock)
    runtime.dispatcher.drain(now=clock())
    clock.advance(timedelta(hours=1))
    deliver = SlackMessenger.deliver

    def owner_picked_while_posting(self: SlackMessenger, message: Outgoing) -> str | None:
        ts = deliver(self, message)
        # Slack has the nudge; before the dispatcher records it, the channel picks an owner
        # (whose transaction cancels the no-owner nudges still pending).
        runtime.postmortems.claim_ownership(
            postmortem_id=postmortem.id, owner="U0BOB", chosen_by="U0BOB", channel_id=CHANNEL
        )
        return ts

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SlackMessenger, "deliver", owner_picked_while_posting)
        runtime.dispatcher.dispatch_due(now=clock())

    [posted] = [m for m in slack.messages(CHANNEL) if "still has no owner" in m["text"]]
    # Recorded once, and not repeated: its reason is gone.
    [nudge] = [r for r in outbox(runtime) if r.kind == "nudge_no_owner"]
    # What reached the channel is on record: its Snooze button and the audit find it.
    assert (nudge.status, nudge.slack_ts) == ("sent", posted["ts"])
    [escalation] = [r for r in outbox(runtime) if r.kind == "escalate_no_owner"]
    assert escalation.status == "cancelled"  # not yet claimed by anyone: cancelled as before


def test_a_repeat_snoozed_after_its_batch_was_claimed_is_not_posted(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    open_postmortem(runtime, clock)
    runtime.dispatcher.drain(now=clock())
    clock.advance(timedelta(hours=1))
    runtime.dispatcher.drain(now=clock())  # the first "still no owner" nudge
    [first] = [r for r in outbox(runtime) if r.kind == "nudge_no_owner" and r.status == "sent"]
    [repeat_row] = [r for r in outbox(runtime) if r.kind == "nudge_no_owner" and r.id > first.id]
    clock.set(repeat_row.due_at)
    answers: list[str] = []

    def snoozed(item: OutboxItem) -> None:
        # The repeat is claimed; someone snoozes the first nudge, which cancels it (its
        # reason, "no owner", is still there: only the row says not to send it).
        answers.append(
            runtime.lifecycle.snooze(outbox_id=first.id, actor="U0CAROL", channel_id=CHANNEL)
        )

    dispatch_with(runtime, clock, snoozed)

    assert "Snoozed" in answers[0]
    assert kinds_posted(slack).count("nudge_no_owner") == 1  # the first, not the repeat
    [repeat] = [r for r in outbox(runtime) if r.id == repeat_row.id]
    assert (repeat.status, repeat.last_error, repeat.lease_owner) == ("cancelled", "snoozed", None)


def close_by_marking_it_done(runtime: Runtime) -> None:
    runtime.documents.complete_action_item(asked_in=CHANNEL, actor="U0DAN", number=1)


def close_by_cancelling_the_postmortem(runtime: Runtime) -> None:
    # This one also cancels the item's reminders: the reminder being posted is "cancelled".
    runtime.lifecycle.cancel(channel_id=CHANNEL, actor="U0ALICE", reason="opened twice")


@pytest.mark.parametrize(
    ("close", "closing_kind"),
    [
        (close_by_marking_it_done, "action_item_done"),
        (close_by_cancelling_the_postmortem, "cancelled"),
    ],
)
def test_an_item_closed_while_another_dispatcher_posts_its_reminder_updates_it_once_recorded(
    runtime: Runtime,
    slack: SlackStandIn,
    clock: FakeClock,
    close: Callable[[Runtime], None],
    closing_kind: str,
) -> None:
    open_postmortem(runtime, clock)
    runtime.documents.add_action_item(
        channel_id=CHANNEL,
        actor="U0BOB",
        owner_id="U0DAN",
        due_on=(clock() + timedelta(days=3)).date(),
        text="Alert on queue depth",
    )
    runtime.dispatcher.drain(now=clock())
    [due] = [r for r in outbox(runtime) if r.kind == "action_item_due"]
    clock.set(due.due_at + timedelta(hours=1))
    # Another replica claims the reminder and posts it; before it records the ts, the item
    # is closed.
    with UnitOfWork(create_session_factory(runtime.engine)) as other:
        other.outbox.claim_due(
            now=clock(), worker="replica-2", lease=timedelta(minutes=2), limit=50
        )
        other.commit()
    reminder_ts = posted_by_another_replica(
        slack, CHANNEL, "Reminder: action item 1 is due today", outbox_id=due.id, kind=due.kind
    )
    close(runtime)

    runtime.dispatcher.drain(now=clock())
    waited = kinds_posted(slack).count(closing_kind)
    with UnitOfWork(create_session_factory(runtime.engine)) as other:
        other.outbox.mark_sent(item_id=due.id, worker="replica-2", ts=reminder_ts, at=clock())
        other.commit()
    clock.advance(timedelta(seconds=3))
    runtime.dispatcher.drain(now=clock())

    assert waited == 0  # the closing message waited for the reminder's ts
    assert kinds_posted(slack).count(closing_kind) == 1
    [updated] = [c for c in slack.calls("chat.update") if c.params["ts"] == reminder_ts]
    assert "Mark done" not in json.dumps(updated.params.get("blocks") or [])


# -- Slack says "later" or "never" --------------------------------------------------------


def test_a_rate_limited_message_is_sent_after_retry_after_and_not_before(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    slack.rate_limit_next("chat.postMessage", retry_after=30)
    open_postmortem(runtime, clock)

    first = runtime.dispatcher.drain(now=clock())
    clock.advance(timedelta(seconds=29))
    runtime.dispatcher.drain(now=clock())
    assert first.postponed == 1
    assert slack.messages(CHANNEL) == []

    clock.advance(timedelta(seconds=2))
    runtime.dispatcher.drain(now=clock())
    assert kinds_posted(slack) == ["owner_prompt", "owner_prompt"]  # the 429, then the one
    assert len(slack.messages(CHANNEL)) == 1


def test_a_rate_limit_pauses_the_whole_batch_instead_of_collecting_more_429s(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    for n in range(3):
        open_postmortem(runtime, clock, key=f"pd:RL{n}")
    slack.rate_limit_next("chat.postMessage", retry_after=30)

    first = runtime.dispatcher.drain(now=clock())

    assert len(slack.calls("chat.postMessage")) == 1  # the 429, and no more calls after it
    assert first.postponed == 3
    assert first.rate_limited_until == clock() + timedelta(seconds=30)
    clock.advance(timedelta(seconds=31))
    runtime.dispatcher.drain(now=clock())
    assert len(slack.messages(CHANNEL)) == 3


def test_a_rate_limit_longer_than_all_retries_still_delivers_the_message_once(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    # A 429 says "not now": however many there are, none is a failed attempt.
    slack.rate_limit_next("chat.postMessage", retry_after=5, count=MAX_ATTEMPTS + 3)
    open_postmortem(runtime, clock)

    for _ in range(3 * MAX_ATTEMPTS):
        runtime.dispatcher.drain(now=clock())
        clock.advance(timedelta(seconds=6))

    [prompt] = [r for r in outbox(runtime) if r.kind == "owner_prompt"]
    assert (prompt.status, prompt.attempts) == ("sent", 1)
    assert len(slack.messages(CHANNEL)) == 1
    # Not one 429 made it look as if an earlier attempt might have been posted.
    assert slack.calls("conversations.history") == []


@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked", "account_inactive"])
def test_slack_refusing_the_token_pauses_every_message_until_it_is_fixed_and_loses_none(
    runtime: Runtime,
    slack: SlackStandIn,
    clock: FakeClock,
    error: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The token, not the message: an admin reinstalls the app an hour later.
    slack.fail_next("chat.postMessage", error, count=1000)
    slack.fail_next("auth.test", error, count=1000)
    for n in range(3):
        open_postmortem(runtime, clock, key=f"pd:T{n}")

    for _ in range(60):
        runtime.dispatcher.drain(now=clock())
        clock.advance(timedelta(minutes=1))
    tries_while_refused = len(slack.calls("chat.postMessage"))
    slack.clear_faults()
    runtime.dispatcher.drain(now=clock())

    assert [r.status for r in outbox(runtime) if r.kind == "owner_prompt"] == ["sent"] * 3
    assert [r.status for r in outbox(runtime) if r.status == "dead"] == []
    posted = [m["metadata"]["event_payload"]["kind"] for m in slack.messages(CHANNEL)]
    assert posted.count("owner_prompt") == 3
    assert tries_while_refused <= 61  # one try a minute, not one per message
    assert f"Slack refused the bot token ({error}): check SLACK_BOT_TOKEN" in caplog.text


def test_a_token_error_only_one_message_gets_is_that_messages_own_and_holds_up_no_other(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    # Slack still takes the token (auth.test answers): the refusal is about this message.
    slack.fail_next("chat.postMessage", "account_inactive")
    for n in range(3):
        open_postmortem(runtime, clock, key=f"pd:A{n}")

    runtime.dispatcher.drain(now=clock())

    prompts = [r.status for r in outbox(runtime) if r.kind == "owner_prompt"]
    assert prompts == ["dead", "sent", "sent"]


@pytest.mark.parametrize("error", ["channel_not_found", "is_archived"])
def test_a_permanent_error_marks_the_message_dead_and_status_shows_it(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock, error: str
) -> None:
    slack.fail_next("chat.postMessage", error)
    open_postmortem(runtime, clock)

    report = runtime.dispatcher.drain(now=clock())
    clock.advance(timedelta(hours=1))
    runtime.dispatcher.drain(now=clock())

    assert report.dead == 1
    [dead] = [r for r in outbox(runtime) if r.status == "dead"]
    assert (dead.kind, dead.last_error) == ("owner_prompt", error)
    # Tried once, then the opener is told by direct message, then the next nudge.
    assert kinds_posted(slack) == ["owner_prompt", "prompt_undeliverable", "nudge_no_owner"]
    status = runtime.postmortems.status(channel_id=CHANNEL)
    text = status_text(
        status.open_postmortems, runtime.policy, status.unrouted, status.undeliverable
    )
    assert "I could not post the owner prompt here" in text
    assert "pick one from the prompt" not in text


# -- one bad message must not hold up the others -------------------------------------------


def test_a_message_that_fails_unexpectedly_backs_off_and_the_rest_are_still_sent(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    poisoned = open_postmortem(runtime, clock, key="pd:POISON")
    open_postmortem(runtime, clock, key="pd:HEALTHY")
    real_deliver = type(runtime.dispatcher._messenger).deliver

    def deliver(self: object, message: object) -> str | None:
        if getattr(message, "postmortem", None) and message.postmortem.id == poisoned.id:  # type: ignore[attr-defined]
            raise RuntimeError("a bug while rendering")
        return real_deliver(self, message)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(runtime.dispatcher._messenger), "deliver", deliver)
        report = runtime.dispatcher.drain(now=clock())

    assert report.sent == 1
    assert report.postponed == 1
    [bad] = [
        r for r in outbox(runtime) if r.postmortem_id == poisoned.id and r.kind == "owner_prompt"
    ]
    assert bad.status == "pending"
    assert bad.due_at > clock()  # backs off instead of being retried at once
    assert "a bug while rendering" in (bad.last_error or "")


def test_a_failure_while_recording_a_refused_message_holds_up_none_behind_it(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    refused = open_postmortem(runtime, clock, key="pd:REFUSED")
    open_postmortem(runtime, clock, key="pd:HEALTHY")
    slack.fail_next("chat.postMessage", "channel_not_found")

    def bug(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug while telling the opener")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runtime.dispatcher, "_tell_prompt_undeliverable", bug)
        report = runtime.dispatcher.drain(now=clock())

    assert report.sent == 1  # the healthy prompt, behind the refused one in the batch
    [first] = [
        r for r in outbox(runtime) if r.postmortem_id == refused.id and r.kind == "owner_prompt"
    ]
    assert first.status == "pending"  # backs off, instead of waiting out its lease
    assert first.lease_owner is None
    assert "a bug while telling the opener" in (first.last_error or "")


def test_after_a_lost_lease_the_message_is_sent_even_if_the_history_cannot_be_read(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    open_postmortem(runtime, clock)
    with UnitOfWork(create_session_factory(runtime.engine)) as uow:  # a worker that then died
        uow.outbox.claim_due(now=clock(), worker="gone", lease=timedelta(seconds=1), limit=1)
        uow.commit()
    slack.fail_next("conversations.history", "not_in_channel")  # posted via chat:write.public

    runtime.dispatcher.drain(now=clock() + timedelta(seconds=5))

    assert kinds_posted(slack) == ["owner_prompt"]
    assert [c.method for c in slack.calls("conversations.history")] == ["conversations.history"]
    [row] = [r for r in outbox(runtime) if r.kind == "owner_prompt"]
    assert row.status == "sent"


def owner_prompt_row(runtime: Runtime) -> OutboxRow:
    [row] = [r for r in outbox(runtime) if r.kind == "owner_prompt"]
    return row


def test_a_slack_outage_of_hours_delays_the_prompt_but_never_loses_it(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    slack.fail_next("chat.postMessage", "service_unavailable", count=10_000)
    open_postmortem(runtime, clock)

    for _ in range(4 * 10):  # ten hours, a look every 15 minutes
        runtime.dispatcher.drain(now=clock())
        clock.advance(timedelta(minutes=15))
    during = owner_prompt_row(runtime)
    refused = len(slack.calls("chat.postMessage"))
    slack.clear_faults()
    runtime.dispatcher.drain(now=clock())

    assert (during.status, during.last_error) == ("pending", "service_unavailable")
    assert during.attempts > MAX_ATTEMPTS
    assert owner_prompt_row(runtime).status == "sent"
    assert kinds_posted(slack)[refused:].count("owner_prompt") == 1


def test_a_message_sent_after_a_failed_attempt_no_longer_shows_that_error(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    slack.fail_next("chat.postMessage", "service_unavailable")
    open_postmortem(runtime, clock)

    runtime.dispatcher.drain(now=clock())
    waiting = owner_prompt_row(runtime)
    clock.advance(timedelta(minutes=1))
    runtime.dispatcher.drain(now=clock())

    # While it waits to be tried again, the row says why; once sent, nothing is wrong with it.
    assert (waiting.status, waiting.last_error) == ("pending", "service_unavailable")
    sent = owner_prompt_row(runtime)
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 2, None)


def test_a_prompt_slack_could_not_take_for_a_day_is_given_up_and_its_opener_told(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    slack.fail_next("chat.postMessage", "service_unavailable", count=10_000)
    open_postmortem(runtime, clock)

    for _ in range(4 * 25):
        runtime.dispatcher.drain(now=clock())
        clock.advance(timedelta(minutes=15))
    refused = len(slack.calls("chat.postMessage"))
    slack.clear_faults()
    runtime.dispatcher.drain(now=clock())

    assert owner_prompt_row(runtime).status == "dead"
    [told] = [
        c.params
        for c in slack.calls("chat.postMessage")[refused:]
        if c.params["metadata"]["event_payload"]["kind"] == "prompt_undeliverable"
    ]
    assert told["channel"] == "U0ALICE"
    assert "could not be reached for a day (`service_unavailable`)" in told["text"]


def test_a_post_that_lands_after_the_client_gave_up_is_found_not_posted_again(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    # Slack takes 1 s; this dispatcher's client gives up at 0.3 s. Retried 2 s later, the
    # history was still empty and the prompt went out twice.
    open_postmortem(runtime, clock)
    [prompt] = [r for r in outbox(runtime) if r.kind == "owner_prompt"]
    slack.delay("chat.postMessage", 1.0)
    sessions = create_session_factory(runtime.engine)
    impatient = Dispatcher(
        uow_factory=lambda: UnitOfWork(sessions),
        messenger=SlackMessenger(
            # urllib takes a fraction of a second; slack_sdk's hint says int.
            WebClient(base_url=slack.url, token="xoxb-t", timeout=0.3)  # type: ignore[arg-type]
        ),
        policy=runtime.policy,
        worker_id="impatient",
    )

    impatient.drain(now=clock())  # times out; Slack posts it a moment later
    clock.advance(timedelta(seconds=5))
    impatient.drain(now=clock())
    time.sleep(1.5)  # whatever Slack was still posting has landed
    clock.advance(timedelta(minutes=2))
    runtime.dispatcher.drain(now=clock())

    in_channel = [
        m
        for m in slack.messages(CHANNEL)
        if m["metadata"]["event_payload"]["outbox_id"] == prompt.id
    ]
    assert len(in_channel) == 1
    [recorded] = [r for r in outbox(runtime) if r.id == prompt.id]
    assert (recorded.status, recorded.slack_ts) == ("sent", in_channel[0]["ts"])
