"""``POST /webhooks/pagerduty``: PagerDuty v3 webhooks (verified, parsed, handed to a service).

PagerDuty delivers at least once, retries for up to 48 hours on timeouts, 5xx and 429, and
expects a 2xx within 5 seconds. So: a bad signature is 401, an unusable body is 400, an
event type the bot does not use is 200 (or PagerDuty would retry it for two days, and
disable a subscription whose deliveries keep failing).

Only the events the bot uses (``incident.*``) are validated in full: any other event type
is answered "ignored" as soon as its type is read, whatever else its payload holds.

A 400 loses the event for good, so it is kept for what can never be stored: an id with a
NUL character or an unpaired surrogate, an ``occurred_at`` no real event has (before 2000,
or more than a day ahead of this server's clock), a body nested deeper than any event.
Free text is cleaned instead (NULs dropped, unpaired surrogates replaced by U+FFFD), and a
time ahead of this server's clock (by less than a day) is taken as now: PagerDuty's
payloads cannot be fixed by the sender, and a resolution must not be lost to clock skew.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.domain.resolution import CLOCK_SKEW
from bot.services.incidents import Handled, IncidentService, PagerDutyEvent, Ref
from bot.storable_text import cleaned_text
from bot.webhooks.http import (
    BadRequest,
    check_depth,
    clean,
    cleaned,
    cleaned_keys,
    describe,
    error,
    not_before_2000,
    parse_json,
    postmortem_fields,
    signed_body,
    storable,
    storable_text,
    utc_text,
    validation_now,
)

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-PagerDuty-Signature"
WEBHOOK_ID_HEADER = "x-webhook-id"
# A later occurred_at is no clock skew but a bad timestamp (400); up to it, it is taken as now.
MAX_AHEAD = timedelta(days=1)
# The events the bot uses: incident.resolved opens a postmortem, every other incident event
# is evidence. Any other type is ignored before anything else in it is looked at.
HANDLED_PREFIX = "incident."

# An id must be stored as sent (a NUL or a lone surrogate is a 400); free text is cleaned
# so the event is kept.
STORABLE = BeforeValidator(storable)
FreeText = Annotated[str, BeforeValidator(clean)]
# Column sizes in the incident_events table; a longer id is not PagerDuty's.
Id = Annotated[str, Field(min_length=1, max_length=80), STORABLE]


class Reference(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: Id
    type: Annotated[str, Field(max_length=80), STORABLE] = ""
    summary: FreeText = ""


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

    id: Annotated[str, Field(min_length=1, max_length=190), STORABLE]
    event_type: Annotated[str, Field(max_length=80), STORABLE]
    resource_type: str = ""
    occurred_at: AwareDatetime
    agent: Reference | None = None
    data: dict[str, Any]

    @field_validator("occurred_at")
    @classmethod
    def _plausible(cls, value: datetime, info: ValidationInfo) -> datetime:
        """PagerDuty's time, unless it is impossible; ``now`` comes from the context.

        An event ahead of this server's clock did happen (PagerDuty's clock is the
        authority; ours is the likelier to be off), so it is kept, as happening now: nothing
        (deadlines, nudges) is then counted from a time that has not come yet, and events
        taken as now still sort in the order they arrived, after every earlier one.
        """
        now = validation_now(info)
        if value > now + MAX_AHEAD:
            raise ValueError(
                f"is more than a day in the future (this server's clock says {utc_text(now)})"
            )
        if value <= now:
            return not_before_2000(value)
        if value > now + CLOCK_SKEW:
            log.warning(
                "PagerDuty event time %s is ahead of this server's clock (%s): taken as now",
                utc_text(value),
                utc_text(now),
            )
        return now


class Envelope(BaseModel):
    model_config = ConfigDict(extra="allow")

    event: Event


def _incident_id(data: dict[str, Any]) -> tuple[str, str] | None:
    """The incident an event is about, and where it was found: the data itself, or the
    incident it references."""
    if data.get("type") == "incident":
        return ("id", str(data["id"])) if data.get("id") else None
    incident = data.get("incident")
    if isinstance(incident, dict) and incident.get("id"):
        return "incident.id", str(incident["id"])
    return None


def _event_type(payload: Any) -> str | None:
    """``event.event_type``, read without validating anything else (None if there is none)."""
    event = payload.get("event") if isinstance(payload, dict) else None
    event_type = event.get("event_type") if isinstance(event, dict) else None
    return event_type if isinstance(event_type, str) else None


def parse_event(body: bytes, *, now: datetime) -> PagerDutyEvent | str:
    """The incident event in ``body``; a string saying why it is ignored; or BadRequest.

    ``now`` is this server's time, which ``event.occurred_at`` is checked against.
    """
    payload = parse_json(body)
    event_type = _event_type(payload)
    if event_type is not None and not event_type.startswith(HANDLED_PREFIX):
        # Not an event the bot uses: nothing else in it matters (a missing time, a null
        # data, an odd id), and a 400 would only make PagerDuty count failed deliveries.
        return f"event type {cleaned_text(event_type[:80])} is not handled"
    check_depth(payload)
    try:
        envelope = Envelope.model_validate(cleaned_keys(payload), context={"now": now})
    except ValidationError as problem:
        raise BadRequest(describe(problem)[0]) from problem
    event = envelope.event
    if event.event_type == "incident.resolved" or event.data.get("type") == "incident":
        try:
            IncidentData.model_validate(event.data)
        except ValidationError as problem:
            raise BadRequest(describe(problem, prefix="event.data.")[0]) from problem
    found = _incident_id(event.data)
    if found is None or len(found[1]) > 80:
        return f"event type {event.event_type} names no incident"
    where, incident_id = found
    try:
        storable_text(incident_id)
    except ValueError as problem:
        raise BadRequest(f"event.data.{where}: Value error, {problem}") from problem
    agent = event.agent
    return PagerDutyEvent(
        id=event.id,
        event_type=event.event_type,
        occurred_at=event.occurred_at,
        incident_id=incident_id,
        agent=Ref(agent.id, agent.type, agent.summary[:200]) if agent else None,
        # The ids it is stored under were checked above; its text (title, names) is cleaned.
        data=cleaned(event.data),
    )


def _answer(handled: Handled) -> JSONResponse:
    body: dict[str, Any] = {"ok": True, "outcome": handled.outcome}
    if handled.postmortem is not None:
        body |= postmortem_fields(handled.postmortem)
    return JSONResponse(body, status_code=200)


def pagerduty_endpoint(
    incidents: IncidentService, secrets: Sequence[str]
) -> Callable[[Request], Any]:
    async def pagerduty_webhook(request: Request) -> Response:
        body = await signed_body(
            request,
            secrets=secrets,
            header=SIGNATURE_HEADER,
            unconfigured="PagerDuty webhooks are not configured: set PAGERDUTY_WEBHOOK_SECRET "
            "to the subscription's signing secret",
        )
        if isinstance(body, Response):
            return body
        try:
            parsed = parse_event(body, now=incidents.now())
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
            else incidents.take_pagerduty_event
        )
        try:
            handled = await run_in_threadpool(handle, event=parsed, webhook_id=webhook_id)
        except Exception:
            # Not a bad request: storage is unavailable. 503 makes PagerDuty retry later.
            log.exception("PagerDuty webhook %s could not be stored", webhook_id)
            return error(503, "could not store the event now; PagerDuty will retry")
        return _answer(handled)

    return pagerduty_webhook
