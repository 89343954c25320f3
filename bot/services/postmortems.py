"""Opening postmortems, choosing exactly one owner, and correcting their details."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.domain.details import (
    Correction,
    Details,
    check_can_correct,
    check_can_move_resolution,
    correct,
    details_of,
    reported_by_tool,
    with_details,
)
from bot.domain.document import ActionItem, Document
from bot.domain.errors import DomainError, NotAllowed
from bot.domain.lifecycle import CLOSED, State
from bot.domain.meetings import Settled
from bot.domain.messages import (
    ACTION_ITEM_REMINDERS,
    NUDGES,
    REQUESTED_BY,
    MessageKind,
    PlannedMessage,
    is_postmortem_channel,
    plan_after_resolution_moved,
    plan_on_open,
    plan_on_owner,
)
from bot.domain.overview import (
    by_urgency,
    check_can_move_unrouted,
    check_can_see_everywhere,
    sees_unrouted,
)
from bot.domain.owners import Criterion, Person, with_more_evidence
from bot.domain.postmortem import (
    IncidentReport,
    Postmortem,
    check_can_claim,
    check_can_hand_over,
    hands_it_over,
)
from bot.persistence.uow import UnitOfWork
from bot.services.base import (
    NoPostmortemHere,
    Service,
    belongs_elsewhere,
    find_postmortem,
    held_questions_settled,
    mrkdwn_safe,
    only_completed,
    plan_messages,
    queue_notice,
)

_NO_OWNER_NUDGES = (MessageKind.NUDGE_NO_OWNER, MessageKind.ESCALATE_NO_OWNER)


NOT_A_CHANNEL = (
    "A postmortem lives in its incident's channel, where the responders can pick its owner "
    "and write it: run `/postmortem start` there, not in a direct message."
)


def _said(value: object) -> str:
    """A detail as the audit trail and the channel's message carry it (a string)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def _closed(postmortem: Postmortem) -> str:
    """How a postmortem nobody owns was closed: it can only have been cancelled."""
    why = postmortem.cancel_reason or "no reason given"
    return f"it was cancelled ({mrkdwn_safe(why)})"


@dataclass(frozen=True)
class OpenOutcome:
    postmortem: Postmortem
    created: bool


@dataclass(frozen=True)
class ClaimOutcome:
    postmortem: Postmortem | None
    won: bool
    explanation: str = ""


@dataclass(frozen=True)
class ChannelStatus:
    open_postmortems: list[Postmortem]
    unrouted: list[Postmortem]
    undeliverable: dict[int, list[str]]
    documents: dict[int, Document] = field(default_factory=dict)
    action_items: dict[int, list[ActionItem]] = field(default_factory=dict)
    # With none open: the channel's last closed one, for `status #N`.
    latest_closed: Postmortem | None = None
    # With none open: its completed one, when it is its only closed one (what commands
    # without a number act on), shown in full.
    completed_here: Postmortem | None = None
    # Who may see the titles of ``unrouted`` when the asker may not (the incident managers);
    # empty when the asker may.
    unrouted_seen_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Overview:
    """Every channel's open postmortems, the ones needing help first, and those without a
    channel."""

    postmortems: list[Postmortem]
    unrouted: list[Postmortem]
    now: datetime
    # By postmortem: the messages Slack refused for good that still matter (see status).
    undeliverable: dict[int, list[str]] = field(default_factory=dict)


