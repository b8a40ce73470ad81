"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 21:10:36.510673
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "libraries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.CheckConstraint(
            "(lat IS NULL) = (lon IS NULL)", name=op.f("ck_libraries_location_whole")
        ),
        sa.CheckConstraint(
            "lat IS NULL OR (lat BETWEEN -90 AND 90)", name=op.f("ck_libraries_lat_range")
        ),
        sa.CheckConstraint(
            "lon IS NULL OR (lon BETWEEN -180 AND 180)", name=op.f("ck_libraries_lon_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_libraries")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_event_type_id", ["event_type", "id"], unique=False)

    op.create_table(
        "outbox_consumers",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column(
            "last_event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_outbox_consumers")),
    )
    op.create_table(
        "records",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("authors", sa.JSON(), nullable=False),
        sa.Column(
            "material_type",
            sa.Enum(
                "BOOK",
                "AUDIOBOOK",
                "PERIODICAL",
                "AUDIOVISUAL",
                "EBOOK",
                "KIT",
                "OTHER",
                name="material_type",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("language", sa.String(length=3), nullable=True),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column(
            "published_precision",
            sa.Enum(
                "YEAR",
                "MONTH",
                "DAY",
                name="date_precision",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column(
            "section",
            sa.Enum("ADULT", "CHILDREN", name="section", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("subjects", sa.JSON(), nullable=False),
        sa.Column("series", sa.Text(), nullable=True),
        sa.Column("latest_issue", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "(published_on IS NULL) = (published_precision IS NULL)",
            name=op.f("ck_records_published_whole"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records")),
    )
    op.create_table(
        "items",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("barcode", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("library_id", sa.String(length=32), nullable=False),
        sa.Column("location_library_id", sa.String(length=32), nullable=True),
        sa.Column("call_number", sa.String(length=100), nullable=True),
        sa.Column("loanable", sa.Boolean(), nullable=False),
        sa.Column(
            "loan_type",
            sa.Enum(
                "ORDINARY",
                "SHORT",
                "CONSULTATION",
                name="loan_type",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "AVAILABLE",
                "ON_LOAN",
                "IN_TRANSIT",
                "ON_HOLD_SHELF",
                "IN_QUARANTINE",
                "LOST",
                name="item_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("available_from", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["library_id"], ["libraries.id"], name=op.f("fk_items_library_id_libraries")
        ),
        sa.ForeignKeyConstraint(
            ["location_library_id"],
            ["libraries.id"],
            name=op.f("fk_items_location_library_id_libraries"),
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_items_record_id_records")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_items")),
        sa.UniqueConstraint("barcode", name=op.f("uq_items_barcode")),
    )
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_items_library_id"), ["library_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_items_record_id"), ["record_id"], unique=False)

    op.create_table(
        "library_closures",
        sa.Column("library_id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["libraries.id"],
            name=op.f("fk_library_closures_library_id_libraries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("library_id", "day", name=op.f("pk_library_closures")),
    )
    op.create_table(
        "library_hours",
        sa.Column("library_id", sa.String(length=32), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("opens", sa.Time(), nullable=False),
        sa.Column("closes", sa.Time(), nullable=False),
        sa.CheckConstraint("opens < closes", name=op.f("ck_library_hours_opens_before_closes")),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_library_hours_weekday_range")),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["libraries.id"],
            name=op.f("fk_library_hours_library_id_libraries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("library_id", "weekday", "opens", name=op.f("pk_library_hours")),
    )
    op.create_table(
        "patrons",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("card_number", sa.String(length=32), nullable=False),
        sa.Column("pin_hash", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("home_library_id", sa.String(length=32), nullable=False),
        sa.Column("preferred_pickup_library_id", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("registration_expires", sa.Date(), nullable=True),
        sa.Column(
            "role",
            sa.Enum("PATRON", "STAFF", name="role", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column(
            "standing",
            sa.Enum(
                "OK",
                "SUSPENDED",
                "REVOKED",
                "EXPIRED",
                name="standing_code",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "standing_source",
            sa.Enum(
                "AUTOMATIC",
                "STAFF",
                name="standing_source",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("standing_note", sa.Text(), nullable=True),
        sa.Column("standing_until", sa.Date(), nullable=True),
        sa.Column("notify_push", sa.Boolean(), nullable=False),
        sa.Column("notify_sms", sa.Boolean(), nullable=False),
        sa.Column("notify_email", sa.Boolean(), nullable=True),
        sa.Column("quiet_hours_start", sa.Time(), nullable=True),
        sa.Column("quiet_hours_end", sa.Time(), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.CheckConstraint(
            "(standing = 'OK') = (standing_source IS NULL)",
            name=op.f("ck_patrons_standing_source_when_blocked"),
        ),
        sa.CheckConstraint("language IN ('it', 'en')", name=op.f("ck_patrons_language")),
        sa.CheckConstraint(
            "standing IN ('OK', 'SUSPENDED', 'REVOKED')", name=op.f("ck_patrons_stored_standing")
        ),
        sa.CheckConstraint(
            "(quiet_hours_start IS NULL) = (quiet_hours_end IS NULL)",
            name=op.f("ck_patrons_quiet_hours_whole"),
        ),
        sa.ForeignKeyConstraint(
            ["home_library_id"], ["libraries.id"], name=op.f("fk_patrons_home_library_id_libraries")
        ),
        sa.ForeignKeyConstraint(
            ["preferred_pickup_library_id"],
            ["libraries.id"],
            name=op.f("fk_patrons_preferred_pickup_library_id_libraries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrons")),
        sa.UniqueConstraint("card_number", name=op.f("uq_patrons_card_number")),
    )
    op.create_table(
        "record_isbns",
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("isbn13", sa.String(length=13), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("length(isbn13) = 13", name=op.f("ck_record_isbns_isbn13_length")),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_record_isbns_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("record_id", "isbn13", name=op.f("pk_record_isbns")),
    )
    with op.batch_alter_table("record_isbns", schema=None) as batch_op:
        batch_op.create_index("ix_record_isbns_isbn13", ["isbn13"], unique=False)

    op.create_table(
        "holds",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "patron_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("pickup_library_id", sa.String(length=32), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "WAITING",
                "IN_TRANSIT",
                "READY",
                "EXPIRED",
                "CANCELLED",
                "FULFILLED",
                name="hold_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("suspended_until", sa.Date(), nullable=True),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pickup_deadline", sa.Date(), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("client_mutation_id", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "status <> 'READY' OR pickup_deadline IS NOT NULL",
            name=op.f("ck_holds_deadline_when_ready"),
        ),
        sa.CheckConstraint(
            "status NOT IN ('IN_TRANSIT', 'READY') OR item_id IS NOT NULL",
            name=op.f("ck_holds_item_when_set_aside"),
        ),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_holds_item_id_items")),
        sa.ForeignKeyConstraint(
            ["patron_id"], ["patrons.id"], name=op.f("fk_holds_patron_id_patrons")
        ),
        sa.ForeignKeyConstraint(
            ["pickup_library_id"],
            ["libraries.id"],
            name=op.f("fk_holds_pickup_library_id_libraries"),
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_holds_record_id_records")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holds")),
        sa.UniqueConstraint(
            "patron_id", "client_mutation_id", name=op.f("uq_holds_patron_id_client_mutation_id")
        ),
    )
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.create_index("ix_holds_patron_status", ["patron_id", "status"], unique=False)
        batch_op.create_index("ix_holds_record_queue", ["record_id", "status", "id"], unique=False)
        batch_op.create_index(
            "uq_holds_active_patron_record",
            ["patron_id", "record_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('WAITING', 'IN_TRANSIT', 'READY')"),
            postgresql_where=sa.text("status IN ('WAITING', 'IN_TRANSIT', 'READY')"),
        )
        batch_op.create_index(
            "uq_holds_item_set_aside",
            ["item_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('IN_TRANSIT', 'READY')"),
            postgresql_where=sa.text("status IN ('IN_TRANSIT', 'READY')"),
        )

    op.create_table(
        "loans",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "patron_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("library_id", sa.String(length=32), nullable=False),
        sa.Column("loaned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("renewals_used", sa.SmallInteger(), nullable=False),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("return_library_id", sa.String(length=32), nullable=True),
        sa.CheckConstraint(
            "(returned_at IS NULL) = (return_library_id IS NULL)",
            name=op.f("ck_loans_return_whole"),
        ),
        sa.CheckConstraint("renewals_used >= 0", name=op.f("ck_loans_renewals_used_not_negative")),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_loans_item_id_items")),
        sa.ForeignKeyConstraint(
            ["library_id"], ["libraries.id"], name=op.f("fk_loans_library_id_libraries")
        ),
        sa.ForeignKeyConstraint(
            ["patron_id"], ["patrons.id"], name=op.f("fk_loans_patron_id_patrons")
        ),
        sa.ForeignKeyConstraint(
            ["return_library_id"],
            ["libraries.id"],
            name=op.f("fk_loans_return_library_id_libraries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loans")),
    )
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.create_index(
            "ix_loans_open_by_due_date",
            ["due_date"],
            unique=False,
            sqlite_where=sa.text("returned_at IS NULL"),
            postgresql_where=sa.text("returned_at IS NULL"),
        )
        batch_op.create_index(
            "ix_loans_open_by_patron",
            ["patron_id"],
            unique=False,
            sqlite_where=sa.text("returned_at IS NULL"),
            postgresql_where=sa.text("returned_at IS NULL"),
        )
        batch_op.create_index(
            "ix_loans_patron_returned", ["patron_id", "returned_at"], unique=False
        )
        batch_op.create_index(
            "uq_loans_open_item",
            ["item_id"],
            unique=True,
            sqlite_where=sa.text("returned_at IS NULL"),
            postgresql_where=sa.text("returned_at IS NULL"),
        )

    op.create_table(
        "payments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "patron_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_payments_amount_positive")),
        sa.ForeignKeyConstraint(
            ["patron_id"], ["patrons.id"], name=op.f("fk_payments_patron_id_patrons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_patron_id"), ["patron_id"], unique=False)

    op.create_table(
        "push_subscriptions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "patron_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("endpoint", sa.String(length=1000), nullable=False),
        sa.Column("p256dh", sa.String(length=200), nullable=False),
        sa.Column("auth", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patron_id"],
            ["patrons.id"],
            name=op.f("fk_push_subscriptions_patron_id_patrons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_subscriptions")),
        sa.UniqueConstraint("endpoint", name=op.f("uq_push_subscriptions_endpoint")),
    )
    with op.batch_alter_table("push_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_push_subscriptions_patron_id"), ["patron_id"], unique=False
        )

    op.create_table(
        "fees",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "patron_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("loan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "LATE", "LOST", "DAMAGE", name="fee_kind", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("paid_cents", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("accrued_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_fees_amount_positive")),
        sa.CheckConstraint(
            "paid_cents BETWEEN 0 AND amount_cents", name=op.f("ck_fees_paid_within_amount")
        ),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_fees_loan_id_loans")),
        sa.ForeignKeyConstraint(
            ["patron_id"], ["patrons.id"], name=op.f("fk_fees_patron_id_patrons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fees")),
        sa.UniqueConstraint("loan_id", "kind", name=op.f("uq_fees_loan_id_kind")),
    )
    with op.batch_alter_table("fees", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fees_patron_id"), ["patron_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("fees", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fees_patron_id"))

    op.drop_table("fees")
    with op.batch_alter_table("push_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_push_subscriptions_patron_id"))

    op.drop_table("push_subscriptions")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_patron_id"))

    op.drop_table("payments")
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_loans_open_item",
            sqlite_where=sa.text("returned_at IS NULL"),
            postgresql_where=sa.text("returned_at IS NULL"),
        )
        batch_op.drop_index("ix_loans_patron_returned")
        batch_op.drop_index(
            "ix_loans_open_by_patron",
            sqlite_where=sa.text("returned_at IS NULL"),
            postgresql_where=sa.text("returned_at IS NULL"),
        )
        batch_op.drop_index(
            "ix_loans_open_by_due_date",
            sqlite_where=sa.text("returned_at IS NULL"),
            postgresql_where=sa.text("returned_at IS NULL"),
        )

    op.drop_table("loans")
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_holds_item_set_aside",
            sqlite_where=sa.text("status IN ('IN_TRANSIT', 'READY')"),
            postgresql_where=sa.text("status IN ('IN_TRANSIT', 'READY')"),
        )
        batch_op.drop_index(
            "uq_holds_active_patron_record",
            sqlite_where=sa.text("status IN ('WAITING', 'IN_TRANSIT', 'READY')"),
            postgresql_where=sa.text("status IN ('WAITING', 'IN_TRANSIT', 'READY')"),
        )
        batch_op.drop_index("ix_holds_record_queue")
        batch_op.drop_index("ix_holds_patron_status")

    op.drop_table("holds")
    with op.batch_alter_table("record_isbns", schema=None) as batch_op:
        batch_op.drop_index("ix_record_isbns_isbn13")

    op.drop_table("record_isbns")
    op.drop_table("patrons")
    op.drop_table("library_hours")
    op.drop_table("library_closures")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_items_record_id"))
        batch_op.drop_index(batch_op.f("ix_items_library_id"))

    op.drop_table("items")
    op.drop_table("records")
    op.drop_table("outbox_consumers")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_event_type_id")

    op.drop_table("outbox")
    op.drop_table("libraries")
