"""``/postmortem``: ack first (with the answer when it needs no Web API call), then parse."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.errors import DomainError
from bot.domain.lifecycle import CLOSED, State
from bot.domain.messages import is_direct_message, is_postmortem_channel
from bot.domain.postmortem import (
    PAGERDUTY,
    IncidentReport,
    Postmortem,
    incident_key,
    pagerduty_incident_id,
    started_by_hand_key,
)
from bot.services.base import in_a_direct_message
from bot.services.documents import DocumentService
from bot.services.lifecycle import LifecycleService
from bot.services.postmortems import NOT_A_CHANNEL, PostmortemService
from bot.slack import commands
from bot.slack.blocks import overview_text, start_modal, status_text
from bot.slack.details_form import details_modal
from bot.slack.listeners import documents as document_listeners
from bot.slack.listeners import lifecycle as lifecycle_listeners
from bot.slack.listeners.actions import acknowledge, why_not_an_owner
from bot.slack.listeners.forms import answer_after_ack, open_form
from bot.slack.text import escape

log = logging.getLogger(__name__)


def opens_a_form(command: dict[str, Any]) -> bool:
    """Only these subcommands need a Web API call (views.open) after the ack."""
    request = commands.parse(command.get("text", ""))
    asks_for_details = isinstance(request, commands.Start) and request.title is None
    return asks_for_details or isinstance(
        request, commands.Schedule | commands.WriteDocument | commands.CorrectDetails
    )


def names_a_person(command: dict[str, Any]) -> bool:
    """`/postmortem owner @x`, `/postmortem action @x …` and `/postmortem action owner N @x`
    ask Slack (users.info) whether @x is a person: after the ack."""
    request = commands.parse(command.get("text", ""))
    return isinstance(request, commands.HandOver | commands.AddActionItem) or (
        isinstance(request, commands.ChangeActionItem) and request.owner is not None
    )


def register(app: App) -> None:
    # Lazy listeners cost a deep copy and a thread per request: only where a Web API call
    # must follow the ack (a form opens; the new owner is looked up).
    app.command(commands.COMMAND, matchers=[opens_a_form])(
        ack=answer_command,
        lazy=[
            open_start_form,
            lifecycle_listeners.open_schedule_form,
            document_listeners.open_document_form,
            open_details_form,
        ],
    )
    app.command(commands.COMMAND, matchers=[names_a_person])(
        ack=acknowledge,
        lazy=[
            hand_over_by_command,
            document_listeners.add_action_item_by_command,
            document_listeners.change_action_item_owner_by_command,
        ],
    )
    app.command(commands.COMMAND)(answer_command)


def _link(command: dict[str, Any], channel_id: str, ts: str | None) -> str:
    if ts is None:
        return ""
    domain = command.get("team_domain") or "app"
    return f" (<https://{domain}.slack.com/archives/{channel_id}/p{ts.replace('.', '')}|view it>)"


def reply(ack: Ack, text: str) -> None:
    """Answer only the person who typed the command."""
    ack(response_type="ephemeral", text=text)


def answer_command(
    ack: Ack,
    command: dict[str, Any],
    postmortems: PostmortemService,
    lifecycle: LifecycleService,
    documents: DocumentService,
) -> None:
    request = commands.parse(command.get("text", ""))
    channel_id = command["channel_id"]
    user_id = command["user_id"]
    match request:
        case commands.Help():
            reply(ack, commands.USAGE)
        case commands.Invalid(problem):
            # The problem, then how to write that one command: the whole usage would bury it.
            reply(ack, f"{problem}\n\n{commands.usage_for(command.get('text', ''))}")
        case commands.Schedule() | commands.Held() | commands.Done() | commands.Cancel():
            lifecycle_listeners.answer(ack, request, command, lifecycle)
        case (
            commands.WriteDocument()
            | commands.CompleteActionItem()
            | commands.DropActionItem()
            | commands.ChangeActionItem(owner=None)
            | commands.MyActionItems()
            | commands.Export()
        ):
            document_listeners.answer(ack, request, command, documents)
        case commands.Status() if is_direct_message(channel_id):
            reply(ack, in_a_direct_message())
        case commands.Status(postmortem_id):
            status = postmortems.status(
                channel_id=channel_id, postmortem_id=postmortem_id, actor=user_id
            )
            reply(
                ack,
                status_text(
                    status.open_postmortems,
                    postmortems.policy,
                    status.unrouted,
                    status.undeliverable,
                    asked_for=postmortem_id,
                    documents=status.documents,
                    action_items=status.action_items,
                    today=postmortems.today(),
                    now=postmortems.now(),
                    latest_closed=status.latest_closed,
                    completed_here=status.completed_here,
                    unrouted_seen_by=status.unrouted_seen_by,
                ),
            )
        case commands.StatusEverywhere():
            try:
                overview = postmortems.overview(actor=command["user_id"])
            except DomainError as refusal:
                reply(ack, str(refusal))
                return
            reply(
                ack,
                overview_text(
                    overview.postmortems,
                    overview.unrouted,
                    postmortems.policy,
                    overview.now,
                    undeliverable=overview.undeliverable,
                ),
            )
        case commands.CorrectDetails(postmortem_id):
            try:
                postmortems.for_details(channel_id=channel_id, postmortem_id=postmortem_id)
            except DomainError as refusal:
                reply(ack, str(refusal))
                return
            ack()  # the form opens from the lazy listener, after this ack
        case commands.MoveHere(postmortem_id):
            try:
                moved = postmortems.move_here(
                    postmortem_id=postmortem_id, channel_id=channel_id, actor=user_id
                )
            except DomainError as refused:
                reply(ack, str(refused))
                return
            reply(
                ack,
                f"Moved postmortem #{moved.id} *{escape(moved.title)}* to this channel. "
                "I'm asking the channel to choose its owner.",
            )
        case commands.HandOver() | commands.AddActionItem() | commands.ChangeActionItem():
            ack()  # answered after this ack, once Slack says @x is a person (see register)
        case commands.Start() if not is_postmortem_channel(channel_id):
            reply(ack, NOT_A_CHANNEL)
        case commands.Start(None, link):
            elsewhere = _incident_elsewhere(postmortems, link, channel_id)
            existing = postmortems.status(channel_id=channel_id).open_postmortems
            if elsewhere is not None:
                reply(ack, _incident_elsewhere_text(command, elsewhere))
            elif existing:
                _answer_already_open(ack, command, lifecycle, existing)
            else:
                ack()  # the form opens from the lazy listener, after this ack
        case commands.Start(title, link):
            assert title is not None
            incident = pagerduty_incident_id(link) if link else None
            # What makes this start its own: the command's id (Slack always sends one), else
            # who asked and when.
            unique = command.get("trigger_id") or f"{user_id}.{postmortems.now().timestamp()}"
            key = started_by_hand_key(channel_id, unique, incident)
            outcome = postmortems.open_postmortem(
                report=IncidentReport(
                    key=key,
                    title=title,
                    source="slack",
                    resolved_at=postmortems.now(),
                    resolved_when_opened=True,
                ),
                channel_id=channel_id,
                opened_by=user_id,
                one_per_channel=True,
            )
            p = outcome.postmortem
            if outcome.created:
                linked = (
                    f" It is PagerDuty incident {incident}'s: its webhook will not open another."
                    if incident
                    else ""
                )
                reply(
                    ack,
                    f"Opened postmortem #{p.id}. I'm asking the channel to choose its owner."
                    + linked,
                )
            elif p.incident_key == key and (p.channel_id != channel_id or p.state in CLOSED):
                reply(ack, _incident_elsewhere_text(command, p))
            else:
                open_here = postmortems.status(channel_id=channel_id).open_postmortems
                _answer_already_open(ack, command, lifecycle, open_here or [p])


def hand_over_by_command(
    command: dict[str, Any], client: WebClient, postmortems: PostmortemService
) -> None:
    """Runs after the empty ack: name the owner, or hand over, unless @x is no person.

    The answer goes to the person as an ephemeral through the outbox, like a pick's.
    """
    request = commands.parse(command.get("text", ""))
    if not isinstance(request, commands.HandOver):
        return

    def hand_over() -> str:
        refusal = why_not_an_owner(client, request.new_owner)
        if refusal is not None:
            return refusal
        updated = postmortems.hand_over(
            channel_id=command["channel_id"],
            actor=command["user_id"],
            new_owner=request.new_owner,
            postmortem_id=request.postmortem_id,
        )
        return f"<@{updated.owner_id}> now owns postmortem #{updated.id}; I told the channel."

    answer_after_ack(command, postmortems, hand_over, not_done="the owner was not changed")


def _incident_elsewhere(
    postmortems: PostmortemService, link: str | None, channel_id: str
) -> Postmortem | None:
    """The postmortem the linked PagerDuty incident already has, when it is not this
    channel's open one: in another channel, in none, or completed."""
    incident = pagerduty_incident_id(link) if link else None
    if incident is None:
        return None
    found = postmortems.for_incident(key=incident_key(PAGERDUTY, incident))
    if found is None or (found.channel_id == channel_id and found.state not in CLOSED):
        return None
    return found