class PostmortemService(Service):
    def open_postmortem(
        self,
        *,
        report: IncidentReport,
        channel_id: str | None,
        opened_by: str,
        one_per_channel: bool = False,
    ) -> OpenOutcome:
        """Open a postmortem for a resolved incident, or return the one it already has."""
        if channel_id is not None and not is_postmortem_channel(channel_id):
            raise NotAllowed(NOT_A_CHANNEL)
        now = self._clock()
        if report.resolved_when_opened:
            # The very same instant as ``opened_at``: that is how it is told apart later.
            report = replace(report, resolved_at=now)
        return self._group_commit.run(
            lambda uow: self._open(uow, report, channel_id, opened_by, one_per_channel, now)
        )

    def _open(
        self,
        uow: UnitOfWork,
        report: IncidentReport,
        channel_id: str | None,
        opened_by: str,
        one_per_channel: bool,
        now: datetime,
    ) -> OpenOutcome:
        # Insert first: on the common path (a new incident) that is the only query; the
        # unique incident key and channel lock turn a duplicate into "no row inserted".
        busy_channel = (
            one_per_channel
            and channel_id is not None
            and uow.postmortems.has_open_in_channel(channel_id)
        )
        created = None
        if not busy_channel:
            created = uow.postmortems.add(
                report=report,
                channel_id=channel_id,
                opened_by=opened_by,
                now=now,
                lock_channel=one_per_channel,
            )
        if created is None:  # nothing was written: ON CONFLICT DO NOTHING
            existing = self._existing(uow, report, channel_id, one_per_channel)
            if existing is None:  # it was completed in the meantime
                raise DomainError("That postmortem just changed; please try again.")
            return OpenOutcome(existing, created=False)
        uow.audit.record(
            postmortem_id=created.id,
            at=now,
            actor=opened_by,
            action="opened",
            details={"source": report.source, "channel": channel_id, "title": report.title},
        )
        if channel_id is not None:
            plan_messages(uow, created, plan_on_open(created, self._policy, now), now)
        return OpenOutcome(created, created=True)

    def _existing(
        self,
        uow: UnitOfWork,
        report: IncidentReport,
        channel_id: str | None,
        one_per_channel: bool,
    ) -> Postmortem | None:
        found = uow.postmortems.get_by_incident_key(report.key)
        if found is None and one_per_channel and channel_id is not None:
            found = next(iter(uow.postmortems.open_in_channel(channel_id)), None)
        return found

    def claim_ownership(
        self, *, postmortem_id: int, owner: str, chosen_by: str, channel_id: str
    ) -> ClaimOutcome:
        """Make ``owner`` the single owner if nobody is yet; everyone else is told who is."""
        now = self._clock()
        return self._group_commit.run(
            lambda uow: self._claim(uow, postmortem_id, owner, chosen_by, channel_id, now)
        )

    def _claim(
        self,
        uow: UnitOfWork,
        postmortem_id: int,
        owner: str,
        chosen_by: str,
        channel_id: str,
        now: datetime,
    ) -> ClaimOutcome:
        postmortem = uow.postmortems.get(postmortem_id)
        if postmortem is None:
            text = (
                "That postmortem no longer exists, so there is nothing to own. "
                "Use `/postmortem status` to see the open ones in this channel."
            )
            queue_notice(uow, channel_id=channel_id, user_id=chosen_by, text=text, now=now)
            return ClaimOutcome(None, won=False, explanation=text)
        owned = self._assign_first_owner(uow, postmortem, owner, chosen_by, now)
        if owned is None:
            current = uow.postmortems.get(postmortem_id)
            assert current is not None
            if current.owner_id is None:  # closed without an owner (cancelled meanwhile)
                text = f"Postmortem #{current.id} needs no owner any more: {_closed(current)}."
            else:
                text = (
                    f"This postmortem is already owned by <@{current.owner_id}>. To take it "
                    f"on, ask them to hand it to you: `/postmortem owner #{current.id} "
                    "@your-name`."
                )
            queue_notice(uow, channel_id=channel_id, user_id=chosen_by, text=text, now=now)
            return ClaimOutcome(current, won=False, explanation=text)
        return ClaimOutcome(owned, won=True)

    def _assign_first_owner(
        self, uow: UnitOfWork, postmortem: Postmortem, owner: str, chosen_by: str, now: datetime
    ) -> Postmortem | None:
        """Make ``owner`` the first owner, with its audit row and nudges; None if too late."""
        try:
            check_can_claim(postmortem)
            # The conditional UPDATE (… WHERE owner IS NULL) decides; it writes nothing if lost.
            won = uow.postmortems.claim_owner(
                postmortem_id=postmortem.id, owner=owner, by=chosen_by, at=now
            )
        except DomainError:
            won = False
        if not won:
            return None
        owned = uow.postmortems.get(postmortem.id)
        assert owned is not None
        uow.audit.record(
            postmortem_id=postmortem.id,
            at=now,
            actor=chosen_by,
            action="owner_assigned",
            details={"owner": owner},
        )
        uow.outbox.cancel_pending(postmortem_id=postmortem.id, kinds=_NO_OWNER_NUDGES)
        plan_messages(uow, owned, plan_on_owner(owned, self._policy, now), now)
        return owned

    def hand_over(
        self, *, channel_id: str, actor: str, new_owner: str, postmortem_id: int | None = None
    ) -> Postmortem:
        """Hand the channel's postmortem to ``new_owner``.

        Its owner, whoever assigned them, or one of the policy's incident managers may; a
        completed one too (its owner is still reminded of what it lacks, and hears of its
        week-late action items), not a cancelled one.

        While nobody owns it yet, this names the first owner, like a pick on the prompt: the
        way out when the prompt never reached the channel (the bot was not invited yet).
        """
        now = self._clock()
        with self._uow_factory() as uow:
            postmortem = find_postmortem(
                uow,
                # Named by its number, it is found from anywhere: its channel may be archived
                # (slash commands do not run there) when its owner leaves, months later.
                channel_id="" if postmortem_id is not None else channel_id,
                postmortem_id=postmortem_id,
                verb="owner",
                arguments=None,
            )
            elsewhere = postmortem.channel_id != channel_id
            if elsewhere and not hands_it_over(postmortem, actor, self._policy.incident_managers):
                raise belongs_elsewhere(postmortem)
            if postmortem.state is State.AWAITING_OWNER:
                owned = self._assign_first_owner(uow, postmortem, new_owner, actor, now)
                if owned is None:
                    raise DomainError("Someone chose an owner while you asked; try again.")
                uow.commit()
                return owned
            check_can_hand_over(
                postmortem,
                actor=actor,
                new_owner=new_owner,
                incident_managers=self._policy.incident_managers,
            )
            assert postmortem.owner_id is not None
            if not uow.postmortems.hand_over(
                postmortem_id=postmortem.id,
                from_owner=postmortem.owner_id,
                to_owner=new_owner,
                by=actor,
                at=now,
            ):
                raise DomainError("Ownership changed while you asked; try again.")
            uow.audit.record(
                postmortem_id=postmortem.id,
                at=now,
                actor=actor,
                action="owner_handed_over",
                details={"from": postmortem.owner_id, "to": new_owner},
            )
            updated = uow.postmortems.get(postmortem.id)
            assert updated is not None
            # The new owner inherits the old owner's pending nudges (reminders, "was it held?",
            # what a completed one still lacks); the channel's reminders and escalations stay
            # as they are. The "no meeting yet" and "start the document" nudges restart from
            # now, for the new owner, in plan_on_owner (not once the meeting or `done` made
            # them moot). Reminders of the action items the old owner took on stay theirs:
            # those are still theirs to do.
            uow.outbox.cancel_pending(
                postmortem_id=postmortem.id,
                kinds=[
                    MessageKind.NUDGE_NO_MEETING,
                    MessageKind.NUDGE_NO_DRAFT,
                    MessageKind.OWNER_TOLD,
                ],
            )
            uow.outbox.reassign(
                postmortem_id=postmortem.id,
                from_recipient=postmortem.owner_id,
                to_recipient=new_owner,
                kinds=sorted(NUDGES),
            )
            # A "was it held?" question already posted asks the old owner, whose click on
            # it is refused: it asks the new one instead.
            readdressed = held_questions_settled(
                uow, postmortem, Settled.HANDED_OVER, by=actor, now=now, new_owner=new_owner
            )
            told = plan_on_owner(updated, self._policy, now, handed_over_from=postmortem.owner_id)
            plan_messages(uow, updated, [*readdressed, *told], now)
            uow.commit()
            return updated

    def move_here(self, *, postmortem_id: int, channel_id: str, actor: str) -> Postmortem:
        """Bring a postmortem into this channel: one stored without a channel (its incident
        matched no route), or one still awaiting an owner whose channel refused its prompt
        for good. Its owner prompt is posted here now, and its nudges start from now."""
        now = self.now()
        if not is_postmortem_channel(channel_id):
            raise NotAllowed(
                "A postmortem can only be moved into a channel: run `/postmortem move` in the "
                "incident's channel, not in a direct message."
            )
        with self._uow_factory() as uow:
            found = uow.postmortems.get(postmortem_id)
            if found is None:
                raise NoPostmortemHere(
                    f"There is no postmortem #{postmortem_id}. "
                    "`/postmortem status` lists the ones without a channel."
                )
            if found.channel_id == channel_id:
                raise NotAllowed(f"Postmortem #{postmortem_id} is already in this channel.")
            if found.channel_id is None:
                check_can_move_unrouted(actor, self._policy.incident_managers)
            if found.channel_id is not None and not self._stranded(uow, found):
                raise NotAllowed(
                    f"Postmortem #{postmortem_id} belongs to <#{found.channel_id}>: only a "
                    "postmortem without a channel, or whose owner prompt could not be posted "
                    "in its channel, can be moved."
                )
            if not uow.postmortems.give_channel(
                postmortem_id=postmortem_id,
                channel_id=channel_id,
                at=now,
                from_channel=found.channel_id,
            ):
                raise DomainError("That postmortem just changed; please try again.")
            # Whatever was still to be said in the channel it leaves goes with it: re-planned,
            # or, for its action items' reminders, said in the new channel when due.
            uow.outbox.cancel_pending(
                postmortem_id=postmortem_id,
                kinds=[*sorted(NUDGES), MessageKind.OWNER_PROMPT],
                reason="moved to another channel",
            )
            uow.outbox.move_pending(
                postmortem_id=postmortem_id,
                kinds=sorted(ACTION_ITEM_REMINDERS),
                to_channel=channel_id,
            )
            moved = uow.postmortems.get(postmortem_id)
            assert moved is not None
            uow.audit.record(
                postmortem_id=postmortem_id,
                at=now,
                actor=actor,
                action="moved_to_channel",
                details={"channel": channel_id},
            )
            planned = plan_on_open(moved, self._policy, now)
            # Should Slack refuse the prompt here, the person who moved it is told.
            planned = [
                replace(p, params={**p.params, REQUESTED_BY: actor})
                if p.kind is MessageKind.OWNER_PROMPT
                else p
                for p in planned
            ]
            plan_messages(uow, moved, planned, now)
            uow.commit()
            return moved

    @staticmethod
    def _stranded(uow: UnitOfWork, postmortem: Postmortem) -> bool:
        """Awaiting an owner in a channel Slack refused its owner prompt in, for good (and
        not queued again): the channel may simply be the wrong one."""
        if postmortem.state is not State.AWAITING_OWNER or postmortem.prompt_ts is not None:
            return False
        prompt = MessageKind.OWNER_PROMPT.value
        refused = any(row.kind == prompt for row in uow.outbox.dead_for(postmortem.id))
        return refused and prompt not in uow.outbox.pending_kinds_for(postmortem.id)

    def status(
        self, *, channel_id: str, postmortem_id: int | None = None, actor: str | None = None
    ) -> ChannelStatus:
        """The open postmortems in a channel, plus any that could not be routed anywhere
        (their titles for ``actor`` only if they may see them: ``sees_unrouted``).

        With ``postmortem_id``, only that one, whatever its state, if it is this channel's.
        With none open, the channel's completed one in full when it is its only closed one
        (as the commands that still act on it find it), else its last closed one named.
        """
        with self._uow_factory() as uow:
            latest_closed = completed_here = None
            if postmortem_id is None:
                open_here = uow.postmortems.open_in_channel(channel_id)
                if not open_here:
                    closed = uow.postmortems.closed_in_channel(channel_id, CLOSED, limit=2)
                    completed_here = only_completed(closed)
                    if completed_here is None and closed:
                        latest_closed = closed[0]
            else:
                asked = uow.postmortems.get(postmortem_id)
                open_here = [asked] if asked is not None and asked.channel_id == channel_id else []
            shown = [*open_here, *([completed_here] if completed_here else [])]
            ids = [p.id for p in shown]
            return ChannelStatus(
                open_here,
                uow.postmortems.unrouted(),
                self._undeliverable(uow, shown),
                uow.documents.get_many(ids),
                uow.action_items.for_postmortems(ids),
                latest_closed=latest_closed,
                completed_here=completed_here,
                unrouted_seen_by=(
                    ()
                    if sees_unrouted(actor, self._policy.incident_managers)
                    else tuple(self._policy.incident_managers)
                ),
            )

    def overview(self, *, actor: str) -> Overview:
        """Every channel's open postmortems, those with messages Slack refused first (an
        owner prompt nobody saw leaves nobody asked), then overdue meetings: for the
        incident managers (NotAllowed says so to anyone else)."""
        check_can_see_everywhere(actor, self._policy.incident_managers)
        now = self._clock()
        with self._uow_factory() as uow:
            everywhere = uow.postmortems.open_everywhere()
            unrouted = uow.postmortems.unrouted()
            undeliverable = self._undeliverable(uow, everywhere)
        refused = {postmortem_id for postmortem_id, lost in undeliverable.items() if lost}
        ordered = by_urgency(everywhere, self._policy, now, refused=refused)
        return Overview(ordered, unrouted, now, undeliverable)

    @staticmethod
    def _undeliverable(uow: UnitOfWork, postmortems: Sequence[Postmortem]) -> dict[int, list[str]]:
        """By postmortem, what Slack refused for good; not what has been queued again since,
        nor an owner prompt that no longer matters (posted later, or an owner found another
        way). In one query when Slack refused nothing, three at most: `status all` asks
        this of every open postmortem.

        An action item's reminder is never queued again (another pending one is another
        item's, or another day's): it is listed, by its item's number, while the item is open.
        """
        problems: dict[int, list[str]] = {p.id: [] for p in postmortems}
        dead = uow.outbox.dead_for_many(list(problems))
        if not dead:
            return problems
        refused_in = sorted({row.postmortem_id for row in dead if row.postmortem_id is not None})
        pending = uow.outbox.pending_kinds_for_many(refused_in)
        asked_for_owner = {p.id for p in postmortems if p.owner_id is None and p.prompt_ts is None}
        open_items: set[tuple[int, str]] | None = None
        for row in dead:
            postmortem_id = row.postmortem_id
            if postmortem_id is None:
                continue
            if row.kind in pending[postmortem_id] - set(ACTION_ITEM_REMINDERS):
                continue
            if row.kind == MessageKind.OWNER_PROMPT.value and postmortem_id not in asked_for_owner:
                continue
            if row.kind not in ACTION_ITEM_REMINDERS:
                problems[postmortem_id].append(f"{row.kind}: {row.last_error}")
                continue
            if open_items is None:
                open_items = {
                    (item_of, str(item.number))
                    for item_of, items in uow.action_items.for_postmortems(refused_in).items()
                    for item in items
                    if item.done_at is None
                }
            number = str(row.params.get("number"))
            if (postmortem_id, number) in open_items:
                problems[postmortem_id].append(f"{row.kind}#{number}: {row.last_error}")
        return problems

    def add_candidates(
        self,
        *,
        postmortem_id: int,
        evidence: Mapping[Criterion, tuple[Person, ...]],
        actor: str,
    ) -> Postmortem | None:
        """While nobody owns it, the people ``evidence`` names join its candidates, and its
        owner prompt is shown again with them (e.g. PagerDuty's people, for a postmortem a
        person opened with the incident's link before PagerDuty's webhook came)."""
        now = self._clock()
        with self._uow_factory() as uow:
            # Locked: two deliveries adding people at once must not overwrite each other.
            postmortem = uow.postmortems.get_for_update(postmortem_id)
            if postmortem is None or postmortem.state is not State.AWAITING_OWNER:
                return postmortem
            candidates = tuple(with_more_evidence(postmortem.candidates, evidence))
            if candidates == postmortem.candidates:
                return postmortem
            if not uow.postmortems.set_candidates(
                postmortem_id=postmortem_id, candidates=candidates, at=now
            ):
                return uow.postmortems.get(postmortem_id)  # someone took it meanwhile
            uow.audit.record(
                postmortem_id=postmortem_id,
                at=now,
                actor=actor,
                action="candidates_added",
                details={
                    "candidates": [c.person.slack_user_id or c.person.name for c in candidates]
                },
            )
            if postmortem.channel_id is not None:
                refresh = PlannedMessage(MessageKind.PROMPT_REFRESH, now)
                plan_messages(uow, postmortem, [refresh], now)
            uow.commit()
            return replace(postmortem, candidates=candidates)

    def for_details(self, *, channel_id: str, postmortem_id: int | None) -> Postmortem:
        """The postmortem whose details `/postmortem details` would correct; else why none."""
        with self._uow_factory() as uow:
            postmortem = find_postmortem(
                uow, channel_id=channel_id, postmortem_id=postmortem_id, verb="details"
            )
            check_can_correct(postmortem)
            return postmortem

    def correct_details(
        self,
        *,
        postmortem_id: int,
        channel_id: str,
        actor: str,
        shown: Details,
        submitted: Details,
    ) -> Correction:
        """Store what the person changed from what their form ``shown``; the channel is
        told, and what counts from the resolution is planned again from a new one.

        Nothing is stored when a field they changed was also changed by someone else
        since the form opened (the correction's ``conflicts``), or when nothing changed.
        """
        now = self._clock()
        with self._uow_factory() as uow:
            find_postmortem(uow, channel_id=channel_id, postmortem_id=postmortem_id)
            # Held from the read: two corrections at once each see the other's result.
            postmortem = uow.postmortems.get_for_update(postmortem_id)
            assert postmortem is not None  # found a moment ago, and never deleted
            check_can_correct(postmortem)
            correction = correct(details_of(postmortem), shown=shown, submitted=submitted)
            if correction.conflicts or not correction.changed:
                return correction
            if "resolved_at" in correction.changed:
                check_can_move_resolution(
                    postmortem,
                    actor=actor,
                    incident_managers=self._policy.incident_managers,
                    also_changed=len(correction.changed) > 1,
                )
            self._store_correction(uow, postmortem, correction, actor, now)
            uow.commit()
            return correction

    def take_tools_report(
        self, *, postmortem_id: int, resolved_at: datetime, severity: str | None, actor: str
    ) -> Postmortem | None:
        """What the incident's tool (``actor``) reports when it resolves it, for an open
        postmortem a person started by hand with the incident's link: its resolution time
        if `/postmortem start <title>` only took the moment it opened, its severity if none
        was given. The channel is told, as of any correction; the deadline moves with it."""
        now = self._clock()
        with self._uow_factory() as uow:
            postmortem = uow.postmortems.get_for_update(postmortem_id)
            if postmortem is None or postmortem.state in CLOSED:
                return postmortem
            stored = details_of(postmortem)
            reported = reported_by_tool(postmortem, resolved_at=resolved_at, severity=severity)
            correction = correct(stored, shown=stored, submitted=reported)
            if not correction.changed:
                return postmortem
            updated = self._store_correction(uow, postmortem, correction, actor, now)
            uow.commit()
            return updated

    def _store_correction(
        self,
        uow: UnitOfWork,
        postmortem: Postmortem,
        correction: Correction,
        actor: str,
        now: datetime,
    ) -> Postmortem:
        """Store ``correction``, its audit, the channel's message and what it re-plans."""
        postmortem_id = postmortem.id
        after = correction.after
        stored = uow.postmortems.correct_details(postmortem_id=postmortem_id, details=after, at=now)
        assert stored  # the row is held, and was not cancelled
        updated = with_details(postmortem, after)
        changes = {
            name: {
                "was": _said(getattr(correction.before, name)),
                "now": _said(getattr(after, name)),
            }
            for name in sorted(correction.changed)
        }
        uow.audit.record(
            postmortem_id=postmortem_id,
            at=now,
            actor=actor,
            action="details_corrected",
            details=changes,
        )
        params = {"by": actor}
        for name, change in changes.items():
            params[name], params[f"{name}_was"] = change["now"], change["was"]
        plan = [PlannedMessage(MessageKind.DETAILS_CORRECTED, now, params=params)]
        if "resolved_at" in correction.changed:
            plan += self._replan_from_resolution(uow, updated, now)
        if updated.state is State.AWAITING_OWNER:
            # The owner prompt shows the title and these facts: show them as they are now.
            plan.append(PlannedMessage(MessageKind.PROMPT_REFRESH, now))
        plan_messages(uow, updated, plan, now)
        return updated

    def _replan_from_resolution(
        self, uow: UnitOfWork, postmortem: Postmortem, now: datetime
    ) -> list[PlannedMessage]:
        """The meeting reminders and overdue notice from a corrected resolution time, the
        pending ones cancelled (what a dispatcher holds goes out, or is dropped by its own
        re-check as it is sent; a snoozed copy of a notice not planned again keeps its
        time)."""
        heard = uow.outbox.delivered_or_in_flight(
            postmortem_id=postmortem.id, kind=MessageKind.ESCALATE_OVERDUE, now=now
        )
        again = plan_after_resolution_moved(
            postmortem,
            self._policy,
            now,
            overdue_notice_heard=heard,
            reminders_sent=uow.outbox.count_sent(
                postmortem_id=postmortem.id, kind=MessageKind.REMIND_MEETING_DUE
            ),
        )
        for kind in (MessageKind.REMIND_MEETING_DUE, MessageKind.ESCALATE_OVERDUE):
            uow.outbox.cancel_pending(
                postmortem_id=postmortem.id,
                kinds=[kind],
                reason="resolution time corrected",
                unclaimed_at=now,
                keep_snoozed=not any(p.kind is kind for p in again),
            )
        return again

    def for_incident(self, *, key: str) -> Postmortem | None:
        """The postmortem of the incident ``key`` names (open or not), or None."""
        with self._uow_factory() as uow:
            return uow.postmortems.get_by_incident_key(key)

    def get(self, *, postmortem_id: int) -> Postmortem | None:
        """One postmortem by id, or None."""
        with self._uow_factory() as uow:
            return uow.postmortems.get(postmortem_id)

    def audit_trail(self, *, postmortem_id: int) -> list[tuple[datetime, str, str]]:
        """(when, who, what) for every recorded change, oldest first."""
        with self._uow_factory() as uow:
            return [(e.at, e.actor, e.action) for e in uow.audit.for_postmortem(postmortem_id)]
