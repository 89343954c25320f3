"""``POST /webhooks/grafana-oncall``: a Grafana OnCall outgoing webhook with **Forward All**
on; a resolved alert group opens a postmortem.

With Forward All, the body is the whole template context: ``{"event": {"type": "resolve",
"time": …}, "alert_group": {…}, "alert_group_acknowledged_by": {…}, "alert_payload": {…},
…}``. Only ``event.type`` ``resolve`` is used; every other type (``acknowledge``,
``alert group created``, ``escalation``, ``unresolve``, …) is answered 200 "ignored" as soon
as it is read, whatever else the body holds.

What a ``resolve`` gives the postmortem:

- incident: ``alert_group.id`` (the key is ``grafana-oncall:<id>``: a redelivery, or the
  group resolved again after an unresolve, opens nothing new);
- title: ``alert_group.title`` (stripped; ``Grafana OnCall alert group <id>`` when empty);
- resolved at: ``alert_group.resolved_at``, else ``event.time`` (ISO 8601 with a zone);
- severity: a ``severity`` label, looked for in ``alert_group.labels``, then in the first
  alert's ``alert_payload.labels`` and ``alert_payload.commonLabels`` (Alertmanager's);
- owner candidates: ``alert_group_acknowledged_by`` (its ``email``, looked up in Slack; its
  ``username`` shown when no Slack user matches), the first to acknowledge, led the response.

Authentication, ``?channel=`` and the answers are shared with Opsgenie's endpoint
(``bot.webhooks.tools``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError
from starlette.requests import Request

from bot.domain.owners import Criterion
from bot.services.incidents import IncidentService, ResolvedIncident
from bot.storable_text import cleaned_text
from bot.webhooks.http import (
    BadRequest,
    check_depth,
    clean,
    cleaned_keys,
    describe,
    parse_json,
)
from bot.webhooks.tools import (
    NOT_AN_OBJECT,
    DateTimeText,
    Id,
    field_time,
    label,
    person_ref,
    title_text,
    tool_endpoint,
)

SOURCE = "grafana-oncall"
TOOL = "Grafana OnCall"
RESOLVE = "resolve"
SEVERITY_LABEL = "severity"


class Event(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: Literal["resolve"]
    time: DateTimeText | None = None


class AlertGroup(BaseModel):
    """``alert_group`` (only what the bot reads is checked)."""

    model_config = ConfigDict(extra="allow")

    id: Id
    # Required, but it may be null or empty (a title template that renders nothing).
    title: Annotated[str, BeforeValidator(clean)] | None
    resolved_at: DateTimeText | None = None
    labels: Any = None


class Resolve(BaseModel):
    model_config = ConfigDict(extra="allow")

    event: Event
    alert_group: AlertGroup
    alert_group_acknowledged_by: Any = None
    alert_payload: Any = None


def _event_type(payload: Any) -> str | None:
    """``event.type``, read without validating anything else (None if there is none)."""
    event = payload.get("event") if isinstance(payload, dict) else None
    event_type = event.get("type") if isinstance(event, dict) else None
    return event_type if isinstance(event_type, str) else None


def severity(resolve: Resolve) -> str | None:
    """The first ``severity`` label: the alert group's, else the first alert's."""
    alert = resolve.alert_payload if isinstance(resolve.alert_payload, Mapping) else {}
    for labels in (resolve.alert_group.labels, alert.get("labels"), alert.get("commonLabels")):
        found = label(labels, SEVERITY_LABEL)
        if found is not None:
            return found
    return None


def parse_grafana_oncall(
    body: bytes, *, now: datetime, channel: str | None
) -> ResolvedIncident | str:
    """The resolved alert group in ``body``; a string saying why it is ignored; or BadRequest."""
    payload = parse_json(body)
    event_type = _event_type(payload)
    if event_type is not None and event_type != RESOLVE:
        return (
            f"event type {cleaned_text(event_type[:80])} does not resolve an alert group "
            f"(only {RESOLVE} opens a postmortem)"
        )
    if not isinstance(payload, dict):
        raise BadRequest(NOT_AN_OBJECT)
    check_depth(payload)
    if "event" not in payload and "alert_group" not in payload:
        # A Data template's own JSON, not the payload: the usual set-up slip.
        raise BadRequest(
            "event, alert_group: Field required — turn Forward All on in the outgoing webhook, "
            "so the body is Grafana OnCall's whole payload"
        )
    try:
        resolve = Resolve.model_validate(cleaned_keys(payload))
    except ValidationError as problem:
        raise BadRequest(describe(problem)[0]) from problem
    group = resolve.alert_group
    if group.resolved_at is not None:
        resolved_at = field_time(
            group.resolved_at, where="alert_group.resolved_at", now=now, tool=TOOL
        )
    elif resolve.event.time is not None:
        resolved_at = field_time(resolve.event.time, where="event.time", now=now, tool=TOOL)
    else:
        raise BadRequest(
            "alert_group.resolved_at: Field required (and event.time, used without it, "
            "is missing too)"
        )
    acknowledged_by = resolve.alert_group_acknowledged_by
    leader = (
        person_ref(acknowledged_by.get("email"), name=acknowledged_by.get("username"))
        if isinstance(acknowledged_by, Mapping)
        else None
    )
    return ResolvedIncident(
        source=SOURCE,
        incident_id=group.id,
        title=title_text(group.title, fallback=f"Grafana OnCall alert group {group.id}"),
        resolved_at=resolved_at,
        severity=severity(resolve),
        channel_id=channel,
        people={Criterion.LED_RESPONSE: (leader,)} if leader else {},
    )


def grafana_oncall_endpoint(
    incidents: IncidentService, secrets: Sequence[str]
) -> Callable[[Request], Any]:
    return tool_endpoint(incidents, secrets, tool=TOOL, parse=parse_grafana_oncall)
