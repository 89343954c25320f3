"""The periodic job's log says what an operator needs: a tick skipped because the previous
drain is still running is by design (one drain at a time), so it is no warning."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from bot.bootstrap import Runtime
from bot.scheduling.jobs import build_scheduler
from tests.conftest import BotHarness
from tests.support.clock import FakeClock
from tests.support.waiting import wait_until


def test_a_tick_skipped_while_the_previous_run_goes_on_is_logged_at_debug_not_warning(
    runtime: Runtime, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    scheduler = build_scheduler(runtime.dispatcher, clock, interval_seconds=3600)
    release = threading.Event()
    # A run that outlasts its interval, as a drain does while Slack is slow.
    scheduler.add_job(release.wait, "interval", seconds=0.1, args=[5], max_instances=1)

    with caplog.at_level(logging.DEBUG):
        scheduler.start()
        try:
            time.sleep(0.6)
            logging.getLogger("apscheduler.scheduler").warning("something else it warns about")
        finally:
            release.set()
            scheduler.shutdown(wait=True)

    skipped = [r for r in caplog.records if "maximum number of running instances" in r.getMessage()]
    assert skipped, "the slow job's ticks were not skipped: the test proves nothing"
    assert {r.levelname for r in skipped} == {"DEBUG"}
    assert any(
        r.levelname == "WARNING" and "something else" in r.getMessage() for r in caplog.records
    )


def test_a_message_slack_refuses_is_logged_in_one_line_with_its_error(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    bot.slack.fail_next("chat.postMessage", "msg_too_long")

    with caplog.at_level(logging.INFO):
        bot.user("U0ALICE").answer("start Checkout errors")
        wait_until(lambda: any("did not take" in r.getMessage() for r in caplog.records))

    [refused] = [r for r in caplog.records if "did not take" in r.getMessage()]
    assert refused.levelname == "WARNING"
    assert refused.getMessage() == "Slack did not take 1 message(s): owner_prompt#1: msg_too_long"
    assert refused.exc_info is None


def test_a_message_slack_gave_no_clear_answer_for_is_logged_as_maybe_posted(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    bot.slack.fail_next("chat.postMessage", "fatal_error")  # "may have succeeded"

    with caplog.at_level(logging.INFO):
        bot.user("U0ALICE").answer("start Checkout errors")
        wait_until(lambda: any("did not answer" in r.getMessage() for r in caplog.records))

    [unanswered] = [r for r in caplog.records if "did not answer" in r.getMessage()]
    assert unanswered.levelname == "WARNING"
    assert unanswered.getMessage() == (
        "Slack did not answer in time for 1 message(s), which may have been posted: "
        "owner_prompt#1: fatal_error; each is looked for in its conversation before it is "
        "sent again"
    )
    assert not any("did not take" in r.getMessage() for r in caplog.records)
