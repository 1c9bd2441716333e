"""report summaries

The fixed reports read small summary tables keyed by community, refreshed by the
classification runs (``webapp.reports.refresh``): population by statistical attribute
and service tier, line stock by status and month, customer groups with their revenue,
the values each rule decides and the changes it wrote per day, and when each summary was
last refreshed.

Revision ID: b7c4d2e9f613
Revises: 8e1f3c5a7b20
Create Date: 2026-12-04 20:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b7c4d2e9f613'
down_revision = '8e1f3c5a7b20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_population',
    sa.Column('community', sa.String(length=40), nullable=False),
    sa.Column('statistical_attribute', sa.String(length=64), nullable=False),
    sa.Column('service_tier', sa.String(length=64), nullable=False),
    sa.Column('customers', sa.Integer(), nullable=False),
    sa.Column('subscribers', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('community', 'statistical_attribute', 'service_tier', name=op.f('pk_report_population'))
    )
    op.create_table('report_stock',
    sa.Column('community', sa.String(length=40), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('installed', sa.Integer(), nullable=False),
    sa.Column('disconnected', sa.Integer(), nullable=False),
    sa.Column('billed', sa.Integer(), nullable=False),
    sa.Column('revenue_cents', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('community', 'month', 'status', name=op.f('pk_report_stock'))
    )
    op.create_table('report_group',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('community', sa.String(length=40), nullable=False),
    sa.Column('customers', sa.Integer(), nullable=False),
    sa.Column('subscribers', sa.Integer(), nullable=False),
    sa.Column('revenue_this_cents', sa.BigInteger(), nullable=False),
    sa.Column('revenue_last_cents', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('group_id', 'community', name=op.f('pk_report_group'))
    )
    op.create_table('report_rule_decision',
    sa.Column('subject', sa.String(length=16), nullable=False),
    sa.Column('ruleset_name', sa.String(length=64), nullable=False),
    sa.Column('rule_id', sa.String(length=64), nullable=False),
    sa.Column('community', sa.String(length=40), nullable=False),
    sa.Column('decided', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('subject', 'ruleset_name', 'rule_id', 'community', name=op.f('pk_report_rule_decision'))
    )
    op.create_table('report_rule_change',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('ruleset_name', sa.String(length=64), nullable=False),
    sa.Column('rule_id', sa.String(length=64), nullable=False),
    sa.Column('community', sa.String(length=40), nullable=False),
    sa.Column('changes', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'ruleset_name', 'rule_id', 'community', name=op.f('pk_report_rule_change'))
    )
    op.create_table('report_refresh',
    sa.Column('part', sa.String(length=16), nullable=False),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('log_id', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('part', name=op.f('pk_report_refresh'))
    )


def downgrade():
    op.drop_table('report_refresh')
    op.drop_table('report_rule_change')
    op.drop_table('report_rule_decision')
    op.drop_table('report_group')
    op.drop_table('report_stock')
    op.drop_table('report_population')
