"""Writing the postmortem: its document, its action items, and the Markdown export.

Anyone in the channel may write (the guidance: a collaborative effort, led by the owner);
every change is audited with who made it. Each use case is one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from zoneinfo import ZoneInfo

from bot.domain.document import (
    DROPPED,
    MAX_SECTION,
    ActionItem,
    ActionItemRefused,
    Document,
    Section,
    action_item_params,
    check_action_item,
    check_action_item_change,
    check_writable,
    fingerprint,
    merge_edit,
    plan_action_item_reminders,
    render_markdown,
    why_not_done,
    why_not_from_elsewhere,
)
from bot.domain.messages import ACTION_ITEM_REMINDERS, MessageKind, PlannedMessage
from bot.domain.postmortem import HandOver, Postmortem
from bot.domain.timeline import TimelineEvent, timeline_draft
from bot.persistence.uow import UnitOfWork
from bot.services.base import Service, find_postmortem, plan_messages

# Message params: who did it, and what the channel is shown.
BY = "by"
MARKDOWN = "markdown"
NUMBER = "number"


@dataclass(frozen=True)
class Saved:
    document: Document | None  # as it stands after the save (None: nothing written yet)
    changed: tuple[Section, ...]
    conflicts: tuple[Section, ...]
    # What each changed section said before the save. A section is written only while it
    # still says what the form showed, so this is what the person saw (a timeline offered
    # as a draft excepted: it was empty, and the draft, times, event kinds and names,
    # becomes the person's own text).
    before: Mapping[Section, str] = field(default_factory=dict)


class DocumentService(Service):
    def for_form(
        self, *, channel_id: str, postmortem_id: int | None = None
    ) -> tuple[Postmortem, Document | None]:
        """The postmortem the form is for, and its document so far."""
        with self._uow_factory() as uow:
            postmortem = find_postmortem(
                uow, channel_id=channel_id, postmortem_id=postmortem_id, verb="document"
            )
            check_writable(postmortem)
            return postmortem, uow.documents.get(postmortem.id)

    def timeline_draft(self, *, postmortem: Postmortem) -> str:
        """The timeline as the incident's tools recorded it (PagerDuty's webhook events, the
        other tools' evidence), one line per event; "" when none did (a postmortem started
        by hand without a PagerDuty link)."""
        source, _, incident_id = postmortem.incident_key.partition(":")
        with self._uow_factory() as uow:
            events = uow.incident_events.for_incident(source=source, incident_id=incident_id)
        return timeline_draft(
            [TimelineEvent(at=e.occurred_at, kind=e.event_type, by=e.agent_name) for e in events],
            ZoneInfo(self._policy.workspace_timezone),
            max_chars=MAX_SECTION,
        )

    def save(
        self,
        *,
        postmortem_id: int,
        channel_id: str,
        actor: str,
        submitted: Mapping[Section, str],
        shown: Mapping[Section, str],
        drafted: Mapping[Section, str] | None = None,
    ) -> Saved:
        """Store the sections the form changed, except those someone else changed meanwhile
        (``Saved.conflicts``: not written, the person is shown why).

        ``drafted``: sections the form offered a draft in (the timeline), with the draft's
        fingerprint. Its ``shown`` is the stored (empty) text, so a draft is saved with the
        form. Once someone has stored text there, a draft sent back untouched gives way to
        it, and an edited one conflicts only with text other than the draft it started from.

        The first save tells the channel that the document was started, and how to add to it.
        """
        now = self._clock()
        with self._uow_factory() as uow:
            postmortem = self._hold(
                uow, channel_id=channel_id, postmortem_id=postmortem_id, verb="document"
            )
            current = uow.documents.get(postmortem.id)
            submitted, shown = _after_drafts(current, submitted, shown, drafted or {})
            edit = merge_edit(current, submitted, shown)
            if not edit.changed:
                return Saved(current, changed=(), conflicts=edit.conflicts)
            document = uow.documents.save(
                postmortem_id=postmortem.id, changed=edit.changed, by=actor, at=now
            )
            uow.audit.record(
                postmortem_id=postmortem.id,
                at=now,
                actor=actor,
                action="document_saved",
                # What each changed section said before: an edit can always be undone.
                details={
                    "sections": [s.value for s in edit.changed],
                    "before": {
                        s.value: current.text(s)
                        for s in edit.changed
                        if current is not None and current.text(s)
                    },
                },
            )
            if current is None:
                uow.outbox.cancel_pending(
                    postmortem_id=postmortem.id, kinds=[MessageKind.NUDGE_NO_DRAFT]
                )
                plan_messages(
                    uow,
                    postmortem,
                    [PlannedMessage(MessageKind.DOCUMENT_STARTED, now, params={BY: actor})],
                    now,
                )
            uow.commit()
            return Saved(
                document,
                changed=tuple(edit.changed),
                conflicts=edit.conflicts,
                before={s: current.text(s) if current else "" for s in edit.changed},
            )

    def add_action_item(
        self,
        *,
        channel_id: str,
        actor: str,
        owner_id: str,
        due_on: date,
        text: str,
        postmortem_id: int | None = None,
    ) -> tuple[Postmortem, ActionItem]:
        """Record an action item; the channel is told who will do what, by when."""
        now = self._clock()
        with self._uow_factory() as uow:
            postmortem = self._hold(
                uow,
                channel_id=channel_id,
                postmortem_id=postmortem_id,
                verb="action",
                arguments=None,  # the person's words, not placeholders: see find_postmortem
            )
            highest = uow.action_items.highest_number(postmortem.id)
            cleaned = check_action_item(
                text, due_on=due_on, today=self.last_place_today(), existing=highest
            )
            item = uow.action_items.add(
                postmortem_id=postmortem.id,
                number=highest + 1,
                text=cleaned,
                owner_id=owner_id,
                due_on=due_on,
                by=actor,
                at=now,
            )
            # What the audit keeps is what the channel is told.
            recorded = action_item_params(item)
            uow.audit.record(
                postmortem_id=postmortem.id,
                at=now,
                actor=actor,
                action="action_item_added",
                details=recorded,
            )
            params = {BY: actor, **recorded}
            plan_messages(
                uow,
                postmortem,
                [
                    PlannedMessage(MessageKind.ACTION_ITEM_ADDED, now, params=params),
                    *plan_action_item_reminders(item, self._policy, now),
                ],
                now,
            )
            uow.commit()
            return postmortem, item

    def complete_action_item(
        self,
        *,
        asked_in: str,
        actor: str,
        number: int,
        postmortem_id: int | None = None,
        drop_reason: str | None = None,
    ) -> tuple[Postmortem, ActionItem]:
        """Mark an action item done (once: a second time says who did it first); with
        ``drop_reason``, drop it instead: closed as no longer needed, never as done.

        Named by its postmortem's number, it is found from any channel (``asked_in`` is where
        the person is), so an item's owner need not be in the incident's channel; who may
        mark it done from outside that channel is the domain's rule.
        """
        now = self._clock()
        with self._uow_factory() as uow:
            postmortem, _ = self._named_item(
                uow,
                asked_in=asked_in,
                actor=actor,
                number=number,
                postmortem_id=postmortem_id,
                arguments=None if drop_reason else f"done {number}",
            )
            if not uow.action_items.mark_done(
                postmortem_id=postmortem.id,
                number=number,
                by=actor,
                at=now,
                drop_reason=drop_reason,
            ):
                item = uow.action_items.get(postmortem_id=postmortem.id, number=number)
                raise ActionItemRefused(why_not_done(postmortem.id, number, item))
            item = uow.action_items.get(postmortem_id=postmortem.id, number=number)
            assert item is not None
            uow.audit.record(
                postmortem_id=postmortem.id,
                at=now,
                actor=actor,
                action="action_item_dropped" if drop_reason else "action_item_done",
                details={NUMBER: str(number), **({"reason": drop_reason} if drop_reason else {})},
            )
            params = {BY: actor, **action_item_params(item)}
            kind = MessageKind.ACTION_ITEM_DONE
            if drop_reason:
                params[DROPPED] = drop_reason
                kind = MessageKind.ACTION_ITEM_DROPPED
            plan_messages(
                uow,
                postmortem,
                [PlannedMessage(kind, now, params=params)],
                now,
            )
            uow.commit()
            return postmortem, item

    def change_action_item(
        self,
        *,
        asked_in: str,
        actor: str,
        number: int,
        postmortem_id: int | None = None,
        due_on: date | None = None,
        owner_id: str | None = None,
    ) -> tuple[Postmortem, ActionItem, ActionItem]:
        """Give an open action item a new due date or a new owner; the channel is told, and
        its reminders follow: those planned before are dropped when due, new ones planned.
        Who may, from outside the incident's channel, is as for marking it done.

        Returns the postmortem, the item as it was and as it is now.
        """
        now = self._clock()
        with self._uow_factory() as uow:
            postmortem, before = self._named_item(
                uow,
                asked_in=asked_in,
                actor=actor,
                number=number,
                postmortem_id=postmortem_id,
                # A date is the person's own words; a mention would show as its raw id.
                arguments=f"due {number} {due_on.isoformat()}" if due_on is not None else None,
            )
            if before is None or before.done_at is not None:
                raise ActionItemRefused(why_not_done(postmortem.id, number, before))
            check_action_item_change(
                before, due_on=due_on, owner_id=owner_id, today=self.last_place_today()
            )
            # Its row is held since it was read open (_named_item): nobody closed it since.
            changed_open_item = uow.action_items.change(
                postmortem_id=postmortem.id, number=number, due_on=due_on, owner_id=owner_id
            )
            assert changed_open_item
            after = replace(
                before, due_on=due_on or before.due_on, owner_id=owner_id or before.owner_id
            )
            was = action_item_params(before)
            now_is = action_item_params(after)
            changed = {
                key: {"was": was[key], "now": now_is[key]}
                for key in ("due", "owner")
                if was[key] != now_is[key]
            }
            uow.audit.record(
                postmortem_id=postmortem.id,
                at=now,
                actor=actor,
                action="action_item_changed",
                details={NUMBER: str(number), **changed},
            )
            params = {
                BY: actor,
                **now_is,
                **({"was_due": was["due"]} if "due" in changed else {}),
                **({"was_owner": was["owner"]} if "owner" in changed else {}),
            }
            # Its reminders start again from the change: those planned before would come on
            # the old day or to the old owner (or twice, should it be changed back).
            uow.outbox.cancel_pending_for_item(
                postmortem_id=postmortem.id,
                number=number,
                kinds=sorted(ACTION_ITEM_REMINDERS | {MessageKind.ACTION_ITEM_GIVEN}),
                reason="action item changed",
            )
            planned = [
                PlannedMessage(MessageKind.ACTION_ITEM_CHANGED, now, params=params),
                *plan_action_item_reminders(after, self._policy, now),
            ]
            if "owner" in changed and after.owner_id != actor:
                planned.append(
                    PlannedMessage(
                        MessageKind.ACTION_ITEM_GIVEN, now, recipient=after.owner_id, params=params
                    )
                )
            plan_messages(uow, postmortem, planned, now)
            uow.commit()
            return postmortem, before, after

    def _named_item(
        self,
        uow: UnitOfWork,
        *,
        asked_in: str,
        actor: str,
        number: int,
        postmortem_id: int | None,
        arguments: str | None,
    ) -> tuple[Postmortem, ActionItem | None]:
        """The postmortem an action-item command names, and its item ``number`` (None: there
        is none). Named by its postmortem's number, it is found from any channel; from
        outside that postmortem's channel, only for the people the item concerns."""
        found = find_postmortem(
            uow,
            channel_id="" if postmortem_id is not None else asked_in,
            postmortem_id=postmortem_id,
            verb="action",
            arguments=arguments,
        )
        # Held until commit, the postmortem first as every writer to it holds it (a cancel
        # drops its items; the other order could deadlock), then the item: a change made
        # meanwhile by someone else is read, not overwritten and then told as this person's.
        postmortem = uow.postmortems.get_for_update(found.id) or found
        item = uow.action_items.get(postmortem_id=postmortem.id, number=number, for_update=True)
        if asked_in != postmortem.channel_id:
            refusal = why_not_from_elsewhere(
                postmortem, item, actor, self._policy.incident_managers
            )
            if refusal is not None:
                raise ActionItemRefused(refusal)
        return postmortem, item

    def open_items_of(
        self, owner_id: str, *, limit: int = 10
    ) -> tuple[list[tuple[Postmortem, ActionItem]], int]:
        """One person's open action items across every postmortem, soonest due first (up to
        ``limit``), and how many they have open in all: what they still owe."""
        with self._uow_factory() as uow:
            listed, total = uow.action_items.open_for_owner(owner_id, limit=limit)
            postmortems = uow.postmortems.get_many(sorted({pid for pid, _ in listed}))
            return [(postmortems[pid], item) for pid, item in listed if pid in postmortems], total

    def export(
        self, *, channel_id: str, actor: str, postmortem_id: int | None = None
    ) -> Postmortem:
        """Queue the document, as it stands now, as a Markdown file posted to the channel."""
        now = self._clock()
        with self._uow_factory() as uow:
            postmortem = find_postmortem(
                uow, channel_id=channel_id, postmortem_id=postmortem_id, verb="export"
            )
            markdown = render_markdown(
                postmortem,
                uow.documents.get(postmortem.id),
                uow.action_items.for_postmortem(postmortem.id),
                self._policy,
                [
                    HandOver(at=e.at, from_owner=e.details["from"], to_owner=e.details["to"])
                    for e in uow.audit.for_postmortem(postmortem.id)
                    if e.action == "owner_handed_over"
                ],
            )
            plan_messages(
                uow,
                postmortem,
                [
                    PlannedMessage(
                        MessageKind.DOCUMENT_EXPORT, now, params={BY: actor, MARKDOWN: markdown}
                    )
                ],
                now,
            )
            uow.commit()
            return postmortem

    @staticmethod
    def _hold(
        uow: UnitOfWork,
        *,
        channel_id: str,
        postmortem_id: int | None,
        verb: str,
        arguments: str | None = "",
    ) -> Postmortem:
        """The postmortem written to, its row held until commit: concurrent writers to one
        postmortem take turns (a section merge, or the next action item number, is computed
        from what was read)."""
        found = find_postmortem(
            uow, channel_id=channel_id, postmortem_id=postmortem_id, verb=verb, arguments=arguments
        )
        held = uow.postmortems.get_for_update(found.id)
        assert held is not None  # postmortems are never deleted
        check_writable(held)
        return held


def _after_drafts(
    current: Document | None,
    submitted: Mapping[Section, str],
    shown: Mapping[Section, str],
    drafted: Mapping[Section, str],
) -> tuple[dict[Section, str], dict[Section, str]]:
    """What a save writes and compares against, once the form's drafts are accounted for."""
    submitted, shown = dict(submitted), dict(shown)
    for section, draft in drafted.items():
        if section not in submitted or current is None or not current.text(section):
            continue  # nothing stored there yet: the draft, as sent, is this person's text
        if fingerprint(submitted[section]) == draft:
            del submitted[section]  # untouched: someone else's text stands
        else:
            shown[section] = draft  # edited from the draft: in conflict only with other text
    return submitted, shown
