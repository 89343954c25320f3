"""The webhook routes, mounted beside ``/slack/events`` by bootstrap."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import Route

from bot.services.incidents import IncidentService
from bot.webhooks.grafana_oncall import grafana_oncall_endpoint
from bot.webhooks.incident import incident_endpoint
from bot.webhooks.opsgenie import opsgenie_endpoint
from bot.webhooks.pagerduty import pagerduty_endpoint


def webhook_routes(
    *,
    incidents: IncidentService,
    pagerduty_secrets: Sequence[str],
    incident_secrets: Sequence[str],
    tool_tokens: Sequence[str],
) -> list[Route]:
    """Every webhook; one whose secret is unset answers 503 naming the variable to set.

    Opsgenie and Grafana OnCall cannot sign a body, so they send one of ``tool_tokens``
    (``INCIDENT_WEBHOOK_TOKEN``, else ``INCIDENT_WEBHOOK_SECRET``) as
    ``Authorization: Bearer <token>`` instead.
    """
    return [
        Route(
            "/webhooks/pagerduty",
            pagerduty_endpoint(incidents, tuple(pagerduty_secrets)),
            methods=["POST"],
        ),
        Route(
            "/webhooks/incident",
            incident_endpoint(incidents, tuple(incident_secrets)),
            methods=["POST"],
        ),
        Route(
            "/webhooks/opsgenie",
            opsgenie_endpoint(incidents, tuple(tool_tokens)),
            methods=["POST"],
        ),
        Route(
            "/webhooks/grafana-oncall",
            grafana_oncall_endpoint(incidents, tuple(tool_tokens)),
            methods=["POST"],
        ),
    ]
