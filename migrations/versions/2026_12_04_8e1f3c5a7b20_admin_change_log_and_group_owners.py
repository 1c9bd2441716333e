"""admin change log, group owners, customer name index

``admin_change`` logs every change made on the admin pages (org tree, staff, line
plant, customer groups); like the adjustment log, the database refuses UPDATE and
DELETE of its rows (and on PostgreSQL TRUNCATE). A customer group gets the org unit
whose staff keep it. Customer search by name prefix gets an index (a pattern index on
PostgreSQL, usable by LIKE 'x%' whatever the collation).

Revision ID: 8e1f3c5a7b20
Revises: 564d8aaad2c3
Create Date: 2026-12-04 20:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

APPEND_ONLY = "admin_change is append-only"
POSTGRES_TRIGGERS = [
    f"""CREATE FUNCTION admin_change_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '{APPEND_ONLY}: % refused', TG_OP; END $$""",
    """CREATE TRIGGER admin_change_no_change BEFORE UPDATE OR DELETE ON admin_change
       FOR EACH ROW EXECUTE FUNCTION admin_change_append_only()""",
    """CREATE TRIGGER admin_change_no_truncate BEFORE TRUNCATE ON admin_change
       FOR EACH STATEMENT EXECUTE FUNCTION admin_change_append_only()""",
]
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER admin_change_no_{event.lower()} BEFORE {event} ON admin_change
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}: {event} refused'); END"""
    for event in ("UPDATE", "DELETE")
]

# revision identifiers, used by Alembic.
revision = '8e1f3c5a7b20'
down_revision = '564d8aaad2c3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('admin_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=32), nullable=False),
    sa.Column('subject_key', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('old', sa.JSON(), nullable=True),
    sa.Column('new', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_user.id'], name=op.f('fk_admin_change_staff_user_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_change'))
    )
    with op.batch_alter_table('admin_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_admin_change_changed_at'), ['changed_at'], unique=False)
        batch_op.create_index('ix_admin_change_subject_id', ['subject', 'subject_key', 'id'], unique=False)
        batch_op.create_index('ix_admin_change_staff_id', ['staff_user_id', 'id'], unique=False)
    with op.batch_alter_table('customer_group', schema=None) as batch_op:
        batch_op.add_column(sa.Column('org_unit_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_customer_group_org_unit_id'), ['org_unit_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_customer_group_org_unit_id_org_unit'), 'org_unit', ['org_unit_id'], ['id'])
    # Not through batch_alter_table: on SQLite that would rebuild the customer table.
    op.create_index('ix_customer_name_pattern', 'customer', ['name'], unique=False,
                    postgresql_ops={'name': 'text_pattern_ops'})
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_TRIGGERS if postgres else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER admin_change_no_truncate ON admin_change")
        op.execute("DROP TRIGGER admin_change_no_change ON admin_change")
        op.execute("DROP FUNCTION admin_change_append_only()")
    else:
        op.execute("DROP TRIGGER admin_change_no_update")
        op.execute("DROP TRIGGER admin_change_no_delete")
    op.drop_index('ix_customer_name_pattern', table_name='customer')
    with op.batch_alter_table('customer_group', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_customer_group_org_unit_id_org_unit'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_customer_group_org_unit_id'))
        batch_op.drop_column('org_unit_id')
    with op.batch_alter_table('admin_change', schema=None) as batch_op:
        batch_op.drop_index('ix_admin_change_staff_id')
        batch_op.drop_index('ix_admin_change_subject_id')
        batch_op.drop_index(batch_op.f('ix_admin_change_changed_at'))
    op.drop_table('admin_change')
