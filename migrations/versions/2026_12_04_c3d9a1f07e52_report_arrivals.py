"""report arrivals

The division progress report reads this month's arrivals from a summary keyed by
community (refreshed with the others by the scheduler's *reports* job), instead of
grouping every new customer's lines per page view: in the demo province every customer
is a new arrival, and at two million lines that aggregate took seconds.

Revision ID: c3d9a1f07e52
Revises: b7c4d2e9f613
Create Date: 2026-12-04 23:20:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c3d9a1f07e52'
down_revision = 'b7c4d2e9f613'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_arrival',
    sa.Column('community', sa.String(length=40), nullable=False),
    sa.Column('waiting', sa.Boolean(), nullable=False),
    sa.Column('customers', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('community', 'waiting', name=op.f('pk_report_arrival'))
    )


def downgrade():
    op.drop_table('report_arrival')
