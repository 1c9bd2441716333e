"""what an evaluation leaves for the next

An incremental run evaluates only the changed lines of a customer and reuses what the
last evaluation left for the others (``webapp.classification.partial``): per line, the
community its rules gave, its own due date and its revenue sums (a customer's facts
read them instead of a year of its monthly rows); per customer, a digest of its rulesets'
outcomes and its 12-month revenue total (the percentile ranking reads the stored totals
instead of aggregating every customer's year of revenue at every run).

Revision ID: d5e2b8c4a913
Revises: c3d9a1f07e52
Create Date: 2026-12-04 23:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd5e2b8c4a913'
down_revision = 'c3d9a1f07e52'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outputs_digest', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('revenue_12m_cents', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('revenue_month', sa.Date(), nullable=True))
    with op.batch_alter_table('subscriber', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rule_community', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('due_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('revenue_month', sa.Date(), nullable=True))
        for figure in ('revenue_12m_cents', 'revenue_prev3_cents', 'revenue_this_cents'):
            batch_op.add_column(sa.Column(figure, sa.BigInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table('subscriber', schema=None) as batch_op:
        for figure in ('revenue_this_cents', 'revenue_prev3_cents', 'revenue_12m_cents',
                       'revenue_month'):
            batch_op.drop_column(figure)
        batch_op.drop_column('due_on')
        batch_op.drop_column('rule_community')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_column('revenue_month')
        batch_op.drop_column('revenue_12m_cents')
        batch_op.drop_column('outputs_digest')
