"""deliveries: one row per notification of an outbox event on a channel to a target

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 22:23:06.604967
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_OPEN = "status IN ('pending', 'deferred', 'sending')"


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("event_id", _BIG_ID, nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("patron_id", _BIG_ID, nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("subscription_id", _BIG_ID, nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("message", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "channel IN ('push', 'sms', 'email')", name=op.f("ck_deliveries_channel")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'deferred', 'sending', 'sent', 'failed', 'skipped')",
            name=op.f("ck_deliveries_status"),
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_deliveries_attempts_not_negative")),
        sa.ForeignKeyConstraint(
            ["patron_id"],
            ["patrons.id"],
            name=op.f("fk_deliveries_patron_id_patrons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["push_subscriptions.id"],
            name=op.f("fk_deliveries_subscription_id_push_subscriptions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("key", name=op.f("uq_deliveries_key")),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deliveries_due",
            ["next_attempt_at"],
            unique=False,
            sqlite_where=sa.text(_OPEN),
            postgresql_where=sa.text(_OPEN),
        )
        batch_op.create_index(batch_op.f("ix_deliveries_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deliveries_patron_id"), ["patron_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_deliveries_subscription_id"), ["subscription_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_subscription_id"))
        batch_op.drop_index(batch_op.f("ix_deliveries_patron_id"))
        batch_op.drop_index(batch_op.f("ix_deliveries_event_id"))
        batch_op.drop_index("ix_deliveries_due")
    op.drop_table("deliveries")
