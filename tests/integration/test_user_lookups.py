"""Who people are (names, time zones) comes from users.info, cached: an hour when Slack
answered, a minute when it could not say."""

from __future__ import annotations

import socket
from datetime import timedelta

from slack_sdk import WebClient

from bot.bootstrap import Runtime
from bot.devtools.slack_standin import SlackStandIn
from bot.slack.messenger import SlackMessenger
from bot.slack.people import FORM_LOOKUP_SECONDS
from tests.support.clock import FakeClock


def messenger(slack: SlackStandIn, clock: FakeClock) -> SlackMessenger:
    return SlackMessenger(WebClient(base_url=slack.url, token="xoxb-t"), clock=clock)


def test_a_failed_look_up_is_asked_again_a_minute_later_not_an_hour(
    slack: SlackStandIn, clock: FakeClock
) -> None:
    slack.add_user("U0BOB", real_name="Bob Builder", tz="Asia/Tokyo")
    slack.fail_next("users.info", "internal_error")
    people = messenger(slack, clock)

    during = (people.display_name("U0BOB"), people.user_timezone("U0BOB"))
    clock.advance(timedelta(seconds=61))
    after = (people.display_name("U0BOB"), people.user_timezone("U0BOB"))

    assert during == ("U0BOB", None)
    assert after == ("Bob Builder", "Asia/Tokyo")
    assert len(slack.calls("users.info")) == 2


def test_an_answer_is_kept_for_the_hour(slack: SlackStandIn, clock: FakeClock) -> None:
    slack.add_user("U0BOB", real_name="Bob Builder")
    people = messenger(slack, clock)

    people.display_name("U0BOB")
    clock.advance(timedelta(minutes=59))
    people.display_name("U0BOB")
    clock.advance(timedelta(minutes=2))
    people.display_name("U0BOB")

    assert len(slack.calls("users.info")) == 2


def test_slack_unreachable_leaves_names_and_zones_unknown_instead_of_failing(
    clock: FakeClock,
) -> None:
    with socket.socket() as unused:  # a port nothing listens on: the connection is refused
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    people = SlackMessenger(
        WebClient(base_url=f"http://127.0.0.1:{port}/api/", token="xoxb-t", timeout=2),
        clock=clock,
    )

    assert (people.display_name("U0BOB"), people.user_timezone("U0BOB")) == ("U0BOB", None)


def test_the_start_forms_people_check_gives_up_on_slack_soon_after_its_deadline(
    runtime: Runtime,
) -> None:
    # A look-up past the form's deadline holds one of the check's few threads until its
    # client gives up: with the Web API client's 10 s, a slow Slack queued the next forms'
    # look-ups behind the late ones, and every bot was waved through.
    assert runtime.people.gives_up_after <= FORM_LOOKUP_SECONDS + 1
