"""``POST /webhooks/incident``: any tool hands over a resolved incident (documented JSON).

Signed like PagerDuty's v3 webhooks: ``X-Signature: v1=<hex HMAC-SHA256 of the raw body>``
with ``INCIDENT_WEBHOOK_SECRET`` (comma-separate several secrets to rotate). The JSON
Schema of the body is published at ``bot/schemas/incident-webhook.schema.json``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.config import JsonDict
from starlette.requests import Request
from starlette.responses import Response

from bot.domain.messages import SLACK_CHANNEL_ID, SLACK_USER_ID
from bot.domain.owners import Criterion
from bot.domain.postmortem import PAGERDUTY
from bot.domain.resolution import CLOCK_SKEW
from bot.services.incidents import IncidentService, PersonRef, ResolvedIncident
from bot.webhooks.http import (
    BadRequest,
    check_depth,
    cleaned_keys,
    describe,
    error,
    not_before_2000,
    parse_json,
    signed_body,
    storable,
    utc_text,
    validation_now,
)
from bot.webhooks.tools import open_resolved

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Signature"
# Text the database can store: no NUL character, no unpaired surrogate (else a 400 names
# the field). The sender can fix its text, so it is refused rather than cleaned.
STORABLE = BeforeValidator(storable)
SlackUserId = Annotated[str, Field(pattern=rf"^{SLACK_USER_ID}$", examples=["U0123ABCD"])]
# People listed per owner criterion, at most: far more than ever respond to one incident
# (the owner prompt shows ten), and it bounds the Slack look-ups one request can cause.
MAX_PEOPLE = 400
# Sources whose incident keys belong to the built-in integrations (a PagerDuty incident's
# key is pagerduty:<id>; /postmortem start's is slack:<channel>:…).
RESERVED_SOURCES = {PAGERDUTY: "PagerDuty webhook", "slack": "/postmortem start command"}
# What resolved_at must look like before it is parsed: a date and a time of day. (Pydantic
# alone would also take a number, or a string of digits, as a Unix time.)
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _not_blank(value: str) -> str:
    if value.isspace():
        raise ValueError("must not be blank (it is only whitespace)")
    return value


def _not_reserved(value: str) -> str:
    if value in RESERVED_SOURCES:
        raise ValueError(
            f"{value!r} is reserved for the built-in {RESERVED_SOURCES[value]}: name your "
            "own tool (e.g. opsgenie, grafana-oncall, ci)"
        )
    return value


def _date_time_text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATE_TIME.match(value):
        raise ValueError(
            "must be an RFC 3339 (ISO 8601) date-time string with a zone, e.g. 2026-11-24T13:40:00Z"
        )
    return value


# Required text: something besides whitespace (the schema says so with a pattern).
NOT_BLANK = AfterValidator(_not_blank)
NOT_BLANK_SCHEMA: JsonDict = {"pattern": r"\S"}


class WebhookPerson(BaseModel):
    """Someone behind an owner criterion: their Slack user id, or an email Slack knows."""

    model_config = ConfigDict(extra="forbid")

    slack_user_id: SlackUserId | None = None
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=254), STORABLE] | None = (
        None
    )
    name: Annotated[str, Field(max_length=200), STORABLE] = ""

    @model_validator(mode="after")
    def _identified(self) -> WebhookPerson:
        if self.slack_user_id is None and self.email is None:
            raise ValueError("give slack_user_id or email")
        return self


class WebhookPeople(BaseModel):
    """The people who meet each of the guidance's owner criteria."""

    model_config = ConfigDict(extra="forbid")

    led_response: list[WebhookPerson] = Field(
        default=[],
        max_length=MAX_PEOPLE,
        description="Initially assigned to the alert and led the response.",
    )
    primary_on_call: list[WebhookPerson] = Field(
        default=[],
        max_length=MAX_PEOPLE,
        description="Primary on-call for the most heavily affected service.",
    )
    manually_triggered: list[WebhookPerson] = Field(
        default=[], max_length=MAX_PEOPLE, description="Manually triggered the incident."
    )


