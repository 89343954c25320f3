"""The postmortem document and its action items, as stored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Update, func, select, update
from sqlalchemy.orm import Session

from bot.domain.document import ActionItem, Document, Section
from bot.persistence.tables import ActionItemRow, DocumentRow


def _document(row: DocumentRow) -> Document:
    stored: dict[str, Any] = row.sections or {}
    return Document(
        postmortem_id=row.postmortem_id,
        sections={s: str(stored[s.value]) for s in Section if stored.get(s.value)},
        started_by=row.started_by,
        started_at=row.started_at,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def _action_item(row: ActionItemRow) -> ActionItem:
    return ActionItem(
        number=row.number,
        text=row.text,
        owner_id=row.owner_id,
        due_on=row.due_on,
        added_by=row.added_by,
        added_at=row.added_at,
        done_by=row.done_by,
        done_at=row.done_at,
        drop_reason=row.drop_reason,
    )


class DocumentRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, postmortem_id: int) -> Document | None:
        row = self._session.get(DocumentRow, postmortem_id)
        return None if row is None else _document(row)

    def get_many(self, postmortem_ids: Sequence[int]) -> dict[int, Document]:
        if not postmortem_ids:
            return {}
        rows = self._session.scalars(
            select(DocumentRow).where(DocumentRow.postmortem_id.in_(postmortem_ids))
        )
        return {row.postmortem_id: _document(row) for row in rows}

    def save(
        self, *, postmortem_id: int, changed: Mapping[Section, str], by: str, at: datetime
    ) -> Document:
        """Write ``changed`` over the stored sections (an empty text removes one).

        The caller holds the postmortem's row (``get_for_update``), so two saves never
        interleave between this read and its write.
        """
        row = self._session.get(DocumentRow, postmortem_id)
        if row is None:
            row = DocumentRow(
                postmortem_id=postmortem_id,
                sections={},
                started_by=by,
                started_at=at,
                updated_by=by,
                updated_at=at,
            )
            self._session.add(row)
        sections = dict(row.sections or {})
        for section, text in changed.items():
            if text:
                sections[section.value] = text
            else:
                sections.pop(section.value, None)
        row.sections = sections  # a new dict: JSON columns only notice assignment
        row.updated_by = by
        row.updated_at = at
        self._session.flush()
        return _document(row)


class ActionItemRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def for_postmortem(self, postmortem_id: int) -> list[ActionItem]:
        rows = self._session.scalars(
            select(ActionItemRow)
            .where(ActionItemRow.postmortem_id == postmortem_id)
            .order_by(ActionItemRow.number)
        )
        return [_action_item(row) for row in rows]

    def for_postmortems(self, postmortem_ids: Sequence[int]) -> dict[int, list[ActionItem]]:
        if not postmortem_ids:
            return {}
        rows = self._session.scalars(
            select(ActionItemRow)
            .where(ActionItemRow.postmortem_id.in_(postmortem_ids))
            .order_by(ActionItemRow.postmortem_id, ActionItemRow.number)
        )
        found: dict[int, list[ActionItem]] = {}
        for row in rows:
            found.setdefault(row.postmortem_id, []).append(_action_item(row))
        return found

    def open_for_owner(
        self, owner_id: str, *, limit: int
    ) -> tuple[list[tuple[int, ActionItem]], int]:
        """Up to ``limit`` of one person's open items, in any postmortem, soonest due first
        (as ``(postmortem id, item)``), and how many they have open in all."""
        mine = (ActionItemRow.owner_id == owner_id, ActionItemRow.done_at.is_(None))
        rows = self._session.scalars(
            select(ActionItemRow)
            .where(*mine)
            .order_by(ActionItemRow.due_on, ActionItemRow.postmortem_id, ActionItemRow.number)
            .limit(limit)
        )
        listed = [(row.postmortem_id, _action_item(row)) for row in rows]
        total = self._session.scalar(select(func.count()).select_from(ActionItemRow).where(*mine))
        return listed, int(total or 0)

    def highest_number(self, postmortem_id: int) -> int:
        """The last item's number (0: none yet). Items are numbered 1, 2, … and never
        deleted, so this is also how many there are."""
        highest = self._session.scalar(
            select(func.max(ActionItemRow.number)).where(
                ActionItemRow.postmortem_id == postmortem_id
            )
        )
        return int(highest or 0)

    def get(
        self, *, postmortem_id: int, number: int, for_update: bool = False
    ) -> ActionItem | None:
        """Item ``number``; ``for_update`` holds its row until commit (PostgreSQL; SQLite's
        writers take turns anyway), so what is read is what the caller's change starts from."""
        statement = select(ActionItemRow).where(
            ActionItemRow.postmortem_id == postmortem_id, ActionItemRow.number == number
        )
        if for_update:
            statement = statement.with_for_update()
        row = self._session.scalars(statement).one_or_none()
        return None if row is None else _action_item(row)

    def mark_done(
        self,
        *,
        postmortem_id: int,
        number: int,
        by: str,
        at: datetime,
        drop_reason: str | None = None,
    ) -> bool:
        """True if this marked it done (or, with ``drop_reason``, dropped: closed without being
        done); False if it was closed already (or is no item)."""
        result = self._session.execute(
            _update_open_item(postmortem_id, number)
            .values(done_by=by, done_at=at, drop_reason=drop_reason)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    def change(
        self,
        *,
        postmortem_id: int,
        number: int,
        due_on: date | None = None,
        owner_id: str | None = None,
    ) -> bool:
        """Give an open item a new due date and/or owner; False if it was closed meanwhile
        (or is no item)."""
        values: dict[str, object] = {}
        if due_on is not None:
            values["due_on"] = due_on
        if owner_id is not None:
            values["owner_id"] = owner_id
        result = self._session.execute(
            _update_open_item(postmortem_id, number)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    def drop_open(self, *, postmortem_id: int, by: str, at: datetime, reason: str) -> list[int]:
        """Drop every open item of a postmortem (it was cancelled); the numbers of those
        dropped."""
        numbers = self._session.scalars(
            update(ActionItemRow)
            .where(ActionItemRow.postmortem_id == postmortem_id, ActionItemRow.done_at.is_(None))
            .values(done_by=by, done_at=at, drop_reason=reason)
            .returning(ActionItemRow.number)
            .execution_options(synchronize_session=False)
        )
        return sorted(numbers)

    def add(
        self,
        *,
        postmortem_id: int,
        number: int,
        text: str,
        owner_id: str,
        due_on: date,
        by: str,
        at: datetime,
    ) -> ActionItem:
        """Item ``number`` of the postmortem: the next after ``highest_number``, read while
        the caller holds the postmortem's row, so no number is taken twice."""
        row = ActionItemRow(
            postmortem_id=postmortem_id,
            number=number,
            text=text,
            owner_id=owner_id,
            due_on=due_on,
            added_by=by,
            added_at=at,
        )
        self._session.add(row)
        self._session.flush()
        return _action_item(row)


def _update_open_item(postmortem_id: int, number: int) -> Update:
    """An UPDATE of item ``number`` that changes nothing once it is closed: whoever closes or
    changes it first wins, and the other is told."""
    return update(ActionItemRow).where(
        ActionItemRow.postmortem_id == postmortem_id,
        ActionItemRow.number == number,
        ActionItemRow.done_at.is_(None),
    )