def _incident_elsewhere_text(command: dict[str, Any], p: Postmortem) -> str:
    """One incident, one postmortem: where the one its PagerDuty incident already has is."""
    incident = p.incident_key.partition(":")[2]
    said = (
        f"PagerDuty incident {escape(incident)} already has postmortem *#{p.id} {escape(p.title)}*"
    )
    if p.channel_id is None:
        return f"{said}, in no channel yet: `/postmortem move #{p.id}` brings it here."
    there = f"`/postmortem status #{p.id}` in <#{p.channel_id}>"
    if p.state in CLOSED:
        if p.state is State.COMPLETED:
            return f"{said}, completed: {there} shows it."
        return (
            f"{said}, cancelled: {there} shows why. To review the incident after all, start "
            "one without its link: `/postmortem start <title>`."
        )
    return (
        f"{said}, in <#{p.channel_id}>{_link(command, p.channel_id, p.prompt_ts)}: "
        f"one incident, one owner, so I did not open another. {there} shows where it stands."
    )


def _answer_already_open(
    ack: Ack, command: dict[str, Any], lifecycle: LifecycleService, open_here: list[Postmortem]
) -> None:
    """Link to the open postmortem; post again any owner prompt Slack refused here (the bot
    was not in the channel then, and has been invited since)."""
    reposted = [
        p
        for p in open_here
        if p.prompt_ts is None
        and lifecycle.repost_owner_prompt(postmortem_id=p.id, requested_by=command["user_id"])
    ]
    if reposted:
        named = ", ".join(f"*#{p.id} {escape(p.title)}*" for p in reposted)
        reply(
            ack,
            f"This channel already has postmortem {named}, but its owner prompt never reached "
            "the channel. I'm posting it again now.",
        )
        return
    p = open_here[0]
    reply(ack, _already_open(command, p.id, p.title, p.prompt_ts))


