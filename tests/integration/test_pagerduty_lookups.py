"""The look-up adapters: PagerDuty REST as bootstrap builds it, against the PagerDuty
stand-in; Slack's users.lookupByEmail."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from slack_sdk import WebClient

from bot.devtools.pagerduty_standin import PagerDutyStandIn
from bot.pagerduty.rest import PagerDutyRest, build_client
from bot.pagerduty.slack_directory import SlackEmailDirectory


@pytest.fixture
def pagerduty() -> Iterator[PagerDutyStandIn]:
    with PagerDutyStandIn() as standin:
        yield standin


@pytest.fixture
def rest(pagerduty: PagerDutyStandIn) -> PagerDutyRest:
    return PagerDutyRest(build_client("pd-api-token", pagerduty.url))


def test_a_look_up_whose_connection_fails_is_tried_once(
    pagerduty: PagerDutyStandIn, rest: PagerDutyRest
) -> None:
    pagerduty.add_user("PALICE1", name="Alice", email="alice@example.com")
    pagerduty.fail_next("/users/")  # the connection closes without an answer

    assert rest.user_email(user_id="PALICE1") is None
    assert len(pagerduty.calls("/users/PALICE1")) == 1
    # Nothing is left over: the next look-up is answered.
    assert rest.user_email(user_id="PALICE1") == "alice@example.com"


def test_a_rate_limited_look_up_is_tried_once(
    pagerduty: PagerDutyStandIn, rest: PagerDutyRest
) -> None:
    pagerduty.add_user("PALICE1", name="Alice", email="alice@example.com")
    pagerduty.fail_next("/users/", status=429)

    assert rest.user_email(user_id="PALICE1") is None
    assert len(pagerduty.calls("/users/PALICE1")) == 1


def test_a_look_up_that_fails_with_a_server_error_is_tried_once(
    pagerduty: PagerDutyStandIn, rest: PagerDutyRest
) -> None:
    pagerduty.fail_next("/oncalls", status=503)

    assert rest.primary_on_call(escalation_policy_id="PY82TC6", at=datetime.now(UTC)) == ()
    assert len(pagerduty.calls("/oncalls")) == 1


def test_a_slack_email_look_up_that_cannot_connect_means_no_match_not_an_error() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # nothing listens here once it is closed
    client = WebClient(token="xoxb-test", base_url=f"http://127.0.0.1:{port}/api/", timeout=2)

    assert SlackEmailDirectory(client).user_id_for_email("alice@example.com") is None
