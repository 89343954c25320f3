"""The start and details forms: validated inside the ack, so problems show inline in the
modal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt import Ack, App

from bot.domain.details import ResolutionNotYours
from bot.domain.errors import DomainError
from bot.domain.lifecycle import CLOSED, State
from bot.domain.moments import in_zone
from bot.domain.postmortem import (
    IncidentReport,
    Postmortem,
    started_by_hand_key,
)
from bot.services.postmortems import PostmortemService
from bot.slack.details_form import read_details_form
from bot.slack.form_values import submitted_values
from bot.slack.ids import Callback, Field
from bot.slack.listeners.forms import inline_error
from bot.slack.people import PeopleCheck
from bot.slack.start_form import no_owner_errors, people_named, read_start_form


def register(app: App) -> None:
    app.view(Callback.START_MODAL.value)(submit_start_form)
    app.view(Callback.DETAILS_MODAL.value)(submit_details_form)


def _incident_has_one(found: Postmortem, channel_id: str) -> str:
    """Why the form opened nothing: the linked incident has its postmortem, and where."""
    if found.state in CLOSED:
        where = "completed" if found.state is State.COMPLETED else "cancelled"
    elif found.channel_id is None:
        where = f"in no channel yet: `/postmortem move #{found.id}` here brings it in"
    elif found.channel_id != channel_id:
        where = "in another channel: follow it there"
    else:
        where = "in this channel"
    return f"This incident already has postmortem #{found.id} {found.title}, {where}."


def submit_start_form(
    ack: Ack,
    body: dict[str, Any],
    view: dict[str, Any],
    postmortems: PostmortemService,
    people: PeopleCheck,
) -> None:
    form, errors = read_start_form(submitted_values(view), postmortems.now())
    # Everyone named for the owner criteria is offered as the owner: a bot or a deactivated
    # account is refused here, on its field, rather than offered with a button that fails.
    # Those Slack says nothing about in time are taken as people, like a pick (its button
    # asks Slack again).
    errors.update(no_owner_errors(form, people.no_owners(people_named(form, errors))))
    if errors:
        ack(response_action="errors", errors=errors)
        return
    channel_id = str(view.get("private_metadata") or "")
    if not channel_id:
        ack(
            response_action="errors",
            errors={
                Field.TITLE.value: "This form lost track of its channel; run the command again."
            },
        )
        return
    incident = form["pagerduty_incident"]
    key = started_by_hand_key(channel_id, view["id"], incident)
    try:
        outcome = postmortems.open_postmortem(
            report=IncidentReport(
                key=key,
                title=form["title"],
                source="slack",
                resolved_at=form["resolved_at"],
                resolved_when_opened=form["resolved_when_opened"],
                severity=form["severity"],
                false_alarm=form["false_alarm"],
                evidence=form["evidence"],
            ),
            channel_id=channel_id,
            opened_by=body["user"]["id"],
            one_per_channel=True,
        )
    except DomainError as refusal:
        ack(response_action="errors", errors={Field.TITLE.value: inline_error(refusal)})
        return
    found = outcome.postmortem
    if not outcome.created and found.incident_key == key:
        ack(
            response_action="errors",
            errors={Field.PAGERDUTY_INCIDENT.value: _incident_has_one(found, channel_id)},
        )
        return
    if not outcome.created:
        ack(
            response_action="errors",
            errors={
                Field.TITLE.value: f"This channel already has an open postmortem: "
                f"#{outcome.postmortem.id} {outcome.postmortem.title}."
            },
        )
        return
    ack()


DETAILS_FORM_LOST = (
    "This form lost track of its postmortem; close it and run `/postmortem details` again."
)


def _as_written(name: str, value: object, *, zone_name: str) -> str:
    """A detail someone else stored, as a form's inline error can show it (plain text: a
    time in ``zone_name``, the workspace's, as no Slack date shows each reader their own)."""
    if isinstance(value, datetime):
        return in_zone(zone_name)(value)
    if isinstance(value, bool):
        return "a false alarm" if value else "not a false alarm"
    if value is None:
        return "no severity" if name == "severity" else "nothing"
    return f"“{value}”"


def submit_details_form(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], postmortems: PostmortemService
) -> None:
    form = read_details_form(view, postmortems.now())
    if form.errors:
        ack(response_action="errors", errors=form.errors)
        return
    if form.postmortem_id is None or not form.channel_id or form.submitted is None:
        ack(response_action="errors", errors={Field.TITLE.value: DETAILS_FORM_LOST})
        return
    assert form.shown is not None
    try:
        correction = postmortems.correct_details(
            postmortem_id=form.postmortem_id,
            channel_id=form.channel_id,
            actor=body["user"]["id"],
            shown=form.shown,
            submitted=form.submitted,
        )
    except ResolutionNotYours as refusal:
        ack(response_action="errors", errors={Field.RESOLVED_AT.value: inline_error(refusal)})
        return
    except DomainError as refusal:
        ack(response_action="errors", errors={Field.TITLE.value: inline_error(refusal)})
        return
    if correction.conflicts:
        zone_name = postmortems.policy.workspace_timezone
        ack(
            response_action="errors",
            errors={
                name: f"Someone changed this to {_as_written(name, value, zone_name=zone_name)} "
                "since you opened this form. Close it and run `/postmortem details` again to "
                "see the details as they are now."
                for name, value in correction.conflicts.items()
            },
        )
        return
    ack()
    said = (
        f"Saved postmortem #{form.postmortem_id}'s details; I told the channel what changed."
        if correction.changed
        else f"Nothing changed in postmortem #{form.postmortem_id}'s details."
    )
    postmortems.tell(channel_id=form.channel_id, user_id=body["user"]["id"], text=said)
