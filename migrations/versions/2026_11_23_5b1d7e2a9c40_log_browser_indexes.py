"""log browser indexes

The audit-log browser filters on one column and reads newest first by chain_seq with
keyset pagination: each filter's index ends with chain_seq, so a page is an index range
scan at any size of log. Created without rebuilding the table (the log's append-only
triggers stay).

Revision ID: 5b1d7e2a9c40
Revises: cb8fe68d4dd9
Create Date: 2026-11-23 17:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '5b1d7e2a9c40'
down_revision = 'cb8fe68d4dd9'
branch_labels = None
depends_on = None

NEW = {
    "ix_adjustment_log_customer_seq": ["customer_id", "chain_seq"],
    "ix_adjustment_log_subscriber_seq": ["subscriber_id", "chain_seq"],
    "ix_adjustment_log_run_seq": ["run_id", "chain_seq"],
    "ix_adjustment_log_staff_seq": ["staff_user_id", "chain_seq"],
    "ix_adjustment_log_attribute_seq": ["attribute", "new_value", "chain_seq"],
    "ix_adjustment_log_rule_seq": ["rule_id", "chain_seq"],
    "ix_adjustment_log_ruleset_seq": ["ruleset_name", "ruleset_version", "chain_seq"],
}
OLD = {
    "ix_adjustment_log_customer_logged": ["customer_id", "logged_at"],
    "ix_adjustment_log_subscriber_logged": ["subscriber_id", "logged_at"],
    "ix_adjustment_log_run_id": ["run_id"],
    "ix_adjustment_log_staff_user_id": ["staff_user_id"],
}


def upgrade():
    for name, columns in NEW.items():
        op.create_index(name, "adjustment_log", columns)
    for name in OLD:
        op.drop_index(name, table_name="adjustment_log")


def downgrade():
    for name, columns in OLD.items():
        op.create_index(name, "adjustment_log", columns)
    for name in NEW:
        op.drop_index(name, table_name="adjustment_log")
