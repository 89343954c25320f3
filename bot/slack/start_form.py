"""Reading the `/postmortem start` form's fields (the details form shares them): pure."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.domain.owners import CRITERION_REASONS, Criterion, Person
from bot.domain.postmortem import MAX_TITLE_LENGTH, pagerduty_incident_id
from bot.domain.resolution import why_implausible
from bot.slack.blocks import NO_SEVERITY, SEVERITIES
from bot.slack.form_values import chosen_people, input_element, moment
from bot.slack.ids import Field
from bot.slack.people import NoOwner, NotAPerson
from bot.slack.text import has_words

_CRITERIA_FIELDS = {
    Criterion.LED_RESPONSE: Field.LED_RESPONSE,
    Criterion.PRIMARY_ON_CALL: Field.PRIMARY_ON_CALL,
    Criterion.MANUALLY_TRIGGERED: Field.MANUALLY_TRIGGERED,
}


# People per owner criterion a form may name: far more than ever lead, are on call for, or
# trigger one incident (the owner prompt shows ten); it bounds what one submission stores.
MAX_PEOPLE_PER_CRITERION = 25


def _text(element: dict[str, Any]) -> str:
    value = element.get("value")
    return value.strip() if isinstance(value, str) else ""


def _severity(element: dict[str, Any], offered: Collection[str]) -> tuple[str | None, bool]:
    """The severity chosen (None: none), and whether it is one the form ``offered``."""
    option = element.get("selected_option")
    if option is None:
        return None, True
    value = option.get("value") if isinstance(option, dict) else None
    if not isinstance(value, str) or value not in offered:
        return None, False
    return (None if value == NO_SEVERITY else value), True


def read_start_form(
    values: dict[str, Any],
    now: datetime,
    *,
    max_title: int = MAX_TITLE_LENGTH,
    severities: Collection[str] = SEVERITIES,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's fields, and an error per block_id for anything a person must fix.

    Slack's own form cannot send a title over its ``max_length``, a severity it did not
    offer (``severities``), or anything but user ids from a people picker; a submission
    that does anyway is refused inline like any other mistake.
    """
    errors: dict[str, str] = {}
    title = _text(input_element(values, Field.TITLE))
    if not has_words(title):
        errors[Field.TITLE.value] = "Give the incident a short title."
    elif len(title) > max_title:
        errors[Field.TITLE.value] = f"Keep the title to {max_title} characters."
    link = _text(input_element(values, Field.PAGERDUTY_INCIDENT))
    incident = pagerduty_incident_id(link) if link else None
    if link and incident is None:
        errors[Field.PAGERDUTY_INCIDENT.value] = (
            "Paste the incident's link from PagerDuty, like "
            "https://your-account.pagerduty.com/incidents/Q1ABC (or leave this empty)."
        )
    severity, severity_ok = _severity(input_element(values, Field.SEVERITY), severities)
    if not severity_ok:
        errors[Field.SEVERITY.value] = "Choose a severity from the list."
    resolved_epoch = input_element(values, Field.RESOLVED_AT).get("selected_date_time")
    resolved_at: datetime | None = now
    if resolved_epoch is not None:
        resolved_at = moment(resolved_epoch)
        problem = (
            "Pick the date and time the incident was resolved."
            if resolved_at is None
            else why_implausible(resolved_at, now)
        )
        if problem is not None:
            errors[Field.RESOLVED_AT.value] = problem
    false_alarm = bool(input_element(values, Field.FALSE_ALARM).get("selected_options"))
    evidence: dict[Criterion, tuple[Person, ...]] = {}
    for criterion, field in _CRITERIA_FIELDS.items():
        people = chosen_people(input_element(values, field), MAX_PEOPLE_PER_CRITERION)
        if people is None:
            errors[field.value] = (
                f"Choose people from the list, at most {MAX_PEOPLE_PER_CRITERION}."
            )
            people = []
        evidence[criterion] = tuple(Person(slack_user_id=u) for u in people)
    form = {
        "title": title,
        "pagerduty_incident": incident,
        "severity": severity,
        "resolved_at": resolved_at,
        # Left empty: nobody said when, so it is the moment it opens, as for a command.
        "resolved_when_opened": resolved_epoch is None,
        "false_alarm": false_alarm,
        "evidence": evidence,
    }
    return form, errors


def people_named(form: Mapping[str, object], errors: Mapping[str, str]) -> list[str]:
    """The Slack users the form names for the owner criteria, in fields without an error."""
    evidence = form.get("evidence")
    if not isinstance(evidence, Mapping):
        return []
    return [
        person.slack_user_id
        for criterion, people in evidence.items()
        if _CRITERIA_FIELDS[criterion].value not in errors
        for person in people
        if person.slack_user_id
    ]


# Names listed in one inline error; the rest are counted.
_NAMES_LISTED = 3


def _listed(names: Sequence[str]) -> str:
    shown = list(names[:_NAMES_LISTED])
    if len(names) > _NAMES_LISTED:
        shown.append(f"{len(names) - _NAMES_LISTED} more")
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + f" and {shown[-1]}"


def no_owner_errors(form: Mapping[str, object], no_owners: Mapping[str, NoOwner]) -> dict[str, str]:
    """An error per owner-criteria field that names a bot or a deactivated account (Slack
    said so: ``no_owners``): everyone these fields name is offered as the owner, and only a
    person can own a postmortem. Plain text, as Slack shows a form's errors: Slack's names
    for them, never a mention."""
    evidence = form.get("evidence")
    if not isinstance(evidence, Mapping) or not no_owners:
        return {}
    errors: dict[str, str] = {}
    for criterion, people in evidence.items():
        refused = [no_owners[p.slack_user_id] for p in people if p.slack_user_id in no_owners]
        if not refused:
            continue
        bots = [r.name for r in refused if r.why is NotAPerson.BOT]
        gone = [r.name for r in refused if r.why is NotAPerson.DEACTIVATED]
        said = []
        if bots:
            said.append(f"{_listed(bots)} {'is a bot' if len(bots) == 1 else 'are bots'}")
        if gone:
            said.append(
                f"{gone[0]}'s account is deactivated"
                if len(gone) == 1
                else f"the accounts of {_listed(gone)} are deactivated"
            )
        person = "a person with an active Slack account" if gone else "a person"
        it = "it" if len(refused) == 1 and bots else "them"
        what = ", and ".join(said)
        if what.startswith("the "):
            what = "The" + what[3:]
        errors[_CRITERIA_FIELDS[criterion].value] = (
            f"{what}: only {person} can own a postmortem. Pick the person "
            f"who {CRITERION_REASONS[criterion]} instead, or remove {it}."
        )
    return errors
