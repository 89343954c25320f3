"""An owner prompt Slack refuses for good: who is told, what status says, and posting it again.

The refusal is the stand-in's ``not_in_channel``: a private channel the bot was not invited to.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.bootstrap import Runtime, build_runtime
from bot.devtools.slack_standin import RecordedCall, SlackStandIn
from bot.domain.messages import MessageKind
from bot.domain.owners import Criterion, Person
from bot.domain.postmortem import IncidentReport, Postmortem
from bot.persistence.db import create_session_factory
from bot.persistence.repositories import OutboxRepository
from bot.persistence.tables import OutboxRow
from bot.persistence.uow import UnitOfWork
from bot.services.dispatch import Outgoing
from bot.slack.blocks import status_text
from tests.conftest import BotHarness, make_settings
from tests.integration.test_dispatch_recording import dispatcher as recording_dispatcher
from tests.support.clock import FakeClock
from tests.support.dispatch_worker import posted_by_another_replica

CHANNEL = "C0INCIDENT"


def outbox(runtime: Runtime) -> list[OutboxRow]:
    with runtime.engine.connect() as connection:
        return list(connection.execute(select(OutboxRow).order_by(OutboxRow.id)))  # type: ignore[arg-type]


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC; PostgreSQL an aware time."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def posted(slack: SlackStandIn, kind: str) -> list[RecordedCall]:
    return [
        c
        for c in slack.calls("chat.postMessage")
        if c.params["metadata"]["event_payload"]["kind"] == kind
    ]


def channel_prompts(slack: SlackStandIn) -> list[dict[str, object]]:
    """Owner prompts that reached the channel (a refused post leaves nothing there)."""
    return [
        m
        for m in slack.messages(CHANNEL)
        if m.get("metadata", {}).get("event_payload", {}).get("kind") == "owner_prompt"
    ]


def status(runtime: Runtime) -> str:
    found = runtime.postmortems.status(channel_id=CHANNEL)
    return status_text(found.open_postmortems, runtime.policy, found.unrouted, found.undeliverable)


def open_by_webhook(runtime: Runtime, clock: FakeClock) -> Postmortem:
    return runtime.postmortems.open_postmortem(
        report=IncidentReport(
            key="pd:Q1", title="Payments outage", source="pagerduty", resolved_at=clock()
        ),
        channel_id=CHANNEL,
        opened_by="pagerduty",
    ).postmortem


def open_by_person(runtime: Runtime, clock: FakeClock, user: str = "U0ALICE") -> Postmortem:
    return runtime.postmortems.open_postmortem(
        report=IncidentReport(
            key="slack:Q1", title="Payments outage", source="slack", resolved_at=clock()
        ),
        channel_id=CHANNEL,
        opened_by=user,
    ).postmortem


def held_by_another_replica(runtime: Runtime, clock: FakeClock, *which: Any) -> None:
    """The periodic job or another replica has claimed these rows and not finished them."""
    with runtime.engine.begin() as connection:
        connection.execute(
            update(OutboxRow)
            .where(*which)
            .values(lease_owner="other-replica", lease_expires_at=clock() + timedelta(minutes=5))
        )


def pagerduty_names_alice(runtime: Runtime, postmortem: Postmortem) -> None:
    runtime.postmortems.add_candidates(
        postmortem_id=postmortem.id,
        evidence={Criterion.LED_RESPONSE: (Person(slack_user_id="U0ALICE"),)},
        actor="pagerduty",
    )


@pytest.fixture
def managed(
    database_url: str, slack: SlackStandIn, clock: FakeClock, tmp_path: Path
) -> Iterator[Runtime]:
    """A runtime (pump stopped) whose policy names two incident managers."""
    policy = tmp_path / "policy.yaml"
    policy.write_text("incident_managers: [U0IM1, U0IM2]\n")
    built = build_runtime(
        make_settings(database_url, slack, postmortem_policy_file=str(policy)), clock=clock
    )
    try:
        yield built
    finally:
        built.stop()


# -- (a) whoever can fix it is told, by direct message ---------------------------------------


def test_a_start_the_channel_refuses_tells_the_person_who_started_it_by_direct_message(
    bot: BotHarness,
) -> None:
    bot.slack.fail_next("chat.postMessage", "not_in_channel")

    bot.user("U0ALICE").answer("start Payments outage")
    bot.settle()

    [dm] = posted(bot.slack, "prompt_undeliverable")
    assert dm.params["channel"] == "U0ALICE"  # a DM: an ephemeral in the channel fails too
    text = dm.params["text"]
    assert "You opened the postmortem for *Payments outage* (#1)" in text
    assert f"could not post its owner prompt in <#{CHANNEL}>" in text
    assert f"`/invite @postmortem-bot` in <#{CHANNEL}>" in text
    assert f"then run `/postmortem start` in <#{CHANNEL}> again" in text
    assert channel_prompts(bot.slack) == []


def test_the_direct_message_is_queued_by_the_same_dispatch_that_marks_the_prompt_dead(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    slack.fail_next("chat.postMessage", "not_in_channel")
    open_by_person(runtime, clock)

    report = runtime.dispatcher.dispatch_due(now=clock())

    assert report.dead == 1
    due_now = [(r.kind, r.status) for r in outbox(runtime) if r.due_at <= clock()]
    assert due_now == [("owner_prompt", "dead"), ("prompt_undeliverable", "pending")]
    [dm_row] = [r for r in outbox(runtime) if r.kind == "prompt_undeliverable"]
    assert (dm_row.channel_id, dm_row.recipient) == ("U0ALICE", "U0ALICE")
    runtime.dispatcher.drain(now=clock())
    assert [c.params["channel"] for c in posted(slack, "prompt_undeliverable")] == ["U0ALICE"]


def test_a_webhook_opened_postmortem_whose_prompt_is_refused_tells_the_incident_managers(
    managed: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    slack.fail_next("chat.postMessage", "not_in_channel")
    open_by_webhook(managed, clock)

    managed.dispatcher.drain(now=clock())
    managed.dispatcher.drain(now=clock())

    dms = posted(slack, "prompt_undeliverable")
    assert sorted(c.params["channel"] for c in dms) == ["U0IM1", "U0IM2"]  # not "pagerduty"
    assert all(
        "I could not post the owner prompt of the postmortem" in c.params["text"] for c in dms
    )


def test_with_no_person_to_tell_nothing_is_sent_and_status_still_explains(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    slack.fail_next("chat.postMessage", "not_in_channel")
    open_by_webhook(runtime, clock)  # default policy: no incident managers

    runtime.dispatcher.drain(now=clock())
    runtime.dispatcher.drain(now=clock())

    assert posted(slack, "prompt_undeliverable") == []
    assert "I could not post the owner prompt here" in status(runtime)


def test_an_owner_prompt_that_fails_for_a_while_is_retried_without_telling_anyone(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    slack.fail_next("chat.postMessage", "internal_error")  # not permanent: backs off
    open_by_person(runtime, clock)

    runtime.dispatcher.drain(now=clock())

    assert not [r for r in outbox(runtime) if r.kind == "prompt_undeliverable"]


# -- (b) status says what happened and what to do ------------------------------------------


def test_status_says_the_prompt_could_not_be_posted_and_how_to_fix_it(bot: BotHarness) -> None:
    bot.slack.fail_next("chat.postMessage", "not_in_channel")
    bot.user("U0ALICE").answer("start Payments outage")
    bot.settle()

    text = bot.user("U0ALICE").answer("status")

    assert "pick one from the prompt" not in text
    assert "I could not post the owner prompt here" in text
    assert f"`/invite @postmortem-bot` in <#{CHANNEL}>" in text
    assert "`/postmortem start`" in text


# -- (c) posting the prompt again -----------------------------------------------------------


def test_reposting_a_refused_prompt_after_the_invite_posts_it_and_clears_the_warning(
    bot: BotHarness,
) -> None:
    bot.slack.fail_next("chat.postMessage", "not_in_channel")
    bot.user("U0ALICE").answer("start Payments outage")
    bot.settle()
    # Alice invites the bot; the next post succeeds.

    reposted = bot.runtime.lifecycle.repost_owner_prompt(
        postmortem_id=1, requested_by="U0ALICE", now=bot.clock()
    )
    bot.settle()

    assert reposted is True
    [prompt] = channel_prompts(bot.slack)
    stored = bot.runtime.postmortems.get(postmortem_id=1)
    assert stored is not None
    assert stored.prompt_ts == prompt["ts"]
    text = bot.user("U0ALICE").answer("status")
    assert "pick one from the prompt" in text
    assert "could not post" not in text
    assert "owner_prompt_reposted" in [
        what for _, _, what in bot.runtime.postmortems.audit_trail(postmortem_id=1)
    ]
    # Posted now: nothing is left to re-post.
    assert bot.runtime.lifecycle.repost_owner_prompt(postmortem_id=1, now=bot.clock()) is False


def test_reposting_twice_before_the_pump_runs_queues_one_prompt(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    slack.fail_next("chat.postMessage", "not_in_channel")
    postmortem = open_by_person(runtime, clock)
    runtime.dispatcher.drain(now=clock())

    first = runtime.lifecycle.repost_owner_prompt(postmortem_id=postmortem.id, now=clock())
    second = runtime.lifecycle.repost_owner_prompt(postmortem_id=postmortem.id, now=clock())
    runtime.dispatcher.drain(now=clock())

    assert (first, second) == (True, False)
    assert len(channel_prompts(slack)) == 1


def test_a_reposted_prompt_refused_again_tells_who_asked_and_may_be_reposted_again(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    slack.fail_next("chat.postMessage", "not_in_channel")
    postmortem = open_by_person(runtime, clock)
    runtime.dispatcher.drain(now=clock())
    runtime.dispatcher.drain(now=clock())  # Alice's DM

    slack.fail_next("chat.postMessage", "not_in_channel")  # still not invited
    assert runtime.lifecycle.repost_owner_prompt(
        postmortem_id=postmortem.id, requested_by="U0CAROL", now=clock()
    )
    runtime.dispatcher.drain(now=clock())
    runtime.dispatcher.drain(now=clock())

    assert [c.params["channel"] for c in posted(slack, "prompt_undeliverable")] == [
        "U0ALICE",
        "U0CAROL",
    ]
    assert channel_prompts(slack) == []
    assert runtime.lifecycle.repost_owner_prompt(postmortem_id=postmortem.id, now=clock())
    runtime.dispatcher.drain(now=clock())
    assert len(channel_prompts(slack)) == 1


def test_nothing_is_reposted_for_a_prompt_that_was_never_refused(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    pending = open_by_person(runtime, clock)

    assert runtime.lifecycle.repost_owner_prompt(postmortem_id=pending.id, now=clock()) is False
    runtime.dispatcher.drain(now=clock())
    assert runtime.lifecycle.repost_owner_prompt(postmortem_id=pending.id, now=clock()) is False
    assert runtime.lifecycle.repost_owner_prompt(postmortem_id=404, now=clock()) is False
    assert len(channel_prompts(slack)) == 1


def test_nothing_is_reposted_once_the_postmortem_has_an_owner(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    slack.fail_next("chat.postMessage", "not_in_channel")
    postmortem = open_by_person(runtime, clock)
    runtime.dispatcher.drain(now=clock())
    runtime.postmortems.hand_over(channel_id=CHANNEL, actor="U0ALICE", new_owner="U0BOB")

    assert runtime.lifecycle.repost_owner_prompt(postmortem_id=postmortem.id, now=clock()) is False
    runtime.dispatcher.drain(now=clock())
    assert channel_prompts(slack) == []
    assert "I could not post the owner prompt here" not in status(runtime)


@pytest.mark.parametrize("second_start", ["start Payments outage again", "start"])
def test_starting_again_after_the_invite_posts_the_refused_prompt(
    bot: BotHarness, second_start: str
) -> None:
    bot.slack.fail_next("chat.postMessage", "not_in_channel")
    bot.user("U0ALICE").answer("start Payments outage")
    bot.settle()
    # Alice invites the bot, then does what the direct message and status told her to.

    answer = bot.user("U0ALICE").answer(second_start)
    bot.settle()

    assert "already has postmortem *#1 Payments outage*" in answer
    assert "I'm posting it again now" in answer
    [prompt] = channel_prompts(bot.slack)
    stored = bot.runtime.postmortems.get(postmortem_id=1)
    assert stored is not None
    assert stored.prompt_ts == prompt["ts"]
    # Once posted, a further start only links to it.
    again = bot.user("U0BOB").answer("start Payments outage")
    assert "already has an open postmortem" in again
    assert "posting it again" not in again


def test_reposting_brings_back_the_channel_nudges_refused_with_the_prompt(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    slack.fail_next("chat.postMessage", "not_in_channel")
    postmortem = open_by_person(runtime, clock)
    runtime.dispatcher.drain(now=clock())  # the prompt is refused
    runtime.dispatcher.drain(now=clock())  # Alice's direct message
    clock.advance(timedelta(days=3))
    slack.fail_next("chat.postMessage", "not_in_channel", count=20)
    runtime.dispatcher.drain(now=clock())  # the no-owner nudge and escalation: refused too
    refused = {row.kind for row in outbox(runtime) if row.status == "dead"}
    assert {"nudge_no_owner", "escalate_no_owner"} <= refused

    assert runtime.lifecycle.repost_owner_prompt(postmortem_id=postmortem.id, now=clock())

    due = {row.kind: aware(row.due_at) for row in outbox(runtime) if row.status == "pending"}
    # Their clock restarts at the re-post: the channel gets its hour (and its day) again.
    assert due["nudge_no_owner"] >= clock() + timedelta(hours=1)
    assert due["escalate_no_owner"] >= clock() + timedelta(hours=24)
    # While the re-posted prompt waits, status no longer says it could not be posted.
    assert "could not post" not in status(runtime)


@pytest.mark.parametrize("refused", [1, 2])
def test_start_reposts_a_refused_prompt_even_when_another_postmortem_is_open_here(
    bot: BotHarness, refused: int
) -> None:
    # Whichever of the channel's two open postmortems lost its prompt, start finds it.
    for number, open_one in ((1, open_by_person), (2, open_by_webhook)):
        if number == refused:
            bot.slack.fail_next("chat.postMessage", "not_in_channel")
        open_one(bot.runtime, bot.clock)
        bot.settle()

    answer = bot.user("U0ALICE").answer("start")
    bot.settle()

    assert f"already has postmortem *#{refused} Payments outage*" in answer
    assert "I'm posting it again now" in answer
    assert len(channel_prompts(bot.slack)) == 2


def test_an_owner_announcement_waits_for_a_prompt_another_dispatcher_has_not_recorded(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    # The periodic job or another replica holds the prompt's row: posted, ts not yet written.
    postmortem = open_by_person(runtime, clock)
    held_by_another_replica(runtime, clock, OutboxRow.kind == "owner_prompt")
    runtime.postmortems.claim_ownership(
        postmortem_id=postmortem.id, owner="U0BOB", chosen_by="U0BOB", channel_id=CHANNEL
    )

    runtime.dispatcher.drain(now=clock())

    # Announcing now would post "Bob owns it" and never update the prompt's buttons.
    assert posted(slack, "owner_chosen") == []
    [announcement] = [row for row in outbox(runtime) if row.kind == "owner_chosen"]
    assert announcement.status == "pending"
    assert aware(announcement.due_at) > clock()


def test_an_owner_announcement_updates_a_prompt_recorded_just_as_it_looked(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another dispatcher has posted the prompt and writes its ts down while this one decides
    # whether the announcement must wait: the announcement must still update the prompt.
    postmortem = open_by_person(runtime, clock)
    [prompt_row] = [row for row in outbox(runtime) if row.kind == "owner_prompt"]
    held_by_another_replica(runtime, clock, OutboxRow.id == prompt_row.id)
    prompt_ts = posted_by_another_replica(
        slack,
        CHANNEL,
        "the prompt, as the other replica posted it",
        outbox_id=prompt_row.id,
        kind="owner_prompt",
    )
    runtime.postmortems.claim_ownership(
        postmortem_id=postmortem.id, owner="U0BOB", chosen_by="U0BOB", channel_id=CHANNEL
    )
    looked = OutboxRepository.pending_kinds_for
    recorded: list[bool] = []

    def other_replica_records_first(
        self: OutboxRepository, postmortem_id: int, **query: Any
    ) -> set[str]:
        if not recorded:  # just before the dispatcher first asks what is pending
            recorded.append(True)
            with UnitOfWork(create_session_factory(runtime.engine)) as other:
                other.outbox.mark_sent(
                    item_id=prompt_row.id, worker="other-replica", ts=prompt_ts, at=clock()
                )
                other.postmortems.record_prompt(postmortem_id=postmortem.id, ts=prompt_ts)
                other.commit()
        return looked(self, postmortem_id, **query)

    monkeypatch.setattr(OutboxRepository, "pending_kinds_for", other_replica_records_first)
    runtime.dispatcher.drain(now=clock())

    [update_call] = slack.calls("chat.update")
    assert update_call.params["ts"] == prompt_ts
    assert "<@U0BOB>" in update_call.params["text"]
    assert len(posted(slack, "owner_chosen")) == 1


def test_an_owner_announcement_waits_for_a_refresh_of_the_prompt_another_dispatcher_holds(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    # The refresh would show the candidate buttons again: after the announcement, over the
    # owner's name for good.
    postmortem = open_by_person(runtime, clock)
    runtime.dispatcher.drain(now=clock())  # the prompt is posted and recorded
    pagerduty_names_alice(runtime, postmortem)
    held_by_another_replica(runtime, clock, OutboxRow.kind == "owner_prompt_refresh")
    runtime.postmortems.claim_ownership(
        postmortem_id=postmortem.id, owner="U0BOB", chosen_by="U0BOB", channel_id=CHANNEL
    )

    runtime.dispatcher.drain(now=clock())

    assert slack.calls("chat.update") == []
    [announcement] = [row for row in outbox(runtime) if row.kind == "owner_chosen"]
    assert announcement.status == "pending"
    assert aware(announcement.due_at) > clock()


def test_two_refreshes_landing_in_the_wrong_order_still_end_on_the_latest_candidates(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    postmortem = open_by_person(runtime, clock)
    runtime.dispatcher.drain(now=clock())  # the prompt is posted and recorded
    pagerduty_names_alice(runtime, postmortem)

    def tess_added_and_shown_by_another_replica_first(message: Outgoing) -> None:
        if message.kind is MessageKind.PROMPT_REFRESH and len(slack.calls("chat.update")) == 0:
            runtime.postmortems.add_candidates(
                postmortem_id=postmortem.id,
                evidence={Criterion.MANUALLY_TRIGGERED: (Person(slack_user_id="U0TESS"),)},
                actor="pagerduty",
            )
            other = recording_dispatcher(runtime, slack, lambda _: None, worker_id="other")
            other.dispatch_due(now=clock())  # shows Alice and Tess

    slow = recording_dispatcher(runtime, slack, tess_added_and_shown_by_another_replica_first)
    slow.dispatch_due(now=clock())  # then shows Alice only: stale
    runtime.dispatcher.drain(now=clock())

    shown = [json.dumps(c.params["blocks"]) for c in slack.calls("chat.update")]
    assert ["U0TESS" in blocks for blocks in shown] == [True, False, True]


def test_an_owner_announcement_does_not_wait_for_a_refresh_backing_off_after_an_error(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    postmortem = open_by_person(runtime, clock)
    runtime.dispatcher.drain(now=clock())
    slack.fail_next("chat.update", "internal_error")
    pagerduty_names_alice(runtime, postmortem)
    runtime.dispatcher.drain(now=clock())  # the refresh fails: it backs off
    runtime.postmortems.claim_ownership(
        postmortem_id=postmortem.id, owner="U0BOB", chosen_by="U0BOB", channel_id=CHANNEL
    )

    runtime.dispatcher.drain(now=clock())
    announced_at_once = len(posted(slack, "owner_chosen"))
    clock.advance(timedelta(minutes=5))
    runtime.dispatcher.drain(now=clock())

    assert announced_at_once == 1
    assert len(posted(slack, "owner_chosen")) == 1
    [refresh] = [row for row in outbox(runtime) if row.kind == "owner_prompt_refresh"]
    assert refresh.status == "cancelled"
    assert "<@U0BOB>" in slack.calls("chat.update")[-1].params["text"]
