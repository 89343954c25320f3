"""Moving a postmortem on: schedule the meeting, mark it held, complete it; snooze a nudge.

Each use case is one transaction: the conditional state change, its audit event, and the
outbox rows it plans or cancels commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.cancelling import check_can_cancel
from bot.domain.document import DROPPED_ITEMS, GAPS, OPEN_ITEMS, Gap, gaps_param
from bot.domain.errors import DomainError, NotAllowed
from bot.domain.lifecycle import Move, State
from bot.domain.meetings import (
    Settled,
    check_can_snooze,
    check_can_steer,
    check_meeting_time,
    check_meeting_took_place,
    invite_params,
    invite_sequence,
    meeting_called_off,
    when_it_took_place,
)
from bot.domain.messages import (
    ACTION_ITEM_REMINDERS,
    NUDGES,
    REPEATING_NUDGES,
    REQUESTED_BY,
    SNOOZE,
    MessageKind,
    PlannedMessage,
    plan_on_complete,
    plan_on_held,
    plan_on_schedule,
    plan_refused_nudges_again,
    plan_snooze,
    still_applies,
)
from bot.domain.moments import WriteMoment
from bot.domain.policy import Policy
from bot.domain.postmortem import Postmortem
from bot.persistence.uow import UnitOfWork, UnitOfWorkFactory
from bot.services.base import (
    Service,
    check_not_complete,
    find_postmortem,
    held_questions_settled,
    left_in,
    plan_messages,
    queue_notice,
    reason_gone_elsewhere,
)
from bot.services.clock import Clock

_UNTIL_HELD = (
    MessageKind.NUDGE_NO_MEETING,
    MessageKind.NUDGE_NO_DRAFT,
    MessageKind.REMIND_MEETING_DUE,
    MessageKind.ESCALATE_OVERDUE,
    MessageKind.ASK_MARK_HELD,
)


_REPOSTED = "owner_prompt_reposted"


class ConcurrentChange(DomainError):
    """Someone else moved the postmortem on while this request was being handled."""


@dataclass(frozen=True)
class Completed:
    postmortem: Postmortem
    gaps: tuple[Gap, ...]  # what its artifact lacked when completed


class LifecycleService(Service):
    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        policy: Policy,
        clock: Clock,
        write_moment: WriteMoment,
    ) -> None:
        super().__init__(uow_factory=uow_factory, policy=policy, clock=clock)
        # How its answers and refusals give a moment: the Slack layer's date, which each
        # reader sees in their own zone (services do not know Slack).
        self._write_moment = write_moment

    def _check_not_complete(self, uow: UnitOfWork, postmortem: Postmortem, move: Move) -> None:
        check_not_complete(
            uow,
            postmortem,
            move,
            write_moment=self._write_moment,
            zone_name=self._policy.workspace_timezone,
        )

    # -- queries -----------------------------------------------------------------------
    def check_can_schedule(
        self, *, channel_id: str, actor: str, postmortem_id: int | None = None
    ) -> Postmortem:
        """The channel's postmortem if ``actor`` may schedule its meeting now; else why not."""
        with self._uow_factory() as uow:
            postmortem = find_postmortem(
                uow, channel_id=channel_id, postmortem_id=postmortem_id, verb="schedule"
            )
            self._check_not_complete(uow, postmortem, Move.SCHEDULE_MEETING)
            check_can_steer(postmortem, self._policy, actor=actor, move=Move.SCHEDULE_MEETING)
            return postmortem

    # -- use cases ---------------------------------------------------------------------
    def schedule_meeting(
        self,
        *,
        channel_id: str,
        actor: str,
        at: datetime,
        participants: Sequence[str],
        justification: str | None,
        postmortem_id: int | None = None,
    ) -> Postmortem:
        """Schedule (or move) the meeting; later than the deadline only with a justification."""
        now = self._clock()
        reason = (justification or "").strip() or None
        with self._uow_factory() as uow:
            postmortem = find_postmortem(
                uow, channel_id=channel_id, postmortem_id=postmortem_id, verb="schedule"
            )
            self._check_not_complete(uow, postmortem, Move.SCHEDULE_MEETING)
            new = check_can_steer(postmortem, self._policy, actor=actor, move=Move.SCHEDULE_MEETING)
            check_meeting_time(postmortem, self._policy, at=at, justification=reason, now=now)
            late = at > self._policy.meeting_deadline(postmortem.resolved_at)
            updated = self._move(
                uow,
                postmortem,
                new,
                now,
                meeting_at=at,
                meeting_participants=list(dict.fromkeys(participants)),
                meeting_justification=reason if late else None,
            )
            # Read once the row is ours (the UPDATE above locks it): a reschedule at the same
            # moment, committed first, is counted, so the two invites differ in SEQUENCE.
            scheduled_before = [
                event.at
                for event in uow.audit.for_postmortem(postmortem.id)
                if event.action == "meeting_scheduled"
            ]
            unsent = uow.outbox.waiting(
                postmortem_id=postmortem.id, kind=MessageKind.MEETING_INVITE, now=now
            )
            invite = invite_params(
                postmortem,
                updated,
                self._policy,
                sequence=invite_sequence([*scheduled_before, now]),
                unsent=unsent[-1].params if unsent else None,
                heard=uow.outbox.last_heard(
                    postmortem_id=postmortem.id, kind=MessageKind.MEETING_INVITE, now=now
                ),
            )
            uow.audit.record(
                postmortem_id=postmortem.id,
                at=now,
                actor=actor,
                action="meeting_scheduled",
                details={
                    "meeting_at": at.isoformat(),
                    "participants": list(updated.meeting_participants),
                    "after_deadline": late,
                    "justification": reason if late else None,
                },
            )
            uow.outbox.cancel_pending(
                postmortem_id=postmortem.id,
                kinds=(
                    MessageKind.NUDGE_NO_MEETING,
                    MessageKind.REMIND_MEETING_DUE,
                    MessageKind.ESCALATE_OVERDUE,
                    MessageKind.ASK_MARK_HELD,
                    MessageKind.MEETING_INVITE,
                ),
            )
            # A question already asked about the earlier time says it moved (the schedule
            # asks again, after the new one).
            settled = held_questions_settled(
                uow, postmortem, Settled.MOVED, by=actor, now=now, new_time=at
            )
            planned = plan_on_schedule(updated, self._policy, now, invite=invite)
            plan_messages(uow, updated, [*settled, *planned], now)
            uow.commit()
            return updated

    def mark_meeting_held(
        self,
        *,
        channel_id: str,
        actor: str,
        postmortem_id: int | None = None,
        early: bool = False,
        unscheduled: bool = False,
    ) -> Postmortem:
        """Record that the meeting took place; the channel is told what is left.

        Before the meeting's scheduled time only when ``early`` says it took place sooner;
        with none scheduled, only when ``unscheduled`` says it took place all the same.
        """
        now = self._clock()
        with self._uow_factory() as uow:
            postmortem = find_postmortem(
                uow,
                channel_id=channel_id,
                postmortem_id=postmortem_id,
                verb="held",
                arguments="early" if early else "unscheduled" if unscheduled else "",
            )
            self._check_not_complete(uow, postmortem, Move.MARK_MEETING_HELD)
            new = check_can_steer(
                postmortem, self._policy, actor=actor, move=Move.MARK_MEETING_HELD
            )
            check_meeting_took_place(
                postmortem,
                now=now,
                write_moment=self._write_moment,
                early=early,
                unscheduled=unscheduled,
            )
            if postmortem.meeting_at is None:
                details: dict[str, object] | None = {"scheduled_here": False}
            elif now < postmortem.meeting_at:
                details = {"before_its_scheduled_time": True}
            else:
                details = None
            updated = self._move(
                uow, postmortem, new, now, meeting_held_at=when_it_took_place(postmortem, now=now)
            )
            uow.audit.record(
                postmortem_id=postmortem.id,
                at=now,
                actor=actor,
                action="meeting_held",
                details=details,
            )
            uow.outbox.cancel_pending(postmortem_id=postmortem.id, kinds=_UNTIL_HELD)
            settled = held_questions_settled(uow, postmortem, Settled.HELD, by=actor, now=now)
            held = plan_on_held(updated, self._policy, now, by=actor)
            plan_messages(uow, updated, [*settled, *held], now)
            uow.commit()
            return updated

    def complete(
        self, *, channel_id: str, actor: str, postmortem_id: int | None = None
    ) -> Completed:
        """Complete the postmortem (only once its meeting was held); every nudge stops.

        What the artifact still lacks does not hold it up (the team judged it done at its
        meeting, and the document stays open), but it is said, to the channel and to them."""
        now = self._clock()
        with self._uow_factory() as uow:
            postmortem = find_postmortem(
                uow, channel_id=channel_id, postmortem_id=postmortem_id, verb="done"
            )
            self._check_not_complete(uow, postmortem, Move.COMPLETE)
            new = check_can_steer(postmortem, self._policy, actor=actor, move=Move.COMPLETE)
            updated = self._move(uow, postmortem, new, now, completed_at=now)
            uow.audit.record(postmortem_id=postmortem.id, at=now, actor=actor, action="completed")
            uow.outbox.cancel_pending(postmortem_id=postmortem.id, kinds=sorted(NUDGES))
            left = left_in(uow, postmortem.id)
            gaps = left.gaps
            params = {
                "by": actor,
                "action_items": str(len(left.items)),
                OPEN_ITEMS: str(left.open_items),
                "dropped_items": str(sum(1 for item in left.items if item.dropped)),
                GAPS: gaps_param(gaps),
            }
            completed = PlannedMessage(MessageKind.COMPLETED, now, params=params)
            reminders = plan_on_complete(updated, self._policy, now, gaps_left=bool(gaps))
            plan_messages(uow, updated, [completed, *reminders], now)
            uow.commit()
            return Completed(updated, tuple(gaps))

    def cancel(
        self, *, channel_id: str, actor: str, reason: str, postmortem_id: int | None = None
    ) -> Postmortem:
        """Close a postmortem opened by mistake or twice: every reminder stops, the channel
        hears who cancelled it and why, and a new start in the channel opens another."""
        now = self._clock()
        with self._uow_factory() as uow:
            postmortem = find_postmortem(
                uow,
                channel_id=channel_id,
                postmortem_id=postmortem_id,
                verb="cancel",
                arguments=reason,
            )
            self._check_not_complete(uow, postmortem, Move.CANCEL)
            new = check_can_cancel(
                postmortem, actor=actor, incident_managers=self._policy.incident_managers
            )
            updated = self._move(uow, postmortem, new, now, cancelled_at=now, cancel_reason=reason)
            uow.audit.record(
                postmortem_id=postmortem.id,
                at=now,
                actor=actor,
                action="cancelled",
                details={"reason": reason, "was": postmortem.state.value},
            )
            uow.outbox.cancel_pending(
                postmortem_id=postmortem.id,
                # Not the owner prompt: one being sent now must be recorded (its buttons are
                # then taken off); one not sent yet is dropped when due (still_applies).
                kinds=sorted(NUDGES | ACTION_ITEM_REMINDERS),
            )
            # Its open action items go with it, dropped (never "done"): nobody owes them to
            # a postmortem that is not to be, and `action mine` stops listing them.
            dropped = uow.action_items.drop_open(
                postmortem_id=postmortem.id,
                by=actor,
                at=now,
                reason=f"postmortem #{postmortem.id} was cancelled: {reason}",
            )
            # A meeting its invite put on people's calendars is off: they are told to delete
            # it (an invite not posted yet is not, now: still_applies).
            unsent = uow.outbox.waiting(
                postmortem_id=postmortem.id, kind=MessageKind.MEETING_INVITE, now=now
            )
            called_off = meeting_called_off(
                postmortem,
                self._policy,
                now=now,
                unsent=unsent[-1].params if unsent else None,
                heard=uow.outbox.last_heard(
                    postmortem_id=postmortem.id, kind=MessageKind.MEETING_INVITE, now=now
                ),
            )
            params = {
                "by": actor,
                OPEN_ITEMS: str(len(dropped)),
                DROPPED_ITEMS: " ".join(str(n) for n in dropped),
                **called_off,
            }
            cancelled = PlannedMessage(MessageKind.CANCELLED, now, params=params)
            settled = held_questions_settled(uow, postmortem, Settled.CANCELLED, by=actor, now=now)
            plan_messages(uow, updated, [*settled, cancelled], now)
            uow.commit()
            return updated

    def snooze(self, *, outbox_id: int, actor: str, channel_id: str) -> str:
        """Send a delivered nudge again a day from now (once per message); says what happened."""
        now = self._clock()
        with self._uow_factory() as uow:
            item = uow.outbox.mark_snoozed(item_id=outbox_id)
            postmortem = (
                uow.postmortems.get(item.postmortem_id)
                if item is not None and item.postmortem_id is not None
                else None
            )
            if item is None or postmortem is None or item.kind not in NUDGES:
                uow.rollback()
                text = "That reminder was already snoozed, or there is nothing left to snooze."
            elif not still_applies(item.kind, postmortem, now) or reason_gone_elsewhere(
                uow, kind=item.kind, postmortem_id=postmortem.id, params=item.params
            ):
                uow.rollback()
                text = "No need to snooze: the reason for that reminder is gone."
                if item.kind is MessageKind.NUDGE_NO_OWNER and postmortem.owner_id is None:
                    text = (
                        "No need to snooze: the escalation has gone out, and no reminder to "
                        "pick an owner comes after it."
                    )
            elif refusal := self._snooze_refusal(item.kind, postmortem, actor):
                uow.rollback()
                text = refusal
            else:
                until = now + SNOOZE
                # The owner's reminders go to whoever owns it now (the one snoozed may have
                # gone to the owner before a hand-over), and replace every pending one of
                # their kind: there is one per owner, or a series. The channel's day-3 and
                # day-5 reminders are one series each: the day's others fold into the
                # snoozed one, and the later day's stays.
                to_owner = item.recipient is not None
                recipient = postmortem.owner_id if to_owner else None
                uow.outbox.cancel_pending(
                    postmortem_id=postmortem.id,
                    kinds=(item.kind,),
                    due_before=None if to_owner or item.kind in REPEATING_NUDGES else until,
                    reason="snoozed",
                )
                # The escalation still to come, if any: no-owner nudges stop there. Where none
                # is to come (opened, or its prompt posted again, after the deadline), the
                # overdue notice, which comes in its place.
                escalation_at = overdue_instead = None
                if item.kind is MessageKind.NUDGE_NO_OWNER:
                    escalation_at = uow.outbox.first_pending_due(
                        postmortem_id=postmortem.id, kind=MessageKind.ESCALATE_NO_OWNER
                    )
                    if escalation_at is None:
                        escalation_at = overdue_instead = uow.outbox.first_pending_due(
                            postmortem_id=postmortem.id, kind=MessageKind.ESCALATE_OVERDUE
                        )
                again = plan_snooze(
                    item.kind, recipient, item.params, now, escalation_at=escalation_at
                )
                if again is not None:
                    assert postmortem.channel_id is not None
                    uow.outbox.add(
                        postmortem_id=postmortem.id,
                        channel_id=postmortem.channel_id,
                        planned=again,
                        now=now,
                    )
                    text = f"Snoozed: I'll remind again in a day (postmortem #{postmortem.id})."
                else:
                    assert escalation_at is not None
                    until = escalation_at
                    # The overdue notice goes out owner or not: only a meeting on the
                    # calendar stops it.
                    at = self._write_moment(until)
                    then = (
                        f"the overdue notice goes to the incident managers at {at}, unless the "
                        "meeting is on the calendar by then."
                        if overdue_instead is not None
                        else f"if nobody owns it by {at}, the escalation goes out then."
                    )
                    text = (
                        "Snoozed until the escalation: no more reminders to pick an owner for "
                        f"postmortem #{postmortem.id}; {then}"
                    )
                uow.audit.record(
                    postmortem_id=postmortem.id,
                    at=now,
                    actor=actor,
                    action="nudge_snoozed",
                    details={
                        "kind": item.kind.value,
                        "outbox_id": item.id,
                        "until": until.isoformat(),
                    },
                )
            queue_notice(uow, channel_id=channel_id, user_id=actor, text=text, now=now)
            uow.commit()
            return text

    def _snooze_refusal(self, kind: MessageKind, postmortem: Postmortem, actor: str) -> str:
        try:
            check_can_snooze(kind, postmortem, self._policy, actor=actor)
        except NotAllowed as refusal:
            return str(refusal)
        return ""

    def repost_owner_prompt(
        self,
        *,
        postmortem_id: int,
        requested_by: str | None = None,
        now: datetime | None = None,
    ) -> bool:
        """Queue the owner prompt again after Slack refused it for good; True if queued.

        Only for a postmortem still awaiting its owner, with a channel, whose prompt never
        reached that channel and whose latest prompt is dead (a prompt already queued again
        and not yet dead is not doubled). Typically: the bot was invited to the channel
        since, and someone ran `/postmortem start` there again. Should the prompt fail
        again, ``requested_by`` (a Slack user id) is told by direct message, else whoever
        opened the postmortem. One transaction; the pump sends the prompt.
        """
        at = now if now is not None else self._clock()
        with self._uow_factory() as uow:
            # A no-op state change that holds the postmortem's row until commit: concurrent
            # re-posts queue one prompt, and none once someone owns it.
            if not uow.postmortems.change_state(
                postmortem_id=postmortem_id,
                expected=State.AWAITING_OWNER,
                new=State.AWAITING_OWNER,
                at=at,
            ):
                return False
            postmortem = uow.postmortems.get(postmortem_id)
            if postmortem is None or postmortem.channel_id is None:
                return False
            if postmortem.prompt_ts is not None:  # it reached the channel after all
                return False
            dead_rows = uow.outbox.dead_for(postmortem_id)
            dead = sum(1 for row in dead_rows if row.kind == MessageKind.OWNER_PROMPT.value)
            pending = uow.outbox.pending_kinds_for(postmortem_id)
            if dead == 0 or MessageKind.OWNER_PROMPT.value in pending:
                return False  # never refused, or already queued again (and not refused yet)
            uow.audit.record(
                postmortem_id=postmortem_id,
                at=at,
                actor=requested_by or "postmortem-bot",
                action=_REPOSTED,
                details={"dead_prompts": dead},
            )
            params = {REQUESTED_BY: requested_by} if requested_by else {}
            # The channel nudges refused with the prompt come back too, unless one is queued.
            refused = {MessageKind(row.kind) for row in dead_rows if row.kind not in pending} - {
                MessageKind.OWNER_PROMPT
            }
            plan_messages(
                uow,
                postmortem,
                [
                    PlannedMessage(MessageKind.OWNER_PROMPT, at, params=params),
                    *plan_refused_nudges_again(postmortem, self._policy, at, refused),
                ],
                at,
            )
            uow.commit()
            return True

    # -- helpers -----------------------------------------------------------------------
    def _move(
        self, uow: UnitOfWork, postmortem: Postmortem, new: State, now: datetime, **fields: object
    ) -> Postmortem:
        if not uow.postmortems.change_state(
            postmortem_id=postmortem.id, expected=postmortem.state, new=new, at=now, **fields
        ):
            raise ConcurrentChange("The postmortem changed while you asked; try again.")
        updated = uow.postmortems.get(postmortem.id)
        assert updated is not None
        return updated
