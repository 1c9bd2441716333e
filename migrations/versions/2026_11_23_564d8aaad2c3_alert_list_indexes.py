"""alert list indexes

The alert list reads newest first by (raised_at, id) with keyset pagination, with or
without a type: both orders are index range scans. A run raises all its alerts with one
raised_at, so id must be in the index too (the old (alert_type, raised_at) index would
sort a whole run's alerts of a type for every page); the new type index replaces it.

Revision ID: 564d8aaad2c3
Revises: 7d95bd9ac3cb
Create Date: 2026-11-23 18:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '564d8aaad2c3'
down_revision = '7d95bd9ac3cb'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_alert_raised_id", "alert", ["raised_at", "id"])
    op.create_index("ix_alert_type_raised_id", "alert", ["alert_type", "raised_at", "id"])
    op.drop_index("ix_alert_type_raised", table_name="alert")


def downgrade():
    op.create_index("ix_alert_type_raised", "alert", ["alert_type", "raised_at"])
    op.drop_index("ix_alert_type_raised_id", table_name="alert")
    op.drop_index("ix_alert_raised_id", table_name="alert")
