"""notices sent and days late

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 21:20:05.831515
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fees", schema=None) as batch_op:
        batch_op.add_column(sa.Column("days_late", sa.Integer(), nullable=True))

    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "pickup_reminder_sent", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )

    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_soon_notice_for", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "overdue_reminders_sent",
                sa.SmallInteger(),
                server_default=sa.text("0"),
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_column("overdue_reminders_sent")
        batch_op.drop_column("due_soon_notice_for")

    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.drop_column("pickup_reminder_sent")

    with op.batch_alter_table("fees", schema=None) as batch_op:
        batch_op.drop_column("days_late")
