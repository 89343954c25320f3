"""What every use-case service shares: its dependencies, and the outbox and look-up helpers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Self
from zoneinfo import ZoneInfo

from bot.domain.completion import already_complete
from bot.domain.document import (
    GAPS,
    OPEN_ITEMS,
    ActionItem,
    Gap,
    action_item_reminder_applies,
    artifact_gaps,
    gaps_param,
)
from bot.domain.errors import DomainError
from bot.domain.lifecycle import CLOSED, Move, State
from bot.domain.meetings import Settled, plan_held_question_settled
from bot.domain.messages import (
    ACTION_ITEM_REMINDERS,
    DIRECT_MESSAGES,
    MessageKind,
    PlannedMessage,
    is_direct_message,
)
from bot.domain.moments import WriteMoment
from bot.domain.policy import Policy
from bot.domain.postmortem import Postmortem
from bot.persistence.group_commit import GroupCommit
from bot.persistence.uow import UnitOfWork, UnitOfWorkFactory
from bot.services.clock import Clock

# The time zone where each date begins last (Baker Island, UTC-12).
_LAST_TO_CHANGE_DATE = timezone(timedelta(hours=-12))


class NoPostmortemHere(DomainError):
    """The channel has no open postmortem to act on (or the one named is gone)."""


class Service:
    def __init__(self, *, uow_factory: UnitOfWorkFactory, policy: Policy, clock: Clock) -> None:
        self._uow_factory = uow_factory
        # For the use cases that arrive in bursts (starts, clicks): concurrent requests
        # share one transaction instead of paying a commit each.
        self._group_commit = GroupCommit(uow_factory)
        self._policy = policy
        self._clock = clock

    @property
    def policy(self) -> Policy:
        return self._policy

    def now(self) -> datetime:
        """The service's clock (listeners use it, so tests control their time too)."""
        return self._clock()

    def today(self) -> date:
        """Today in the workspace's zone: what a due date is compared with."""
        return self._clock().astimezone(ZoneInfo(self._policy.workspace_timezone)).date()

    def last_place_today(self) -> date:
        """Today where the date changes last on Earth (UTC-12): a due date before it has
        passed for everyone. A person's due date is checked against it, not the workspace's
        today: "today" in Los Angeles at 18:00 is already tomorrow in UTC."""
        return self._clock().astimezone(_LAST_TO_CHANGE_DATE).date()

    def __deepcopy__(self, memo: dict[int, object]) -> Self:
        # Bolt deep-copies the context for lazy listeners; a service is shared, not copied.
        return self

    def tell(self, *, channel_id: str, user_id: str, text: str) -> None:
        """Queue an ephemeral line to one person in a channel."""
        with self._uow_factory() as uow:
            queue_notice(uow, channel_id=channel_id, user_id=user_id, text=text, now=self._clock())
            uow.commit()


def belongs_elsewhere(postmortem: Postmortem) -> NoPostmortemHere:
    """The refusal of a command naming a postmortem from outside its channel."""
    return NoPostmortemHere(
        f"Postmortem #{postmortem.id} belongs to <#{postmortem.channel_id}>: "
        "run the command there.",
        plain_text=f"Postmortem #{postmortem.id} belongs to another channel now: "
        "run the command there.",
    )


def find_postmortem(
    uow: UnitOfWork,
    *,
    channel_id: str,
    postmortem_id: int | None = None,
    verb: str | None = None,
    arguments: str | None = "",
) -> Postmortem:
    """The postmortem named by id, else the channel's only open one; else why there is none.

    With several open in one channel (a webhook opened another incident's there), guessing
    would act on the wrong one: the person is asked to name it, with an example of the
    command they typed (``verb``, e.g. ``owner``, then ``arguments``, e.g. ``@someone``).
    """
    if postmortem_id is not None:
        found = uow.postmortems.get(postmortem_id)
        if found is None:  # postmortems are never deleted: this number was never one
            raise NoPostmortemHere(
                f"There is no postmortem #{postmortem_id}. "
                "`/postmortem status` lists this channel's open ones."
            )
        if found.channel_id is None:
            raise NoPostmortemHere(_UNROUTED.format(id=postmortem_id))
        if channel_id and found.channel_id != channel_id:
            raise belongs_elsewhere(found)
        return found
    if is_direct_message(channel_id):
        raise NoPostmortemHere(in_a_direct_message(verb, arguments))
    open_here = uow.postmortems.open_in_channel(channel_id)
    if not open_here:
        return _closed_one(uow, channel_id=channel_id, verb=verb, arguments=arguments)
    if len(open_here) > 1:
        listed = ", ".join(f"#{p.id} {mrkdwn_safe(p.title)}" for p in open_here[:10])
        raise NoPostmortemHere(
            f"This channel has {len(open_here)} open postmortems ({listed}): add the number "
            f"of the one you mean after the command, {_example(verb, open_here[0].id, arguments)}."
        )
    return open_here[0]


