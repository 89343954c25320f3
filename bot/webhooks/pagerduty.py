"""``POST /webhooks/pagerduty``: PagerDuty v3 webhooks (verified, parsed, handed to a service).

PagerDuty delivers at least once, retries for up to 48 hours on timeouts, 5xx and 429, and
expects a 2xx within 5 seconds. So: a bad signature is 401, an unusable body is 400, an
event type the bot does not use is 200 (or PagerDuty would retry it for two days).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.services.incidents import Handled, IncidentService, PagerDutyEvent, Ref
from bot.webhooks.http import BadRequest, describe, error, parse_json, read_body
from bot.webhooks.signature import signature_matches

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "x-pagerduty-signature"
WEBHOOK_ID_HEADER = "x-webhook-id"


# Column sizes in the incident_events table; a longer id is not PagerDuty's.
Id = Annotated[str, Field(min_length=1, max_length=80)]


class Reference(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: Id
    type: Annotated[str, Field(max_length=80)] = ""
    summary: str = ""


class IncidentData(BaseModel):
    """The ``event.data`` of an incident event (only what the bot reads is checked)."""

    model_config = ConfigDict(extra="allow")

    id: Id
    type: Literal["incident"]
    title: str = ""
    service: Reference | None = None
    assignees: list[Reference] = []
    escalation_policy: Reference | None = None
    teams: list[Reference] = []
    priority: Reference | None = None


class Event(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: Annotated[str, Field(min_length=1, max_length=190)]
    event_type: Annotated[str, Field(max_length=80)]
    resource_type: str = ""
    occurred_at: AwareDatetime
    agent: Reference | None = None
    data: dict[str, Any]


class Envelope(BaseModel):
    model_config = ConfigDict(extra="allow")

    event: Event


def _incident_id(data: dict[str, Any]) -> str | None:
    """The incident an event is about: the data itself, or the incident it references."""
    if data.get("type") == "incident":
        return str(data["id"]) if data.get("id") else None
    incident = data.get("incident")
    if isinstance(incident, dict) and incident.get("id"):
        return str(incident["id"])
    return None


def parse_event(body: bytes) -> PagerDutyEvent | str:
    """The incident event in ``body``; a string saying why it is ignored; or BadRequest."""
    try:
        envelope = Envelope.model_validate(parse_json(body))
    except ValidationError as problem:
        raise BadRequest(describe(problem)[0]) from problem
    event = envelope.event
    if not event.event_type.startswith("incident."):
        return f"event type {event.event_type} is not handled"
    if event.event_type == "incident.resolved" or event.data.get("type") == "incident":
        try:
            IncidentData.model_validate(event.data)
        except ValidationError as problem:
            raise BadRequest(describe(problem, prefix="event.data.")[0]) from problem
    incident_id = _incident_id(event.data)
    if incident_id is None or len(incident_id) > 80:
        return f"event type {event.event_type} names no incident"
    agent = event.agent
    return PagerDutyEvent(
        id=event.id,
        event_type=event.event_type,
        occurred_at=event.occurred_at,
        incident_id=incident_id,
        agent=Ref(agent.id, agent.type, agent.summary[:200]) if agent else None,
        data=event.data,
    )


def _answer(handled: Handled) -> JSONResponse:
    body: dict[str, Any] = {"ok": True, "outcome": handled.outcome}
    if handled.postmortem is not None:
        body["postmortem_id"] = handled.postmortem.id
        body["channel"] = handled.postmortem.channel_id
    return JSONResponse(body, status_code=200)


def pagerduty_endpoint(
    incidents: IncidentService, secrets: Sequence[str]
) -> Callable[[Request], Any]:
    async def pagerduty_webhook(request: Request) -> Response:
        if not secrets:
            return error(
                503,
                "PagerDuty webhooks are not configured: set PAGERDUTY_WEBHOOK_SECRET to the "
                "subscription's signing secret",
            )
        body = await read_body(request)
        if body is None:
            return error(413, "request body too large")
        if not signature_matches(body, request.headers.get(SIGNATURE_HEADER), secrets):
            return error(401, "missing or invalid X-PagerDuty-Signature")
        try:
            parsed = parse_event(body)
        except BadRequest as problem:
            return error(400, str(problem))
        if isinstance(parsed, str):
            log.info("PagerDuty webhook ignored: %s", parsed)
            return JSONResponse({"ok": True, "outcome": "ignored", "reason": parsed})
        # Not covered by the signature; the event id (signed) is deduplicated too.
        webhook_id = (request.headers.get(WEBHOOK_ID_HEADER) or "")[:190] or None
        handle = (
            incidents.open_from_pagerduty
            if parsed.event_type == "incident.resolved"
            else incidents.record_pagerduty_event
        )
        try:
            handled = await run_in_threadpool(handle, event=parsed, webhook_id=webhook_id)
        except Exception:
            # Not a bad request: storage is unavailable. 503 makes PagerDuty retry later.
            log.exception("PagerDuty webhook %s could not be stored", webhook_id)
            return error(503, "could not store the event now; PagerDuty will retry")
        return _answer(handled)

    return pagerduty_webhook