class IncidentWebhook(BaseModel):
    """A resolved incident, handed over so its postmortem opens."""

    model_config = ConfigDict(
        extra="forbid",
        title="Resolved incident",
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
    )

    incident_id: Annotated[str, Field(min_length=1, max_length=120), STORABLE, NOT_BLANK] = Field(
        description="The sending tool's incident id; with `source` it identifies the incident "
        "(one postmortem per incident, however often it is sent).",
        json_schema_extra=NOT_BLANK_SCHEMA,
    )
    source: Annotated[
        str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,29}$"), AfterValidator(_not_reserved)
    ] = Field(
        default="webhook",
        description="The sending tool, e.g. opsgenie, grafana-oncall, ci (not pagerduty or "
        "slack: those belong to the built-in integrations).",
        json_schema_extra={"not": {"enum": list(RESERVED_SOURCES)}},
    )
    title: Annotated[str, Field(min_length=1, max_length=300), STORABLE, NOT_BLANK] = Field(
        json_schema_extra=NOT_BLANK_SCHEMA
    )
    severity: Annotated[str, Field(max_length=40), STORABLE] | None = None
    resolved_at: Annotated[AwareDatetime, BeforeValidator(_date_time_text)] = Field(
        description="When the incident was resolved, as an RFC 3339 string with a zone: not "
        "in the future (a few minutes of clock skew are allowed), not before 2000."
    )
    service: Annotated[str, Field(max_length=200), STORABLE] | None = None
    channel: Annotated[str, Field(pattern=rf"^{SLACK_CHANNEL_ID}$")] | None = Field(
        default=None,
        description="Slack channel id to open the postmortem in; default DEFAULT_CHANNEL.",
    )
    false_alarm: bool = Field(
        default=False,
        strict=True,
        description="No real impact; still reviewed, marked possible false alarm (a JSON boolean).",
    )
    people: WebhookPeople = Field(default_factory=WebhookPeople)

    @field_validator("resolved_at")
    @classmethod
    def _plausible(cls, value: datetime, info: ValidationInfo) -> datetime:
        """A time an incident can have been resolved at; ``now`` comes from the context.

        Also keeps the domain's date arithmetic (deadlines a week after resolution) in range.
        """
        now = validation_now(info)
        if value > now + CLOCK_SKEW:
            raise ValueError(
                f"is in the future (this server's clock says {utc_text(now)}; "
                f"up to {CLOCK_SKEW.seconds // 60} minutes of clock skew are allowed)"
            )
        return not_before_2000(value)


def parse_incident(body: bytes, *, now: datetime) -> ResolvedIncident:
    """The incident in ``body`` (``now`` bounds ``resolved_at``), or BadRequest naming a field."""
    parsed = parse_json(body)
    check_depth(parsed)
    try:
        # Keys cleaned, so an unknown key with a lone surrogate is named like any other.
        payload = IncidentWebhook.model_validate(cleaned_keys(parsed), context={"now": now})
    except ValidationError as problem:
        raise BadRequest(describe(problem)[0]) from problem
    people = {
        Criterion.LED_RESPONSE: payload.people.led_response,
        Criterion.PRIMARY_ON_CALL: payload.people.primary_on_call,
        Criterion.MANUALLY_TRIGGERED: payload.people.manually_triggered,
    }
    return ResolvedIncident(
        source=payload.source,
        incident_id=payload.incident_id,
        title=payload.title,
        resolved_at=payload.resolved_at,
        severity=payload.severity,
        service=payload.service,
        channel_id=payload.channel,
        false_alarm=payload.false_alarm,
        people={
            criterion: tuple(
                PersonRef(slack_user_id=p.slack_user_id, email=p.email, name=p.name) for p in listed
            )
            for criterion, listed in people.items()
        },
    )


def incident_endpoint(
    incidents: IncidentService, secrets: Sequence[str]
) -> Callable[[Request], Any]:
    async def incident_webhook(request: Request) -> Response:
        body = await signed_body(
            request,
            secrets=secrets,
            header=SIGNATURE_HEADER,
            unconfigured="the incident webhook is not configured: set INCIDENT_WEBHOOK_SECRET "
            "to a shared secret and sign requests with it",
        )
        if isinstance(body, Response):
            return body
        try:
            incident = parse_incident(body, now=incidents.now())
        except BadRequest as problem:
            return error(400, str(problem))
        return await open_resolved(incidents, incident, sender="incident webhook")

    return incident_webhook
