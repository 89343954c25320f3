"""The unit of work: one transaction per use case, and a wake-up for the dispatcher after it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from bot.persistence.documents import ActionItemRepository, DocumentRepository
from bot.persistence.incident_events import IncidentEventRepository
from bot.persistence.repositories import (
    AuditRepository,
    DeliveryRepository,
    OutboxRepository,
    PostmortemRepository,
)

log = logging.getLogger(__name__)


class UnitOfWork:
    """``with uow: …; uow.commit()`` — anything not committed is rolled back on exit."""

    postmortems: PostmortemRepository
    audit: AuditRepository
    outbox: OutboxRepository
    deliveries: DeliveryRepository
    incident_events: IncidentEventRepository
    documents: DocumentRepository
    action_items: ActionItemRepository

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        on_outbox_due: Callable[[datetime], None] | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._on_outbox_due = on_outbox_due

    def __enter__(self) -> UnitOfWork:
        self._session = self._session_factory()
        self.postmortems = PostmortemRepository(self._session)
        self.audit = AuditRepository(self._session)
        self.outbox = OutboxRepository(self._session)
        self.deliveries = DeliveryRepository(self._session)
        self.incident_events = IncidentEventRepository(self._session)
        self.documents = DocumentRepository(self._session)
        self.action_items = ActionItemRepository(self._session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._session.rollback()
        self._session.close()

    def commit(self) -> None:
        self._session.commit()
        earliest = self.outbox.earliest_added
        self.outbox.earliest_added = None
        if earliest is not None and self._on_outbox_due is not None:
            try:
                self._on_outbox_due(earliest)
            except Exception:
                # The rows are committed; the periodic job sends them if the wake-up fails.
                # Raising here would make a committed change look failed to its caller.
                log.exception("waking the outbox pump failed")

    def rollback(self) -> None:
        self._session.rollback()


UnitOfWorkFactory = Callable[[], UnitOfWork]
