"""Starts wait (briefly) for the outbox pump when it is behind, so acks never outrun prompts."""

from __future__ import annotations

import asyncio
import time

import httpx

from bot.bootstrap import PROMPT_WAIT_SECONDS, Runtime
from bot.devtools.live_server import LiveServer
from bot.devtools.slack_standin import SlackStandIn
from tests.conftest import SIGNING_SECRET
from tests.support.clock import FakeClock
from tests.support.lifecycle import open_many
from tests.support.slack_user import SlackUser
from tests.support.waiting import wait_until


def test_the_pump_is_behind_while_it_works_through_a_full_batch_and_caught_up_after(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    open_many(runtime, clock, 60)  # the pump is not running yet: 60 prompts wait
    assert not runtime.pump.behind
    slack.delay("chat.postMessage", 0.02)  # so the first batch of 50 takes a while
    runtime.pump.start()
    runtime.pump.wake(clock())

    wait_until(lambda: len(slack.calls("chat.postMessage")) >= 1)
    assert runtime.pump.behind  # it claimed a full batch: more rows are probably waiting
    wait_until(lambda: len(slack.calls("chat.postMessage")) == 60 and not runtime.pump.behind)


def test_a_start_waits_a_bounded_time_while_the_pump_is_behind(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    open_many(runtime, clock, 60)
    slack.delay("chat.postMessage", 0.05)  # the first batch of 50 takes ~2.5 s
    runtime.pump.start()
    runtime.pump.wake(clock())
    wait_until(lambda: runtime.pump.behind)

    with LiveServer(runtime.web_app) as server, httpx.Client(base_url=server.url) as http:
        alice = SlackUser(http, SIGNING_SECRET, "U0ALICE", channel_id="C0LATE")
        started = time.monotonic()
        assert "Opened postmortem" in alice.answer("start Late")
        start_waited = time.monotonic() - started
        still_behind = runtime.pump.behind

    # The start held back for the pump (a lower bound, not a speed figure), then went ahead
    # although the pump was still behind: the wait is bounded.
    assert start_waited >= PROMPT_WAIT_SECONDS * 0.9
    assert still_behind
    wait_until(lambda: len(slack.calls("chat.postMessage")) == 61)


def test_a_waiting_start_goes_ahead_as_soon_as_the_pump_catches_up(
    runtime: Runtime, slack: SlackStandIn, clock: FakeClock
) -> None:
    open_many(runtime, clock, 60)
    slack.delay("chat.postMessage", 0.01)  # the first batch of 50 takes ~0.5 s
    runtime.pump.start()
    runtime.pump.wake(clock())
    wait_until(lambda: runtime.pump.behind)

    async def wait_then_look() -> tuple[bool, int]:
        await runtime.pump.wait_caught_up(timeout=60)  # far longer than the batch takes
        return runtime.pump.behind, len(slack.calls("chat.postMessage"))

    behind_when_woken, posted_when_woken = asyncio.run(asyncio.wait_for(wait_then_look(), 10))

    # Woken by the catch-up itself (not by the timeout, which would have failed wait_for):
    # the full batch was posted and the pump was no longer behind.
    assert not behind_when_woken
    assert posted_when_woken >= 50


def test_a_pump_that_is_not_behind_keeps_nobody_waiting(runtime: Runtime) -> None:
    async def wait() -> None:
        await runtime.pump.wait_caught_up(timeout=60)

    asyncio.run(asyncio.wait_for(wait(), 5))
