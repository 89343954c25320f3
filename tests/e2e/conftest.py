"""A bot configured for incident webhooks, with a PagerDuty REST stand-in beside Slack's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.devtools.pagerduty_standin import PagerDutyStandIn
from tests.conftest import BotFactory, BotHarness

PAGERDUTY_SECRET = "pd-webhook-secret"
INCIDENT_SECRET = "incident-webhook-secret"
PAGERDUTY_TOKEN = "pd-api-token"


@pytest.fixture
def pagerduty() -> Iterator[PagerDutyStandIn]:
    with PagerDutyStandIn() as standin:
        yield standin


@pytest.fixture
def incident_bot(make_bot: BotFactory, pagerduty: PagerDutyStandIn) -> BotFactory:
    """``incident_bot(routes=…, default_channel=…, pagerduty_api_token=…)`` → a running bot.

    Webhook secrets are set; ``routes`` (policy-file YAML lines) become the policy file.
    """

    def build(*, routes: str | None = None, **overrides: object) -> BotHarness:
        values: dict[str, object] = {
            "pagerduty_webhook_secret": PAGERDUTY_SECRET,
            "incident_webhook_secret": INCIDENT_SECRET,
            "pagerduty_api_url": pagerduty.url,
            **overrides,
        }
        return make_bot(policy=None if routes is None else f"routes:\n{routes}", **values)

    return build