def _already_open(command: dict[str, Any], pid: int, title: str, ts: str | None) -> str:
    return (
        f"This channel already has an open postmortem: *#{pid} {escape(title)}*"
        f"{_link(command, command['channel_id'], ts)}. `/postmortem status` shows where it stands."
    )


def open_start_form(
    command: dict[str, Any], client: WebClient, postmortems: PostmortemService
) -> None:
    """Runs after the ack: the trigger_id stays valid for 3 seconds, enough for views.open."""
    request = commands.parse(command.get("text", ""))
    if not isinstance(request, commands.Start) or request.title is not None:
        return
    channel_id = command["channel_id"]
    if not is_postmortem_channel(channel_id):
        return  # the ack said why
    if _incident_elsewhere(postmortems, request.pagerduty_link, channel_id) is not None:
        return
    if postmortems.status(channel_id=channel_id).open_postmortems:
        return
    open_form(
        client,
        command,
        start_modal(channel_id, None, postmortems.now(), pagerduty_link=request.pagerduty_link),
        teller=postmortems,
        retry="Try `/postmortem start` again, or give the title: `/postmortem start <title>`.",
    )


def open_details_form(
    command: dict[str, Any], client: WebClient, postmortems: PostmortemService
) -> None:
    """Runs after the ack: the trigger_id stays valid for 3 seconds, enough for views.open."""
    request = commands.parse(command.get("text", ""))
    if not isinstance(request, commands.CorrectDetails):
        return
    channel_id = command["channel_id"]
    try:
        postmortem = postmortems.for_details(
            channel_id=channel_id, postmortem_id=request.postmortem_id
        )
    except DomainError:
        return  # the ack already explained why
    open_form(
        client,
        command,
        details_modal(postmortem, postmortems.policy, channel_id),
        teller=postmortems,
        retry="Try `/postmortem details` again.",
    )