def in_a_direct_message(verb: str | None = None, arguments: str | None = None) -> str:
    """What works in a direct message with the bot, where no postmortem lives: its action
    item commands, naming the postmortem (for the item's owner, the postmortem's owner and
    the incident managers), and `action mine`, which lists the numbers to name."""
    if verb == "action":
        typed = f"`/postmortem action #N {arguments}`" if arguments else "`/postmortem action #N …`"
        return (
            f"A direct message has no postmortem of its own: add the postmortem's number N, as "
            f"in {typed} (`/postmortem action mine` lists your open action items with their "
            "numbers). Other commands run in the incident's channel."
        )
    return (
        "A direct message has no postmortem of its own. Here, `/postmortem action mine` lists "
        "your open action items with their postmortem's number N, and `/postmortem action #N "
        "done 1` (or `drop`, `due`, `owner`) acts on one. Everything else, `status #N` "
        "included, runs in the incident's channel (incident managers: `/postmortem status "
        "all` works anywhere)."
    )


def only_completed(closed: Sequence[Postmortem]) -> Postmortem | None:
    """Of a channel's closed postmortems (newest first, two are enough to tell): its
    completed one when it is the only one, which a command without a number means once
    none is open; None when there are several, or it was cancelled."""
    return closed[0] if len(closed) == 1 and closed[0].state is State.COMPLETED else None


def _closed_one(
    uow: UnitOfWork, *, channel_id: str, verb: str | None, arguments: str | None
) -> Postmortem:
    """For a channel with no open postmortem: its completed one, for a command that still
    acts on it, when it is the only one the command could mean; else why there is none.

    Its action items outlive it, and its record is written, corrected and exported after it
    is done (the "complete" message says so): right after `done`, in the incident's own
    channel, a command without its number means it. Where the channel has had several (a
    default channel collects many incidents), an action item's number or an export could be
    any of theirs: the command names the latest, and asks for the number.
    """
    purpose = _ONCE_COMPLETE.get(verb or "")
    # An export keeps a cancelled one too (with why); the rest act on completed ones only.
    states = CLOSED if verb == "export" else {State.COMPLETED}
    closed = uow.postmortems.closed_in_channel(channel_id, states, limit=2) if purpose else []
    only = only_completed(closed)
    if only is not None:
        return only
    if not closed:
        done = None if purpose else uow.postmortems.latest_closed_in_channel(channel_id)
        if done is not None:  # e.g. `done` again, or `held`: not "start one" alone
            raise NoPostmortemHere(
                f"There is no open postmortem in this channel: its last one, *#{done.id} "
                f"{mrkdwn_safe(done.title)}*, is complete (`/postmortem status #{done.id}` "
                "shows what is still open in it). A new incident gets its own postmortem with "
                "`/postmortem start <title>`."
            )
        raise NoPostmortemHere(
            "There is no open postmortem in this channel. "
            "Start one with `/postmortem start <title>`."
        )
    latest = closed[0]
    example = _example(verb, latest.id, arguments)
    shows = "lists its items" if verb == "action" else "shows it"
    if len(closed) == 1:  # a cancelled one, to export: said on purpose, with its number
        raise NoPostmortemHere(
            f"There is no open postmortem in this channel. {purpose} one that is cancelled, "
            f"add its number after the command, {example} (`/postmortem status #{latest.id}` "
            f"{shows})."
        )
    raise NoPostmortemHere(
        "There is no open postmortem in this channel, and it has more than one closed. "
        f"{purpose} one of them, add its number after the command, {example} for the latest, "
        f"*#{latest.id} {mrkdwn_safe(latest.title)}* (`/postmortem status #{latest.id}` "
        f"{shows})."
    )


