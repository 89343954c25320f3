"""The database tables. Migrations in ``migrations/`` must match these (``alembic check``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names so migrations are reproducible on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware UTC time")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class PostmortemRow(Base):
    __tablename__ = "postmortems"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_key: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(40))
    # NULL means "unrouted": stored and visible in status, waiting for a channel.
    channel_id: Mapped[str | None] = mapped_column(String(40), index=True)
    # Set to the channel while a slash-command postmortem is open, so the database itself
    # refuses a second concurrent `/postmortem start` in one channel.
    open_channel_lock: Mapped[str | None] = mapped_column(String(40), unique=True)
    state: Mapped[str] = mapped_column(String(30))
    severity: Mapped[str | None] = mapped_column(String(40))
    false_alarm: Mapped[bool] = mapped_column(default=False)
    service: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime]
    opened_at: Mapped[datetime]
    opened_by: Mapped[str] = mapped_column(String(64))
    candidates: Mapped[list[Any]] = mapped_column(default=list)
    notes: Mapped[list[Any]] = mapped_column(default=list)
    owner_id: Mapped[str | None] = mapped_column(String(40))
    owner_assigned_by: Mapped[str | None] = mapped_column(String(40))
    owner_assigned_at: Mapped[datetime | None]
    prompt_ts: Mapped[str | None] = mapped_column(String(40))
    meeting_at: Mapped[datetime | None]
    # Why the meeting is later than the deadline, when the scheduler gave a reason.
    meeting_justification: Mapped[str | None] = mapped_column(Text)
    meeting_participants: Mapped[list[Any]] = mapped_column(default=list)
    meeting_held_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class AuditEventRow(Base):
    """Who did what to which postmortem, and when: never updated, never deleted."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    postmortem_id: Mapped[int] = mapped_column(ForeignKey("postmortems.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class OutboxRow(Base):
    """A message to Slack, written in the transaction that caused it; sent by the dispatcher."""

    __tablename__ = "outbox"
    __table_args__ = (
        # The dispatcher only ever looks at pending rows by due time: keep that index small
        # however much history accumulates.
        Index(
            "ix_outbox_pending_due",
            "due_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    postmortem_id: Mapped[int | None] = mapped_column(ForeignKey("postmortems.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    channel_id: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str | None] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(80))
    lease_expires_at: Mapped[datetime | None]
    slack_ts: Mapped[str | None] = mapped_column(String(40))
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class ProcessedDeliveryRow(Base):
    """Deliveries already handled (Slack event ids, webhook ids): a retry is recognised."""

    __tablename__ = "processed_deliveries"
    __table_args__ = (UniqueConstraint("source", "delivery_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    delivery_id: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime]


class IncidentEventRow(Base):
    """Every incident event a tool told us about (PagerDuty triggered, acknowledged, …).

    Kept so the owner prompt can show evidence for each owner criterion.
    """

    __tablename__ = "incident_events"
    __table_args__ = (Index("ix_incident_events_incident", "source", "incident_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    incident_id: Mapped[str] = mapped_column(String(200))
    event_id: Mapped[str | None] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(80))
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime]
    agent_type: Mapped[str | None] = mapped_column(String(80))
    agent_id: Mapped[str | None] = mapped_column(String(80))
    agent_name: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DocumentRow(Base):
    """The postmortem document: one per postmortem, its sections written collaboratively."""

    __tablename__ = "postmortem_documents"

    postmortem_id: Mapped[int] = mapped_column(ForeignKey("postmortems.id"), primary_key=True)
    # {section: text}; only sections someone wrote are present.
    sections: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class ActionItemRow(Base):
    """A step that keeps the incident from happening again: one owner, one due date."""

    __tablename__ = "action_items"
    __table_args__ = (
        UniqueConstraint("postmortem_id", "number"),
        # `/postmortem action mine`: one person's open items, soonest due first.
        Index(
            "ix_action_items_open_by_owner",
            "owner_id",
            "due_on",
            postgresql_where=text("done_at IS NULL"),
            sqlite_where=text("done_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    postmortem_id: Mapped[int] = mapped_column(ForeignKey("postmortems.id"))
    # 1, 2, … within the postmortem: what people call it ("action item 2").
    number: Mapped[int]
    text: Mapped[str] = mapped_column(String(300))
    owner_id: Mapped[str] = mapped_column(String(40))
    due_on: Mapped[date] = mapped_column(Date)
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime]
    # Closed by whom and when: done, or dropped (no longer needed) when drop_reason is set.
    done_by: Mapped[str | None] = mapped_column(String(64))
    done_at: Mapped[datetime | None]
    drop_reason: Mapped[str | None] = mapped_column(Text)
