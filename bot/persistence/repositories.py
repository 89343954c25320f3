"""Repositories: the domain's view of stored postmortems, audit events, outbox and deliveries."""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, cast

from sqlalchemy import (
    Select,
    Table,
    Update,
    and_,
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.domain.details import Details
from bot.domain.document import PostedReminder
from bot.domain.lifecycle import CLOSED, State
from bot.domain.messages import SNOOZED, MessageKind, PlannedMessage
from bot.domain.owners import Candidate, Criterion, Person
from bot.domain.postmortem import IncidentReport, Postmortem
from bot.persistence.tables import AuditEventRow, OutboxRow, PostmortemRow, ProcessedDeliveryRow


def _candidate_to_json(candidate: Candidate) -> dict[str, Any]:
    return {
        "slack_user_id": candidate.person.slack_user_id,
        "name": candidate.person.name,
        "criteria": [c.value for c in candidate.criteria],
    }


def _candidate_from_json(data: dict[str, Any]) -> Candidate:
    return Candidate(
        person=Person(slack_user_id=data.get("slack_user_id"), name=data.get("name", "")),
        criteria=tuple(Criterion(c) for c in data.get("criteria", [])),
    )


def _to_domain(row: Any) -> Postmortem:
    """From a mapped PostmortemRow or a Core row of the postmortems table."""
    return Postmortem(
        id=row.id,
        incident_key=row.incident_key,
        title=row.title,
        source=row.source,
        channel_id=row.channel_id,
        state=State(row.state),
        resolved_at=row.resolved_at,
        opened_at=row.opened_at,
        opened_by=row.opened_by,
        severity=row.severity,
        false_alarm=row.false_alarm,
        service=row.service,
        candidates=tuple(_candidate_from_json(c) for c in row.candidates or []),
        notes=tuple(row.notes or []),
        owner_id=row.owner_id,
        owner_assigned_by=row.owner_assigned_by,
        owner_assigned_at=row.owner_assigned_at,
        prompt_ts=row.prompt_ts,
        meeting_at=row.meeting_at,
        meeting_justification=row.meeting_justification,
        meeting_participants=tuple(str(u) for u in row.meeting_participants or []),
        meeting_held_at=row.meeting_held_at,
        completed_at=row.completed_at,
        cancelled_at=row.cancelled_at,
        cancel_reason=row.cancel_reason,
    )


def _insert_ignoring_conflicts(session: Session, table: Any) -> Any:
    """An INSERT that skips rows violating a unique constraint, on either database."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def _update(model: Any) -> Any:
    """An ORM UPDATE that skips syncing objects in the session: each use case reads after
    writing, and the sync (an evaluation per row) costs more than the UPDATE itself."""
    return update(model).execution_options(synchronize_session=False)


# Core inserts for rows nobody reads back in the same transaction: no ORM bookkeeping.
_OUTBOX_TABLE = cast(Table, OutboxRow.__table__)
_AUDIT_TABLE = cast(Table, AuditEventRow.__table__)


_POSTMORTEMS_TABLE = cast(Table, PostmortemRow.__table__)
_CLOSED = sorted(state.value for state in CLOSED)
# Statements on the hot paths (every start, every message sent), built once: building a
# statement per call costs more than executing it.
_OPEN_IN_CHANNEL = (
    select(_POSTMORTEMS_TABLE.c.id)
    .where(
        _POSTMORTEMS_TABLE.c.channel_id == bindparam("channel_id"),
        _POSTMORTEMS_TABLE.c.state.not_in(_CLOSED),
    )
    .limit(1)
)
_RECORD_PROMPT = (
    update(_POSTMORTEMS_TABLE)
    .where(_POSTMORTEMS_TABLE.c.id == bindparam("postmortem_id"))
    .values(prompt_ts=bindparam("ts"))
)


def _mark_sent(status: str, note: Any) -> Update:
    """Record what Slack took, from a row in ``status`` this dispatcher still holds."""
    return (
        update(_OUTBOX_TABLE)
        .where(
            _OUTBOX_TABLE.c.id == bindparam("item_id"),
            _OUTBOX_TABLE.c.lease_owner == bindparam("worker"),
            _OUTBOX_TABLE.c.status == status,
        )
        .values(
            lease_owner=None,
            lease_expires_at=None,
            status="sent",
            slack_ts=bindparam("ts"),
            sent_at=bindparam("at"),
            last_error=note,
        )
    )


# An earlier attempt's error told why the row was still waiting: a sent message has none
# (``attempts`` still shows that it took more than one try).
_MARK_SENT = _mark_sent("pending", None)
# Its reason went (an owner picked, a snooze, the postmortem cancelled) while this dispatcher
# was posting it: Slack has it, so the record must say so, with the ts a Snooze click, a
# closed action item's update and the audit look it up by, and keep why it was cancelled. A
# cancel keeps the lease, and a dispatcher lets go of a row cancelled before its turn
# (``still_to_send``), so this only matches a row cancelled while this dispatcher posted it.
_MARK_SENT_THOUGH_CANCELLED = _mark_sent(
    "cancelled",
    literal("posted as it was cancelled: ") + func.coalesce(_OUTBOX_TABLE.c.last_error, ""),
)
_HOLDER = select(_OUTBOX_TABLE.c.status, _OUTBOX_TABLE.c.lease_owner).where(
    _OUTBOX_TABLE.c.id == bindparam("item_id")
)
_LET_GO = (
    update(_OUTBOX_TABLE)
    .where(
        _OUTBOX_TABLE.c.id == bindparam("item_id"),
        _OUTBOX_TABLE.c.lease_owner == bindparam("worker"),
    )
    .values(lease_owner=None, lease_expires_at=None)
)


class Recorded(Enum):
    SENT = "sent"
    SENT_THOUGH_ITS_REASON_WENT = "sent though its reason went"
    LEASE_LOST = "lease lost"


_GET_POSTMORTEM = select(_POSTMORTEMS_TABLE).where(_POSTMORTEMS_TABLE.c.id == bindparam("id"))


@functools.cache
def _insert_postmortem(dialect_name: str) -> Any:
    """Built once per dialect: a fresh statement per request costs more than the INSERT."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return (
        dialect.insert(_POSTMORTEMS_TABLE).on_conflict_do_nothing().returning(*_POSTMORTEMS_TABLE.c)
    )


