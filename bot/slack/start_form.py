"""Reading the `/postmortem start` form's fields (the details form shares them): pure."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.domain.owners import Criterion, Person
from bot.domain.postmortem import pagerduty_incident_id
from bot.domain.resolution import why_implausible
from bot.slack.ids import Field
from bot.slack.text import has_words

_CRITERIA_FIELDS = {
    Criterion.LED_RESPONSE: Field.LED_RESPONSE,
    Criterion.PRIMARY_ON_CALL: Field.PRIMARY_ON_CALL,
    Criterion.MANUALLY_TRIGGERED: Field.MANUALLY_TRIGGERED,
}


def _value(values: dict[str, Any], field: Field) -> dict[str, Any]:
    return dict((values.get(field.value) or {}).get(field.value) or {})


def _moment(epoch: object) -> datetime | None:
    """The moment a datetimepicker's ``selected_date_time`` (Unix seconds) names, if any."""
    if isinstance(epoch, bool) or not isinstance(epoch, int | str):
        return None
    try:
        return datetime.fromtimestamp(int(epoch), UTC)
    except (ValueError, OverflowError, OSError):  # not a number, or no representable moment
        return None


def read_start_form(values: dict[str, Any], now: datetime) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's fields, and an error per block_id for anything a person must fix."""
    errors: dict[str, str] = {}
    title = str(_value(values, Field.TITLE).get("value") or "").strip()
    if not has_words(title):
        errors[Field.TITLE.value] = "Give the incident a short title."
    link = str(_value(values, Field.PAGERDUTY_INCIDENT).get("value") or "").strip()
    incident = pagerduty_incident_id(link) if link else None
    if link and incident is None:
        errors[Field.PAGERDUTY_INCIDENT.value] = (
            "Paste the incident's link from PagerDuty, like "
            "https://your-account.pagerduty.com/incidents/Q1ABC (or leave this empty)."
        )
    severity_option = _value(values, Field.SEVERITY).get("selected_option") or {}
    resolved_epoch = _value(values, Field.RESOLVED_AT).get("selected_date_time")
    resolved_at: datetime | None = now
    if resolved_epoch is not None:
        resolved_at = _moment(resolved_epoch)
        problem = (
            "Pick the date and time the incident was resolved."
            if resolved_at is None
            else why_implausible(resolved_at, now)
        )
        if problem is not None:
            errors[Field.RESOLVED_AT.value] = problem
    false_alarm = bool(_value(values, Field.FALSE_ALARM).get("selected_options"))
    evidence = {
        criterion: tuple(
            Person(slack_user_id=u) for u in _value(values, field).get("selected_users") or []
        )
        for criterion, field in _CRITERIA_FIELDS.items()
    }
    form = {
        "title": title,
        "pagerduty_incident": incident,
        "severity": severity_option.get("value"),
        "resolved_at": resolved_at,
        "false_alarm": false_alarm,
        "evidence": evidence,
    }
    return form, errors
