"""A bot configured for incident webhooks, with a PagerDuty REST stand-in beside Slack's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from bot.bootstrap import build_runtime
from bot.devtools.live_server import LiveServer
from bot.devtools.pagerduty_standin import PagerDutyStandIn
from bot.devtools.slack_standin import SlackStandIn
from tests.conftest import BotHarness, make_settings
from tests.support.clock import FakeClock

PAGERDUTY_SECRET = "pd-webhook-secret"
INCIDENT_SECRET = "incident-webhook-secret"
PAGERDUTY_TOKEN = "pd-api-token"

BotFactory = Callable[..., BotHarness]


@pytest.fixture
def pagerduty() -> Iterator[PagerDutyStandIn]:
    with PagerDutyStandIn() as standin:
        yield standin


@pytest.fixture
def incident_bot(
    database_url: str,
    slack: SlackStandIn,
    clock: FakeClock,
    pagerduty: PagerDutyStandIn,
    tmp_path: Path,
) -> Iterator[BotFactory]:
    """``incident_bot(routes=…, default_channel=…, pagerduty_api_token=…)`` → a running bot.

    Webhook secrets are set; ``routes`` (policy-file YAML lines) become the policy file.
    """
    with ExitStack() as stack:

        def build(*, routes: str | None = None, **overrides: object) -> BotHarness:
            values: dict[str, object] = {
                "pagerduty_webhook_secret": PAGERDUTY_SECRET,
                "incident_webhook_secret": INCIDENT_SECRET,
                "pagerduty_api_url": pagerduty.url,
            }
            if routes is not None:
                policy = tmp_path / "policy.yaml"
                policy.write_text(f"routes:\n{routes}")
                values["postmortem_policy_file"] = str(policy)
            values.update(overrides)
            runtime = build_runtime(make_settings(database_url, slack, **values), clock=clock)
            stack.callback(runtime.stop)
            runtime.pump.start()
            server = stack.enter_context(LiveServer(runtime.web_app))
            http = stack.enter_context(httpx.Client(base_url=server.url, timeout=10))
            return BotHarness(runtime=runtime, slack=slack, clock=clock, http=http)

        yield build