# A row whose message Slack took (a snoozed one was sent, then asked to come back).
_REACHED_SLACK = ("sent", "snoozed")
# With a lease that has not run out: being sent by a dispatcher ("cancelled": its reason went
# while it was posted; see _MARK_SENT_THOUGH_CANCELLED).
_MAYBE_IN_FLIGHT = ("pending", "cancelled")


def _unclaimed(now: datetime) -> Any:
    """Rows no dispatcher holds at ``now`` (never claimed, or their lease ran out)."""
    return or_(OutboxRow.lease_expires_at.is_(None), OutboxRow.lease_expires_at < now)


def _heard_or_in_flight(postmortem_id: int, kind: MessageKind, now: datetime) -> tuple[Any, ...]:
    """This postmortem's rows of ``kind`` that reached Slack (or were snoozed there), or that
    a dispatcher holds at ``now``, sending them."""
    return (
        OutboxRow.postmortem_id == postmortem_id,
        OutboxRow.kind == kind.value,
        or_(
            OutboxRow.status.in_(_REACHED_SLACK),
            and_(OutboxRow.status.in_(_MAYBE_IN_FLIGHT), ~_unclaimed(now)),
        ),
    )


# Ids are 32-bit integers on both databases (SQLite's go further; PostgreSQL's do not).
_MAX_ROW_ID = 2**31 - 1


def _is_row_id(value: int) -> bool:
    return 0 < value <= _MAX_ROW_ID


class PostmortemRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(
        self,
        *,
        report: IncidentReport,
        channel_id: str | None,
        opened_by: str,
        now: datetime,
        lock_channel: bool,
    ) -> Postmortem | None:
        """Store a new postmortem; None if the incident (or the channel's lock) already has one."""
        values = {
            "incident_key": report.key,
            "title": report.title,
            "source": report.source,
            "channel_id": channel_id,
            "open_channel_lock": channel_id if lock_channel else None,
            "state": State.AWAITING_OWNER.value,
            "severity": report.severity,
            "false_alarm": report.false_alarm,
            "service": report.service,
            "resolved_at": report.resolved_at,
            "opened_at": now,
            "opened_by": opened_by,
            "candidates": [_candidate_to_json(c) for c in report.candidates()],
            "notes": list(report.notes),
            "updated_at": now,
        }
        statement = _insert_postmortem(self._session.get_bind().dialect.name)
        row = self._session.execute(statement, values).first()
        return None if row is None else _to_domain(row)

    def has_open_in_channel(self, channel_id: str) -> bool:
        return (
            self._session.execute(_OPEN_IN_CHANNEL, {"channel_id": channel_id}).first() is not None
        )

    def get(self, postmortem_id: int) -> Postmortem | None:
        if not _is_row_id(postmortem_id):
            return None  # a number from a tampered form: no row has it, and no driver takes it
        row = self._session.execute(_GET_POSTMORTEM, {"id": postmortem_id}).first()
        return None if row is None else _to_domain(row)

    def get_for_update(self, postmortem_id: int) -> Postmortem | None:
        """``get``, holding the row until commit (PostgreSQL; SQLite's writer lock already
        does), for a change computed from what was read."""
        if not _is_row_id(postmortem_id):
            return None
        row = self._session.scalars(
            select(PostmortemRow).where(PostmortemRow.id == postmortem_id).with_for_update()
        ).one_or_none()
        return None if row is None else _to_domain(row)

    def get_many(self, ids: Sequence[int]) -> dict[int, Postmortem]:
        rows = self._session.scalars(select(PostmortemRow).where(PostmortemRow.id.in_(ids)))
        return {row.id: _to_domain(row) for row in rows}

    def get_by_incident_key(self, incident_key: str) -> Postmortem | None:
        row = self._session.scalars(
            select(PostmortemRow).where(PostmortemRow.incident_key == incident_key)
        ).one_or_none()
        return None if row is None else _to_domain(row)

    def _open(self) -> Select[PostmortemRow]:
        return select(PostmortemRow).where(PostmortemRow.state.not_in(_CLOSED))

    def open_in_channel(self, channel_id: str) -> list[Postmortem]:
        """Open postmortems in a channel, newest first."""
        rows = self._session.scalars(
            self._open()
            .where(PostmortemRow.channel_id == channel_id)
            .order_by(PostmortemRow.id.desc())
        )
        return [_to_domain(r) for r in rows]

    def latest_closed_in_channel(
        self, channel_id: str, states: Collection[State] = (State.COMPLETED,)
    ) -> Postmortem | None:
        """The channel's most recently opened postmortem in one of these closed ``states``
        (by default completed: a cancelled one's action items were all dropped with it)."""
        latest = self.closed_in_channel(channel_id, states, limit=1)
        return latest[0] if latest else None

    def closed_in_channel(
        self, channel_id: str, states: Collection[State], *, limit: int
    ) -> list[Postmortem]:
        """The channel's postmortems in these closed ``states``, newest first, at most
        ``limit``."""
        rows = self._session.scalars(
            select(PostmortemRow)
            .where(
                PostmortemRow.channel_id == channel_id,
                PostmortemRow.state.in_([s.value for s in states]),
            )
            .order_by(PostmortemRow.id.desc())
            .limit(limit)
        )
        return [_to_domain(r) for r in rows]

    def open_everywhere(self) -> list[Postmortem]:
        """Every open postmortem that has a channel, earliest resolved first."""
        rows = self._session.scalars(
            self._open()
            .where(PostmortemRow.channel_id.is_not(None))
            .order_by(PostmortemRow.resolved_at, PostmortemRow.id)
        )
        return [_to_domain(r) for r in rows]

    def unrouted(self) -> list[Postmortem]:
        rows = self._session.scalars(
            self._open().where(PostmortemRow.channel_id.is_(None)).order_by(PostmortemRow.id)
        )
        return [_to_domain(r) for r in rows]

    def claim_owner(self, *, postmortem_id: int, owner: str, by: str, at: datetime) -> bool:
        """Make ``owner`` the owner if nobody is yet: exactly one concurrent claim wins."""
        result = self._session.execute(
            _update(PostmortemRow)
            .where(
                PostmortemRow.id == postmortem_id,
                PostmortemRow.owner_id.is_(None),
                PostmortemRow.state == State.AWAITING_OWNER.value,
            )
            .values(
                owner_id=owner,
                owner_assigned_by=by,
                owner_assigned_at=at,
                state=State.DRAFTING.value,
                updated_at=at,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def hand_over(
        self, *, postmortem_id: int, from_owner: str, to_owner: str, by: str, at: datetime
    ) -> bool:
        """Move ownership, only if ``from_owner`` still owns it and it was not cancelled (a
        concurrent change, or a cancel, wins; a completed one is still followed up, so it
        may change owner)."""
        result = self._session.execute(
            _update(PostmortemRow)
            .where(
                PostmortemRow.id == postmortem_id,
                PostmortemRow.owner_id == from_owner,
                PostmortemRow.state != State.CANCELLED.value,
            )
            .values(owner_id=to_owner, owner_assigned_by=by, owner_assigned_at=at, updated_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def change_state(
        self, *, postmortem_id: int, expected: State, new: State, at: datetime, **fields: Any
    ) -> bool:
        """Move ``expected`` → ``new`` (plus ``fields``); False if the state moved meanwhile."""
        values: dict[str, Any] = {"state": new.value, "updated_at": at, **fields}
        if new in CLOSED:
            values["open_channel_lock"] = None
        result = self._session.execute(
            _update(PostmortemRow)
            .where(PostmortemRow.id == postmortem_id, PostmortemRow.state == expected.value)
            .values(**values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def give_channel(
        self, *, postmortem_id: int, channel_id: str, at: datetime, from_channel: str | None
    ) -> bool:
        """Move a postmortem from ``from_channel`` (None: it has none) to ``channel_id``;
        False if it changed meanwhile (moved, owned, its prompt posted, completed).

        Its ``opened_at`` becomes ``at``: it opens, for anyone who can see it, in that
        channel now, and the no-owner nudges and escalation count from there.
        """
        statement = _update(PostmortemRow).where(
            PostmortemRow.id == postmortem_id, PostmortemRow.prompt_ts.is_(None)
        )
        if from_channel is None:
            statement = statement.where(
                PostmortemRow.channel_id.is_(None),
                PostmortemRow.state.not_in(_CLOSED),
            )
        else:
            statement = statement.where(
                PostmortemRow.channel_id == from_channel,
                PostmortemRow.state == State.AWAITING_OWNER.value,
            )
        result = self._session.execute(
            statement.values(
                channel_id=channel_id, open_channel_lock=None, opened_at=at, updated_at=at
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def set_candidates(
        self, *, postmortem_id: int, candidates: Sequence[Candidate], at: datetime
    ) -> bool:
        """Offer ``candidates`` instead, while nobody owns it; False once someone does."""
        result = self._session.execute(
            _update(PostmortemRow)
            .where(
                PostmortemRow.id == postmortem_id,
                PostmortemRow.state == State.AWAITING_OWNER.value,
            )
            .values(candidates=[_candidate_to_json(c) for c in candidates], updated_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def correct_details(self, *, postmortem_id: int, details: Details, at: datetime) -> bool:
        """Store corrected details; False if it was cancelled meanwhile."""
        result = self._session.execute(
            _update(PostmortemRow)
            .where(
                PostmortemRow.id == postmortem_id,
                PostmortemRow.state != State.CANCELLED.value,
            )
            .values(
                title=details.title,
                severity=details.severity,
                resolved_at=details.resolved_at,
                false_alarm=details.false_alarm,
                updated_at=at,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def record_prompt(self, *, postmortem_id: int, ts: str) -> None:
        self._session.execute(_RECORD_PROMPT, {"postmortem_id": postmortem_id, "ts": ts})


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def record(
        self,
        *,
        postmortem_id: int,
        at: datetime,
        actor: str,
        action: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        self._session.execute(
            insert(_AUDIT_TABLE),
            [
                {
                    "postmortem_id": postmortem_id,
                    "at": at,
                    "actor": actor,
                    "action": action,
                    "details": details or {},
                }
            ],
        )

    def for_postmortem(self, postmortem_id: int) -> list[AuditEventRow]:
        return list(
            self._session.scalars(
                select(AuditEventRow)
                .where(AuditEventRow.postmortem_id == postmortem_id)
                .order_by(AuditEventRow.id)
            )
        )


@dataclass(frozen=True)
class OutboxItem:
    id: int
    postmortem_id: int | None
    kind: MessageKind
    channel_id: str
    recipient: str | None
    params: dict[str, Any]
    attempts: int
    due_at: datetime
    created_at: datetime


def _item(row: OutboxRow) -> OutboxItem:
    return OutboxItem(
        id=row.id,
        postmortem_id=row.postmortem_id,
        kind=MessageKind(row.kind),
        channel_id=row.channel_id,
        recipient=row.recipient,
        params=dict(row.params or {}),
        attempts=row.attempts,
        due_at=row.due_at,
        created_at=row.created_at,
    )


class OutboxRepository:
    def __init__(self, session: Session) -> None:
        self._session = session
        self.earliest_added: datetime | None = None

    def add(
        self,
        *,
        postmortem_id: int | None,
        channel_id: str,
        planned: PlannedMessage,
        now: datetime,
    ) -> None:
        self.add_all(postmortem_id=postmortem_id, channel_id=channel_id, planned=[planned], now=now)

    def add_all(
        self,
        *,
        postmortem_id: int | None,
        channel_id: str,
        planned: Sequence[PlannedMessage],
        now: datetime,
    ) -> None:
        """Queue messages in one multi-row INSERT (the caller's transaction sends them)."""
        if not planned:
            return
        self._session.execute(
            insert(_OUTBOX_TABLE),
            [
                {
                    "postmortem_id": postmortem_id,
                    "kind": message.kind.value,
                    "channel_id": channel_id,
                    "recipient": message.recipient,
                    "params": dict(message.params),
                    "status": "pending",
                    "due_at": message.due_at,
                    "created_at": now,
                    "attempts": 0,
                }
                for message in planned
            ],
        )
        earliest = min(message.due_at for message in planned)
        if self.earliest_added is None or earliest < self.earliest_added:
            self.earliest_added = earliest

    def claim_due(
        self, *, now: datetime, worker: str, lease: timedelta, limit: int
    ) -> list[OutboxItem]:
        """Lease up to ``limit`` due rows to ``worker``; no two workers get the same row."""
        due = (
            select(OutboxRow.id)
            .where(
                OutboxRow.status == "pending",
                OutboxRow.due_at <= now,
                _unclaimed(now),
            )
            .order_by(OutboxRow.due_at, OutboxRow.id)
            .limit(limit)
        )
        if self._session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        # On SQLite the whole UPDATE runs under the writer lock taken by BEGIN IMMEDIATE.
        rows = self._session.scalars(
            _update(OutboxRow)
            .where(OutboxRow.id.in_(due.scalar_subquery()))
            .values(
                lease_owner=worker,
                lease_expires_at=now + lease,
                attempts=OutboxRow.attempts + 1,
            )
            .returning(OutboxRow),
            execution_options={"populate_existing": True},
        ).all()
        return sorted((_item(r) for r in rows), key=lambda i: (i.due_at, i.id))

    def renew_leases(
        self,
        *,
        item_ids: Sequence[int],
        worker: str,
        until: datetime,
        posted: Collection[int] = (),
    ) -> set[int]:
        """Hold ``worker``'s claim on these rows until ``until``; the ids it still held.

        A row in ``posted`` (Slack has it; not recorded yet) stays held even if a service
        cancelled it meanwhile: its record must say it was sent. Any other row a service
        cancelled under this claim is let go of (it will not be sent), so that "cancelled
        with a live lease" keeps meaning "cancelled while it was being posted".
        """
        if not item_ids:
            return set()
        held = set(
            self._session.scalars(
                _update(OutboxRow)
                .where(
                    OutboxRow.id.in_(item_ids),
                    OutboxRow.lease_owner == worker,
                    or_(
                        OutboxRow.status == "pending",
                        and_(OutboxRow.status == "cancelled", OutboxRow.id.in_(list(posted))),
                    ),
                )
                .values(lease_expires_at=until)
                .returning(OutboxRow.id)
            )
        )
        if not_held := [i for i in item_ids if i not in held]:
            self._session.execute(
                _update(OutboxRow)
                .where(OutboxRow.id.in_(not_held), OutboxRow.lease_owner == worker)
                .values(lease_owner=None, lease_expires_at=None)
            )
        return held

    def _finish(self, item_id: int, worker: str, **values: Any) -> bool:
        result = self._session.execute(
            _update(OutboxRow)
            .where(
                and_(
                    OutboxRow.id == item_id,
                    OutboxRow.lease_owner == worker,
                    OutboxRow.status == "pending",
                )
            )
            .values(lease_owner=None, lease_expires_at=None, **values)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            return True
        # A service cancelled it under this lease: let go, so that "cancelled and leased"
        # keeps meaning "cancelled while being posted" (see _MARK_SENT_THOUGH_CANCELLED).
        self._session.execute(_LET_GO, {"item_id": item_id, "worker": worker})
        return False

    def mark_sent(self, *, item_id: int, worker: str, ts: str | None, at: datetime) -> Recorded:
        # The hottest write of all (once per message): a prepared Core statement, and a second
        # one only in the rare case that the first finds the row cancelled meanwhile.
        values = {"item_id": item_id, "worker": worker, "ts": ts, "at": at}
        if self._session.execute(_MARK_SENT, values).rowcount:  # type: ignore[attr-defined]
            return Recorded.SENT
        if self._session.execute(_MARK_SENT_THOUGH_CANCELLED, values).rowcount:  # type: ignore[attr-defined]
            return Recorded.SENT_THOUGH_ITS_REASON_WENT
        return Recorded.LEASE_LOST

    def still_to_send(self, *, item_id: int, worker: str) -> bool:
        """Whether this dispatcher still holds the row and it is still to be sent.

        A service may have cancelled it since the batch was claimed (its reason went: an
        owner picked, a snooze, a move), or the lease ran out and another dispatcher took
        it. A row cancelled under this dispatcher's lease is let go of here, so that
        "cancelled and leased" only ever means "cancelled while being posted".
        """
        row = self._session.execute(_HOLDER, {"item_id": item_id}).first()
        if row is None or row.lease_owner != worker:
            return False
        if row.status == "pending":
            return True
        self._session.execute(_LET_GO, {"item_id": item_id, "worker": worker})
        return False

    def mark_cancelled(self, *, item_id: int, worker: str, reason: str) -> bool:
        return self._finish(item_id, worker, status="cancelled", last_error=reason)

    def mark_dead(self, *, item_id: int, worker: str, error: str) -> bool:
        return self._finish(item_id, worker, status="dead", last_error=error)

    def postpone(self, *, item_id: int, worker: str, until: datetime, error: str | None) -> bool:
        """A delivery attempt failed: try again at ``until`` (the claim counted as an attempt)."""
        return self._finish(item_id, worker, due_at=until, last_error=error)

    def defer(self, *, item_id: int, worker: str, until: datetime, reason: str | None) -> bool:
        """Nothing was tried (working hours, a rate limit, a prompt in flight): wait until
        ``until`` without the claim counting as an attempt, so waiting never uses up the
        attempts a message has for real failures."""
        return self._finish(
            item_id, worker, due_at=until, last_error=reason, attempts=OutboxRow.attempts - 1
        )

    def cancel_pending(
        self,
        *,
        postmortem_id: int,
        kinds: Sequence[MessageKind],
        due_before: datetime | None = None,
        reason: str = "reason gone",
        unclaimed_at: datetime | None = None,
        keep_snoozed: bool = False,
    ) -> int:
        """Cancel this postmortem's pending messages of these kinds (with ``unclaimed_at``:
        not those a dispatcher holds then, which it re-checks as it sends them; with
        ``keep_snoozed``: not the copies someone snoozed)."""
        statement = self._pending(postmortem_id, kinds)
        if due_before is not None:
            statement = statement.where(OutboxRow.due_at < due_before)
        if unclaimed_at is not None:
            statement = statement.where(_unclaimed(unclaimed_at))
        if keep_snoozed:
            statement = statement.where(OutboxRow.params[SNOOZED].as_string().is_(None))
        result = self._session.execute(statement.values(status="cancelled", last_error=reason))
        return int(result.rowcount)  # type: ignore[attr-defined]

    def reassign(
        self,
        *,
        postmortem_id: int,
        from_recipient: str,
        to_recipient: str,
        kinds: Sequence[MessageKind],
    ) -> int:
        """Pending messages of these kinds addressed to one person go to another instead."""
        result = self._session.execute(
            self._pending(postmortem_id, kinds)
            .where(OutboxRow.recipient == from_recipient)
            .values(recipient=to_recipient)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def move_pending(
        self, *, postmortem_id: int, kinds: Sequence[MessageKind], to_channel: str
    ) -> int:
        """Pending messages of these kinds go to another channel instead."""
        result = self._session.execute(
            self._pending(postmortem_id, kinds).values(channel_id=to_channel)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def cancel_pending_for_item(
        self, *, postmortem_id: int, number: int, kinds: Sequence[MessageKind], reason: str
    ) -> int:
        """Cancel the pending messages of these kinds about action item ``number``."""
        result = self._session.execute(
            self._pending(postmortem_id, kinds)
            .where(OutboxRow.params["number"].as_string() == str(number))
            .values(status="cancelled", last_error=reason)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def posted_about_items(
        self, *, postmortem_id: int, numbers: Sequence[int], kinds: Sequence[MessageKind]
    ) -> list[PostedReminder]:
        """The messages of these kinds about these action items that Slack took."""
        rows = self._session.execute(
            select(OutboxRow.channel_id, OutboxRow.slack_ts, OutboxRow.recipient)
            .where(
                OutboxRow.postmortem_id == postmortem_id,
                OutboxRow.status.in_(_REACHED_SLACK),
                OutboxRow.slack_ts.is_not(None),
                OutboxRow.kind.in_([k.value for k in kinds]),
                OutboxRow.params["number"].as_string().in_([str(n) for n in numbers]),
            )
            .order_by(OutboxRow.id)
        )
        return [PostedReminder(channel, str(ts), owner) for channel, ts, owner in rows]

    def about_items_in_flight(
        self,
        *,
        postmortem_id: int,
        numbers: Sequence[int],
        kinds: Sequence[MessageKind],
        now: datetime,
        other_than_worker: str,
    ) -> bool:
        """Whether another dispatcher is posting a message of these kinds about these items
        ``now`` (pending, or cancelled while it was posted): its ts is not recorded yet."""
        found = self._session.scalars(
            select(OutboxRow.id)
            .where(
                OutboxRow.postmortem_id == postmortem_id,
                OutboxRow.status.in_(_MAYBE_IN_FLIGHT),
                ~_unclaimed(now),
                OutboxRow.lease_owner != other_than_worker,
                OutboxRow.kind.in_([k.value for k in kinds]),
                OutboxRow.params["number"].as_string().in_([str(n) for n in numbers]),
            )
            .limit(1)
        ).first()
        return found is not None

    @staticmethod
    def _pending(postmortem_id: int, kinds: Sequence[MessageKind]) -> Any:
        """An UPDATE of this postmortem's pending messages of these kinds."""
        return _update(OutboxRow).where(
            OutboxRow.postmortem_id == postmortem_id,
            OutboxRow.status == "pending",
            OutboxRow.kind.in_([k.value for k in kinds]),
        )

    def mark_snoozed(self, *, item_id: int) -> OutboxItem | None:
        """A sent nudge becomes "snoozed" once; None if it is unknown, unsent or snoozed already."""
        row = self._session.scalars(
            _update(OutboxRow)
            .where(OutboxRow.id == item_id, OutboxRow.status == "sent")
            .values(status="snoozed")
            .returning(OutboxRow),
            execution_options={"populate_existing": True},
        ).one_or_none()
        return None if row is None else _item(row)

    def pending_kinds_for(self, postmortem_id: int, *, due_by: datetime | None = None) -> set[str]:
        """The kinds of message still waiting to be sent for this postmortem (with
        ``due_by``: only those due by then)."""
        query = select(OutboxRow.kind).where(
            OutboxRow.postmortem_id == postmortem_id, OutboxRow.status == "pending"
        )
        if due_by is not None:
            query = query.where(OutboxRow.due_at <= due_by)
        return set(self._session.scalars(query.distinct()))

    def waiting(self, *, postmortem_id: int, kind: MessageKind, now: datetime) -> list[OutboxItem]:
        """This postmortem's messages of ``kind`` still waiting to be sent, and not being sent
        at ``now`` (a dispatcher's live lease: it may be reaching Slack), oldest first."""
        rows = self._session.scalars(
            select(OutboxRow)
            .where(
                OutboxRow.postmortem_id == postmortem_id,
                OutboxRow.kind == kind.value,
                OutboxRow.status == "pending",
                _unclaimed(now),
            )
            .order_by(OutboxRow.id)
        )
        return [_item(row) for row in rows]

    def first_pending_due(self, *, postmortem_id: int, kind: MessageKind) -> datetime | None:
        """When the first message of ``kind`` still waiting for this postmortem is due."""
        return self._session.scalar(
            select(func.min(OutboxRow.due_at)).where(
                OutboxRow.postmortem_id == postmortem_id,
                OutboxRow.kind == kind.value,
                OutboxRow.status == "pending",
            )
        )

    def count_sent(self, *, postmortem_id: int, kind: MessageKind) -> int:
        """How many messages of ``kind`` about this postmortem reached Slack (snoozed
        copies are not counted: they repeat one that did)."""
        return int(
            self._session.scalar(
                select(func.count()).where(
                    OutboxRow.postmortem_id == postmortem_id,
                    OutboxRow.kind == kind.value,
                    OutboxRow.status.in_(_REACHED_SLACK),
                    OutboxRow.params[SNOOZED].as_string().is_(None),
                )
            )
            or 0
        )

    def last_heard(
        self, *, postmortem_id: int, kind: MessageKind, now: datetime
    ) -> dict[str, Any] | None:
        """The params of the last message of ``kind`` about this postmortem that reached
        Slack, or that a dispatcher is sending at ``now``; None if there is none."""
        return self._session.scalars(
            select(OutboxRow.params)
            .where(*_heard_or_in_flight(postmortem_id, kind, now))
            .order_by(OutboxRow.id.desc())
            .limit(1)
        ).first()

    def delivered_or_in_flight(
        self, *, postmortem_id: int, kind: MessageKind, now: datetime
    ) -> bool:
        """Whether a message of ``kind`` about this postmortem reached Slack (or was snoozed
        there), or is held by a dispatcher sending it ``now``."""
        found = self._session.scalars(
            select(OutboxRow.id).where(*_heard_or_in_flight(postmortem_id, kind, now)).limit(1)
        ).first()
        return found is not None

    def heard_or_in_flight_ids(
        self, *, postmortem_id: int, kind: MessageKind, now: datetime
    ) -> list[int]:
        """The ids of this postmortem's messages of ``kind`` that reached Slack (or were
        snoozed there), or that a dispatcher holds at ``now``, sending them; oldest first."""
        return list(
            self._session.scalars(
                select(OutboxRow.id)
                .where(*_heard_or_in_flight(postmortem_id, kind, now))
                .order_by(OutboxRow.id)
            )
        )

    def params_by_id(self, *, postmortem_id: int, kind: MessageKind) -> dict[int, dict[str, Any]]:
        """The params of this postmortem's messages of ``kind`` by their ids, oldest first,
        whatever became of them."""
        rows = self._session.execute(
            select(OutboxRow.id, OutboxRow.params)
            .where(OutboxRow.postmortem_id == postmortem_id, OutboxRow.kind == kind.value)
            .order_by(OutboxRow.id)
        )
        return {item_id: dict(params or {}) for item_id, params in rows}

    def posted(self, *, item_ids: Sequence[int]) -> list[PostedReminder]:
        """Where these messages are, for those Slack took: their channel and ts (and whom
        each was addressed to, and its id), oldest first."""
        if not item_ids:
            return []
        rows = self._session.execute(
            select(OutboxRow.channel_id, OutboxRow.slack_ts, OutboxRow.recipient, OutboxRow.id)
            .where(
                OutboxRow.id.in_(list(item_ids)),
                OutboxRow.status.in_(_REACHED_SLACK),
                OutboxRow.slack_ts.is_not(None),
            )
            .order_by(OutboxRow.id)
        )
        return [
            PostedReminder(channel, str(ts), person, item_id)
            for channel, ts, person, item_id in rows
        ]

    def in_flight(self, *, item_ids: Sequence[int], now: datetime, other_than_worker: str) -> bool:
        """Whether another dispatcher is posting one of these messages ``now`` (pending, or
        cancelled while it was posted): its ts is not recorded yet."""
        if not item_ids:
            return False
        found = self._session.scalars(
            select(OutboxRow.id)
            .where(
                OutboxRow.id.in_(list(item_ids)),
                OutboxRow.status.in_(_MAYBE_IN_FLIGHT),
                ~_unclaimed(now),
                OutboxRow.lease_owner != other_than_worker,
            )
            .limit(1)
        ).first()
        return found is not None

    def has_other_pending(self, *, postmortem_id: int, kind: MessageKind, other_than: int) -> bool:
        """Whether another row of ``kind`` waits to be sent for this postmortem."""
        found = self._session.scalars(
            select(OutboxRow.id)
            .where(
                OutboxRow.postmortem_id == postmortem_id,
                OutboxRow.kind == kind.value,
                OutboxRow.status == "pending",
                OutboxRow.id != other_than,
            )
            .limit(1)
        ).first()
        return found is not None

    def dead_for(self, postmortem_id: int) -> list[OutboxRow]:
        return self.dead_for_many([postmortem_id])

    def dead_for_many(self, postmortem_ids: Sequence[int]) -> list[OutboxRow]:
        """The messages of these postmortems that Slack refused for good, in one query."""
        if not postmortem_ids:
            return []
        return list(
            self._session.scalars(
                select(OutboxRow)
                .where(OutboxRow.postmortem_id.in_(postmortem_ids), OutboxRow.status == "dead")
                .order_by(OutboxRow.id)
            )
        )

    def pending_kinds_for_many(self, postmortem_ids: Sequence[int]) -> dict[int, set[str]]:
        """For each of these postmortems, the kinds of message still waiting to be sent."""
        kinds: dict[int, set[str]] = {pid: set() for pid in postmortem_ids}
        if not postmortem_ids:
            return kinds
        rows = self._session.execute(
            select(OutboxRow.postmortem_id, OutboxRow.kind)
            .where(OutboxRow.postmortem_id.in_(postmortem_ids), OutboxRow.status == "pending")
            .distinct()
        )
        for postmortem_id, kind in rows:
            kinds.setdefault(cast(int, postmortem_id), set()).add(kind)
        return kinds


class DeliveryRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def first_time(self, *, source: str, delivery_id: str, now: datetime) -> bool:
        """Record a delivery; False when this source already delivered this id."""
        statement = (
            _insert_ignoring_conflicts(self._session, ProcessedDeliveryRow)
            .values(source=source, delivery_id=delivery_id, received_at=now)
            .returning(ProcessedDeliveryRow.id)
        )
        return self._session.execute(statement).scalar_one_or_none() is not None
