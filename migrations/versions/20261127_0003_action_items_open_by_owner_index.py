"""index one person's open action items

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('action_items', schema=None) as batch_op:
        batch_op.create_index(
            'ix_action_items_open_by_owner',
            ['owner_id', 'due_on'],
            unique=False,
            postgresql_where=sa.text('done_at IS NULL'),
            sqlite_where=sa.text('done_at IS NULL'),
        )


def downgrade() -> None:
    with op.batch_alter_table('action_items', schema=None) as batch_op:
        batch_op.drop_index(
            'ix_action_items_open_by_owner',
            postgresql_where=sa.text('done_at IS NULL'),
            sqlite_where=sa.text('done_at IS NULL'),
        )