# The commands that also act on a completed postmortem: what for.
_ONCE_COMPLETE = {
    "owner": "To hand over",
    "action": "For an action item of",
    "document": "To write in the document of",
    "export": "To export",
    "details": "To correct the details of",
}


def _example(verb: str | None, postmortem_id: int, arguments: str | None) -> str:
    """The person's command with the postmortem's number added. Not their own words with
    placeholders: an example run as written would act on them ("…" recorded as an action
    item's text, "@someone" as the owner)."""
    number = f"#{postmortem_id}"
    if not verb:
        return f"e.g. `{number}`"
    if arguments is None:
        return f"e.g. `/postmortem {verb} {number}` followed by the rest of what you typed"
    return f"e.g. `/postmortem {' '.join(filter(None, (verb, number, arguments)))}`"


# Nothing can be posted about a postmortem without a channel (plan_messages needs one): say
# how incidents get a channel, and how to give this one its channel now.
_UNROUTED = (
    "Postmortem #{id} has no channel: its incident matched no route and `DEFAULT_CHANNEL` "
    "is unset, so I have nowhere to post about it. To open postmortems in a channel, add "
    "a route (`routes:` in the `POSTMORTEM_POLICY_FILE` policy file) or set "
    "`DEFAULT_CHANNEL`; for this incident, run `/postmortem move #{id}` in its channel."
)


def mrkdwn_safe(text: str) -> str:
    """Text someone else wrote, inside a message: ``&``, ``<``, ``>`` can't mention or link.

    (The same escaping as ``bot.slack.text.escape``, which services may not import.)
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def check_not_complete(
    uow: UnitOfWork,
    postmortem: Postmortem,
    move: Move,
    *,
    write_moment: WriteMoment,
    zone_name: str,
) -> None:
    """Refuse a lifecycle ``move`` on a completed postmortem saying what is still open in it:
    its document and action items outlive `done`, so "nothing is left to do" may be untrue.
    (``write_moment`` and ``zone_name``: how it says since when, see ``already_complete``.)"""
    if postmortem.state is not State.COMPLETED:
        return
    left = left_in(uow, postmortem.id)
    completed_by = next(
        (
            e.actor
            for e in reversed(uow.audit.for_postmortem(postmortem.id))
            if e.action == "completed"
        ),
        None,
    )
    raise already_complete(
        postmortem,
        move,
        gaps=left.gaps,
        open_items=left.open_items,
        completed_by=completed_by,
        write_moment=write_moment,
        zone_name=zone_name,
    )


def plan_messages(
    uow: UnitOfWork, postmortem: Postmortem, planned: list[PlannedMessage], now: datetime
) -> None:
    """Write planned messages to the outbox, in the caller's transaction: to the postmortem's
    channel, or a direct message's to its recipient."""
    if not planned:
        return
    assert postmortem.channel_id is not None
    in_channel: list[PlannedMessage] = []
    direct: list[PlannedMessage] = []
    for message in planned:
        if message.kind in DIRECT_MESSAGES and message.recipient:
            direct.append(message)
        else:
            in_channel.append(message)
    uow.outbox.add_all(
        postmortem_id=postmortem.id, channel_id=postmortem.channel_id, planned=in_channel, now=now
    )
    for message in direct:
        assert message.recipient is not None
        uow.outbox.add(
            postmortem_id=postmortem.id, channel_id=message.recipient, planned=message, now=now
        )


def held_questions_settled(
    uow: UnitOfWork,
    before: Postmortem,
    how: Settled,
    *,
    by: str,
    now: datetime,
    new_time: datetime | None = None,
    new_owner: str | None = None,
) -> list[PlannedMessage]:
    """The update in place of the "was it held?" questions posted about ``before``'s
    meeting, now that ``how`` settled it (or handed it over to ``new_owner``); nothing if
    none was posted.

    Asked once the pending questions are cancelled (or handed over): one a dispatcher is
    posting at that moment is still counted (it is recorded as sent), and the update waits
    for its ts.
    """
    if before.state is not State.MEETING_SCHEDULED:
        return []  # only a scheduled meeting is asked about
    asked = uow.outbox.heard_or_in_flight_ids(
        postmortem_id=before.id, kind=MessageKind.ASK_MARK_HELD, now=now
    )
    if not asked:
        return []
    earlier = uow.outbox.params_by_id(
        postmortem_id=before.id, kind=MessageKind.HELD_QUESTION_SETTLED
    )
    return plan_held_question_settled(
        how,
        asked=asked,
        settled_before=earlier.values(),
        by=by,
        now=now,
        new_time=new_time,
        new_owner=new_owner,
        handed_over_from=before.owner_id if new_owner is not None else None,
    )


