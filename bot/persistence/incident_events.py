"""Incident events as a tool reported them (PagerDuty triggered, acknowledged, …)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.persistence.tables import IncidentEventRow


@dataclass(frozen=True)
class StoredIncidentEvent:
    event_type: str
    occurred_at: datetime
    event_id: str | None = None
    agent_type: str | None = None
    agent_id: str | None = None
    agent_name: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


class IncidentEventRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(
        self,
        *,
        source: str,
        incident_id: str,
        event: StoredIncidentEvent,
        received_at: datetime,
    ) -> None:
        self._session.add(
            IncidentEventRow(
                source=source,
                incident_id=incident_id,
                event_id=event.event_id,
                event_type=event.event_type,
                occurred_at=event.occurred_at,
                received_at=received_at,
                agent_type=event.agent_type,
                agent_id=event.agent_id,
                agent_name=event.agent_name,
                data=dict(event.data),
            )
        )

    def for_incident(self, *, source: str, incident_id: str) -> list[StoredIncidentEvent]:
        """Every recorded event of one incident, in the order they happened."""
        rows = self._session.scalars(
            select(IncidentEventRow)
            .where(IncidentEventRow.source == source, IncidentEventRow.incident_id == incident_id)
            .order_by(IncidentEventRow.occurred_at, IncidentEventRow.id)
        )
        return [
            StoredIncidentEvent(
                event_type=r.event_type,
                occurred_at=r.occurred_at,
                event_id=r.event_id,
                agent_type=r.agent_type,
                agent_id=r.agent_id,
                agent_name=r.agent_name,
                data=dict(r.data or {}),
            )
            for r in rows
        ]
