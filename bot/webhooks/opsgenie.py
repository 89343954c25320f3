"""``POST /webhooks/opsgenie``: Opsgenie's Webhook integration; a closed alert opens a postmortem.

Opsgenie posts one JSON body per alert action: ``{"action": "Close", "alert": {…},
"source": {…}, "integrationId": …}``. ``Close`` resolves an alert. ``Acknowledge`` and
``AssignOwnership`` say who took the alert on: they are recorded as evidence that this
person was assigned to the alert and led the response (``alert.username``, who acknowledged;
``alert.owner``, who it was given to), and join the owner candidates when the alert closes —
or at once, if its postmortem is already open and still awaits its owner. Every other action
(``Create``, ``AddNote``, …) is answered 200 "ignored" as soon as it is read, whatever else
the body holds.

What a ``Close`` gives the postmortem:

- incident: ``alert.alertId`` (the key is ``opsgenie:<alertId>``: closing it again, or a
  redelivery, opens nothing new);
- title: ``alert.message``, stripped (Opsgenie's own samples start it with a space);
- resolved at: ``alert.updatedAt``, the alert's last change, which for a Close is the close.
  It is a Unix time, and Opsgenie's samples send it in nanoseconds (``createdAt`` in
  milliseconds), so the unit is told by its size: seconds up to 11 digits, then
  milliseconds (12 to 14), microseconds (15 to 17) and nanoseconds (18 and more). For any time
  after 1973 that is unambiguous;
- severity: ``alert.priority`` (``P1``…``P5``; a bare ``3`` or ``"3"`` reads as ``P3``);
- owner candidates: ``alert.owner`` (Opsgenie's username, an email, looked up in Slack) was
  initially assigned to the alert and led the response.

Authentication, ``?channel=`` and the answers are shared with Grafana OnCall's endpoint
(``bot.webhooks.tools``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from starlette.requests import Request

from bot.domain.owners import Criterion
from bot.services.incidents import IncidentService, ResolvedIncident, ToolEvidence
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
    MAX_SEVERITY,
    NOT_AN_OBJECT,
    Id,
    field_time,
    optional_text,
    person_ref,
    title_text,
    tool_endpoint,
)

SOURCE = "opsgenie"
TOOL = "Opsgenie"
CLOSE = "Close"
# The actions that name who took the alert on, and where the person is in the alert.
TAKEN_ON = {"Acknowledge": "username", "AssignOwnership": "owner"}
# (smallest value, units per second): a Unix time's unit, by its size.
_UNITS = ((10**17, 10**9), (10**14, 10**6), (10**11, 10**3), (0, 1))


def epoch_time(value: Any) -> datetime:
    """A Unix time in seconds, milliseconds, microseconds or nanoseconds (told by its size),
    as an aware UTC datetime; ValueError for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(
            "must be a Unix time: a number of seconds, milliseconds, microseconds or "
            "nanoseconds since 1970"
        )
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        value = int(value)
    if value < 0:
        raise ValueError("must not be negative")
    per_second = next(per for smallest, per in _UNITS if value >= smallest)
    seconds, rest = divmod(value, per_second)
    try:
        moment = datetime.fromtimestamp(seconds, UTC)
        return moment + timedelta(microseconds=rest * 1_000_000 // per_second)
    except (OverflowError, OSError, ValueError) as problem:
        raise ValueError("is not a time on any calendar") from problem


class OpsgenieAlert(BaseModel):
    """``alert`` of a Close (only what the bot reads is checked)."""

    model_config = ConfigDict(extra="allow")

    alert_id: Id = Field(alias="alertId")
    message: Annotated[str, BeforeValidator(clean)]
    updated_at: Annotated[datetime, BeforeValidator(epoch_time)] = Field(alias="updatedAt")
    priority: Any = None
    owner: Any = None


class OpsgenieTakenOn(BaseModel):
    """``alert`` of an Acknowledge or AssignOwnership (only what the bot reads is checked)."""

    model_config = ConfigDict(extra="allow")

    alert_id: Id = Field(alias="alertId")
    updated_at: Annotated[datetime, BeforeValidator(epoch_time)] = Field(alias="updatedAt")
    username: Any = None
    owner: Any = None


class OpsgenieTakenOnAction(BaseModel):
    model_config = ConfigDict(extra="allow")

    alert: OpsgenieTakenOn


class OpsgenieClose(BaseModel):
    model_config = ConfigDict(extra="allow")

    action: Literal["Close"]
    alert: OpsgenieAlert


_BARE_PRIORITIES = ("1", "2", "3", "4", "5")


def severity(priority: Any) -> str | None:
    """``P1``…``P5`` as sent; a bare ``n`` (a number, or text a custom integration sent) as
    ``Pn``; None when there is none."""
    if isinstance(priority, int) and not isinstance(priority, bool) and 1 <= priority <= 5:
        return f"P{priority}"
    if isinstance(priority, str) and priority.strip() in _BARE_PRIORITIES:
        return f"P{priority.strip()}"
    return optional_text(priority, MAX_SEVERITY)


def parse_opsgenie(
    body: bytes, *, now: datetime, channel: str | None
) -> ResolvedIncident | ToolEvidence | str:
    """The closed alert in ``body``, or who took it on; a string saying why it is ignored;
    or BadRequest."""
    payload = parse_json(body)
    sent = payload.get("action") if isinstance(payload, dict) else None
    # Only text names an action (an object or an array cannot even be looked up in
    # TAKEN_ON); anything else is read as a Close, whose validation names the field.
    action = sent if isinstance(sent, str) else None
    if action is not None and action != CLOSE and action not in TAKEN_ON:
        return (
            f"action {cleaned_text(action[:80])} does not close an alert "
            f"(only {CLOSE} opens a postmortem)"
        )
    if not isinstance(payload, dict):
        raise BadRequest(NOT_AN_OBJECT)
    check_depth(payload)
    if action in TAKEN_ON:
        return _taken_on(action, payload, now=now)
    try:
        close = OpsgenieClose.model_validate(cleaned_keys(payload))
    except ValidationError as problem:
        raise BadRequest(describe(problem)[0]) from problem
    alert = close.alert
    resolved_at = field_time(alert.updated_at, where="alert.updatedAt", now=now, tool=TOOL)
    owner = person_ref(alert.owner)
    return ResolvedIncident(
        source=SOURCE,
        incident_id=alert.alert_id,
        title=title_text(alert.message, fallback=f"Opsgenie alert {alert.alert_id}"),
        resolved_at=resolved_at,
        severity=severity(alert.priority),
        channel_id=channel,
        people={Criterion.LED_RESPONSE: (owner,)} if owner else {},
    )


def _taken_on(action: str, payload: dict[str, Any], *, now: datetime) -> ToolEvidence | str:
    """Who acknowledged the alert, or was given it: evidence they led the response."""
    try:
        alert = OpsgenieTakenOnAction.model_validate(cleaned_keys(payload)).alert
    except ValidationError as problem:
        raise BadRequest(describe(problem)[0]) from problem
    where = TAKEN_ON[action]
    person = person_ref(getattr(alert, where))
    if person is None:
        return f"action {action} names nobody (alert.{where} is empty)"
    return ToolEvidence(
        source=SOURCE,
        incident_id=alert.alert_id,
        event_type=action,
        occurred_at=min(alert.updated_at, now),
        criterion=Criterion.LED_RESPONSE,
        person=person,
    )


def opsgenie_endpoint(
    incidents: IncidentService, secrets: Sequence[str]
) -> Callable[[Request], Any]:
    return tool_endpoint(incidents, secrets, tool=TOOL, parse=parse_opsgenie)