@dataclass(frozen=True)
class LeftInIt:
    """A postmortem's action items as stored, what its artifact lacks, and how many of its
    items are still open: what outlives `done`."""

    items: list[ActionItem]
    gaps: list[Gap]
    open_items: int


def left_in(uow: UnitOfWork, postmortem_id: int) -> LeftInIt:
    items = uow.action_items.for_postmortem(postmortem_id)
    gaps = artifact_gaps(uow.documents.get(postmortem_id), items)
    return LeftInIt(items, gaps, sum(1 for item in items if item.done_at is None))


def current_gaps(uow: UnitOfWork, postmortem_id: int) -> list[Gap]:
    """What the postmortem's artifact lacks now (its document and action items as stored)."""
    return left_in(uow, postmortem_id).gaps


def left_after_done_params(uow: UnitOfWork, postmortem_id: int) -> dict[str, str]:
    """What is left in a completed postmortem now, as a message's params: what its artifact
    lacks (GAPS) and how many of its action items are still open (OPEN_ITEMS)."""
    left = left_in(uow, postmortem_id)
    return {GAPS: gaps_param(left.gaps), OPEN_ITEMS: str(left.open_items)}


def reason_gone_elsewhere(
    uow: UnitOfWork, *, kind: MessageKind, postmortem_id: int | None, params: Mapping[str, Any]
) -> bool:
    """Whether a reminder's reason is gone where the postmortem's state does not show it:
    its action item was closed or given another owner or due date, the document it asks
    for was started, the owner a direct message tells of owns it no more, the no-owner
    nudges gave way to the escalation, or a completed postmortem lacks nothing any more."""
    if postmortem_id is None:
        return False
    if kind is MessageKind.NUDGE_GAPS:
        return not current_gaps(uow, postmortem_id)
    if kind is MessageKind.NUDGE_NO_OWNER:
        # The channel is asked for an owner until the escalation, never after it: a nudge
        # still waiting once the escalation was posted (planned before its time moved, or
        # snoozed) is dropped. Where no no-owner escalation is to come (a postmortem opened,
        # or its prompt posted again, after its deadline), the overdue notice is that
        # escalation: it comes in its place, and says there is no owner.
        if uow.outbox.count_sent(postmortem_id=postmortem_id, kind=MessageKind.ESCALATE_NO_OWNER):
            return True
        return bool(
            uow.outbox.count_sent(postmortem_id=postmortem_id, kind=MessageKind.ESCALATE_OVERDUE)
        ) and MessageKind.ESCALATE_NO_OWNER.value not in uow.outbox.pending_kinds_for(postmortem_id)
    if kind is MessageKind.NUDGE_NO_DRAFT:
        return uow.documents.get(postmortem_id) is not None
    if kind is MessageKind.OWNER_TOLD:
        # Told as it was when they were chosen: not once someone else owns it.
        current = uow.postmortems.get(postmortem_id)
        return current is None or current.owner_id != params.get("owner")
    if kind not in ACTION_ITEM_REMINDERS and kind is not MessageKind.ACTION_ITEM_GIVEN:
        return False
    number = str(params.get("number") or "")
    if not (number.isascii() and number.isdigit()):
        return True
    found = uow.action_items.get(postmortem_id=postmortem_id, number=int(number))
    if kind is MessageKind.ACTION_ITEM_GIVEN:  # theirs still, whatever its date is now
        return found is None or found.done_at is not None or found.owner_id != params.get("owner")
    return not action_item_reminder_applies(found, params)


def queue_notice(
    uow: UnitOfWork, *, channel_id: str, user_id: str, text: str, now: datetime
) -> None:
    """An ephemeral line to one person, in the caller's transaction."""
    if not channel_id:  # e.g. a click inside a modal: there is no channel to say it in
        return
    uow.outbox.add(
        postmortem_id=None,
        channel_id=channel_id,
        planned=PlannedMessage(MessageKind.NOTICE, now, recipient=user_id, params={"text": text}),
        now=now,
    )
