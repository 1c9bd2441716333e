"""Initial schema: the domain model of the spec.

Revision ID: 3f4a1a8a09bc
Revises: 
Create Date: 2026-11-23 10:38:44.065880

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '3f4a1a8a09bc'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('customer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('contract_number', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('key_account_code', sa.String(length=32), nullable=True),
    sa.Column('account_manager', sa.String(length=100), nullable=True),
    sa.Column('vip_card', sa.Enum('none', 'silver', 'gold', 'diamond', name='vip_card', native_enum=False, create_constraint=True), server_default='none', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('evaluated_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer')),
    sa.UniqueConstraint('code', name=op.f('uq_customer_code')),
    sa.UniqueConstraint('contract_number', name=op.f('uq_customer_contract_number'))
    )
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_created_at'), ['created_at'], unique=False)

    op.create_table('group_type',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_type')),
    sa.UniqueConstraint('code', name=op.f('uq_group_type_code'))
    )
    op.create_table('import_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('feed', sa.String(length=32), nullable=False),
    sa.Column('file_name', sa.String(length=500), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('rows_read', sa.Integer(), nullable=False),
    sa.Column('inserted', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_run'))
    )
    with op.batch_alter_table('import_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_run_feed'), ['feed'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_run_started_at'), ['started_at'], unique=False)

    op.create_table('org_unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.Enum('province', 'city', 'centre', 'department', 'area', 'community', name='org_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.Enum('public', 'business', 'key_account', 'bundled', 'transient', name='channel', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('unassigned_billing_area_id', sa.Integer(), nullable=True),
    sa.Column('retired', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("unassigned_billing_area_id IS NULL OR kind = 'community'", name=op.f('ck_org_unit_unassigned_kind')),
    sa.ForeignKeyConstraint(['parent_id'], ['org_unit.id'], name=op.f('fk_org_unit_parent_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_unit')),
    sa.UniqueConstraint('code', name=op.f('uq_org_unit_code'))
    )
    with op.batch_alter_table('org_unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_unit_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index('uq_org_unit_unassigned_area_channel', ['unassigned_billing_area_id', 'channel'], unique=True)

    op.create_table('pending_change',
    sa.Column('subject', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('subject', 'subject_id', name=op.f('pk_pending_change'))
    )
    with op.batch_alter_table('pending_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_change_changed_at'), ['changed_at'], unique=False)

    op.create_table('billing_area',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['city_id'], ['org_unit.id'], name=op.f('fk_billing_area_city_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_area')),
    sa.UniqueConstraint('code', name=op.f('uq_billing_area_code'))
    )
    with op.batch_alter_table('billing_area', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_area_city_id'), ['city_id'], unique=False)

    # org_unit and billing_area refer to each other: the second key comes once both exist.
    with op.batch_alter_table('org_unit', schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f('fk_org_unit_unassigned_billing_area_id_billing_area'),
            'billing_area', ['unassigned_billing_area_id'], ['id'])

    op.create_table('customer_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('group_type_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['group_type_id'], ['group_type.id'], name=op.f('fk_customer_group_group_type_id_group_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_group')),
    sa.UniqueConstraint('name', name=op.f('uq_customer_group_name'))
    )
    with op.batch_alter_table('customer_group', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_group_group_type_id'), ['group_type_id'], unique=False)

    op.create_table('staff_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('admin', 'analyst', 'channel_manager', 'auditor', 'viewer', name='staff_role', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('locale', sa.String(length=8), server_default='zh', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'], name=op.f('fk_staff_user_org_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_user')),
    sa.UniqueConstraint('username', name=op.f('uq_staff_user_username'))
    )
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_user_org_unit_id'), ['org_unit_id'], unique=False)

    op.create_table('customer_decision',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('attribute', sa.Enum('statistical_attribute', 'marketing_attribute', 'community', 'service_tier', 'lifecycle_stage', name='classified_attribute', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('value', sa.String(length=64), nullable=False),
    sa.Column('source', sa.Enum('rule', 'pin', name='decision_source', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('rule_id', sa.String(length=64), nullable=True),
    sa.Column('ruleset_name', sa.String(length=64), nullable=True),
    sa.Column('ruleset_version', sa.Integer(), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('pin_reason', sa.Text(), nullable=True),
    sa.Column('pin_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rule_value', sa.String(length=64), nullable=True),
    sa.Column('pinned_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_customer_decision_customer_id_customer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pinned_by_id'], ['staff_user.id'], name=op.f('fk_customer_decision_pinned_by_id_staff_user')),
    sa.PrimaryKeyConstraint('customer_id', 'attribute', name=op.f('pk_customer_decision'))
    )
    with op.batch_alter_table('customer_decision', schema=None) as batch_op:
        batch_op.create_index('ix_customer_decision_attribute_value', ['attribute', 'value'], unique=False)

    op.create_table('customer_group_member',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_customer_group_member_customer_id_customer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['customer_group.id'], name=op.f('fk_customer_group_member_group_id_customer_group'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'customer_id', name=op.f('pk_customer_group_member'))
    )
    with op.batch_alter_table('customer_group_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_group_member_customer_id'), ['customer_id'], unique=False)

    op.create_table('junction_box',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('billing_area_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['billing_area_id'], ['billing_area.id'], name=op.f('fk_junction_box_billing_area_id_billing_area')),
    sa.ForeignKeyConstraint(['community_id'], ['org_unit.id'], name=op.f('fk_junction_box_community_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_junction_box')),
    sa.UniqueConstraint('code', name=op.f('uq_junction_box_code'))
    )
    with op.batch_alter_table('junction_box', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_junction_box_billing_area_id'), ['billing_area_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_junction_box_community_id'), ['community_id'], unique=False)

    op.create_table('number_segment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('range_start', sa.String(length=20), nullable=False),
    sa.Column('range_end', sa.String(length=20), nullable=False),
    sa.Column('billing_area_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('length(range_start) = length(range_end)', name=op.f('ck_number_segment_same_length')),
    sa.CheckConstraint('range_start <= range_end', name=op.f('ck_number_segment_ordered')),
    sa.ForeignKeyConstraint(['billing_area_id'], ['billing_area.id'], name=op.f('fk_number_segment_billing_area_id_billing_area')),
    sa.ForeignKeyConstraint(['community_id'], ['org_unit.id'], name=op.f('fk_number_segment_community_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_number_segment')),
    sa.UniqueConstraint('range_start', name=op.f('uq_number_segment_range_start'))
    )
    with op.batch_alter_table('number_segment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_number_segment_billing_area_id'), ['billing_area_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_number_segment_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_number_segment_range_end'), ['range_end'], unique=False)

    op.create_table('subscriber',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_number', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('install_address', sa.String(length=500), nullable=True),
    sa.Column('status', sa.Enum('active', 'suspended', 'suspended_keep_number', 'disconnected', 'closed', name='subscriber_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('contract_number', sa.String(length=32), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('billing_area_id', sa.Integer(), nullable=False),
    sa.Column('junction_box_code', sa.String(length=32), nullable=True),
    sa.Column('install_date', sa.Date(), nullable=False),
    sa.Column('product', sa.String(length=100), nullable=True),
    sa.Column('prepaid', sa.Boolean(), nullable=False),
    sa.Column('balance_cents', sa.BigInteger(), nullable=True),
    sa.Column('agreement_end_date', sa.Date(), nullable=True),
    sa.Column('arrears_cents', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('arrears_days', sa.Integer(), server_default='0', nullable=False),
    sa.Column('evaluated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['billing_area_id'], ['billing_area.id'], name=op.f('fk_subscriber_billing_area_id_billing_area')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_subscriber_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscriber')),
    sa.UniqueConstraint('service_number', name=op.f('uq_subscriber_service_number'))
    )
    with op.batch_alter_table('subscriber', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscriber_billing_area_id'), ['billing_area_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscriber_contract_number'), ['contract_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscriber_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscriber_junction_box_code'), ['junction_box_code'], unique=False)

    op.create_table('adjustment_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('logged_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('subscriber_id', sa.Integer(), nullable=True),
    sa.Column('attribute', sa.Enum('statistical_attribute', 'marketing_attribute', 'community', 'service_tier', 'lifecycle_stage', name='classified_attribute', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('old_value', sa.String(length=64), nullable=True),
    sa.Column('new_value', sa.String(length=64), nullable=True),
    sa.Column('rule_id', sa.String(length=64), nullable=True),
    sa.Column('ruleset_name', sa.String(length=64), nullable=True),
    sa.Column('ruleset_version', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('facts', sa.JSON(), nullable=True),
    sa.CheckConstraint('(staff_user_id IS NULL) <> (run_id IS NULL)', name=op.f('ck_adjustment_log_one_actor')),
    sa.CheckConstraint('customer_id IS NOT NULL OR subscriber_id IS NOT NULL', name=op.f('ck_adjustment_log_has_subject')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_adjustment_log_customer_id_customer')),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_user.id'], name=op.f('fk_adjustment_log_staff_user_id_staff_user')),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscriber.id'], name=op.f('fk_adjustment_log_subscriber_id_subscriber')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_adjustment_log'))
    )
    with op.batch_alter_table('adjustment_log', schema=None) as batch_op:
        batch_op.create_index('ix_adjustment_log_customer_logged', ['customer_id', 'logged_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_adjustment_log_logged_at'), ['logged_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_adjustment_log_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_adjustment_log_staff_user_id'), ['staff_user_id'], unique=False)
        batch_op.create_index('ix_adjustment_log_subscriber_logged', ['subscriber_id', 'logged_at'], unique=False)

    op.create_table('alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('alert_type', sa.String(length=64), nullable=False),
    sa.Column('severity', sa.Enum('green', 'yellow', 'red', 'level_1', 'level_2', 'level_3', name='severity', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('rule_id', sa.String(length=64), nullable=False),
    sa.Column('ruleset_name', sa.String(length=64), nullable=False),
    sa.Column('ruleset_version', sa.Integer(), nullable=False),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('raised_run_id', sa.Integer(), nullable=True),
    sa.Column('cleared_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(subscriber_id IS NULL) <> (customer_id IS NULL)', name=op.f('ck_alert_one_subject')),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['staff_user.id'], name=op.f('fk_alert_acknowledged_by_id_staff_user')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_alert_customer_id_customer')),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscriber.id'], name=op.f('fk_alert_subscriber_id_subscriber')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert'))
    )
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_subscriber_id'), ['subscriber_id'], unique=False)
        batch_op.create_index('ix_alert_type_raised', ['alert_type', 'raised_at'], unique=False)
        batch_op.create_index('uq_alert_open_customer', ['customer_id', 'alert_type', 'rule_id'], unique=True, sqlite_where=sa.text('cleared_at IS NULL AND customer_id IS NOT NULL'), postgresql_where=sa.text('cleared_at IS NULL AND customer_id IS NOT NULL'))
        batch_op.create_index('uq_alert_open_subscriber', ['subscriber_id', 'alert_type', 'rule_id'], unique=True, sqlite_where=sa.text('cleared_at IS NULL AND subscriber_id IS NOT NULL'), postgresql_where=sa.text('cleared_at IS NULL AND subscriber_id IS NOT NULL'))

    op.create_table('subscriber_decision',
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('attribute', sa.Enum('statistical_attribute', 'marketing_attribute', 'community', 'service_tier', 'lifecycle_stage', name='classified_attribute', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('value', sa.String(length=64), nullable=False),
    sa.Column('source', sa.Enum('rule', 'pin', name='decision_source', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('rule_id', sa.String(length=64), nullable=True),
    sa.Column('ruleset_name', sa.String(length=64), nullable=True),
    sa.Column('ruleset_version', sa.Integer(), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('pin_reason', sa.Text(), nullable=True),
    sa.Column('pin_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rule_value', sa.String(length=64), nullable=True),
    sa.Column('pinned_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['pinned_by_id'], ['staff_user.id'], name=op.f('fk_subscriber_decision_pinned_by_id_staff_user')),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscriber.id'], name=op.f('fk_subscriber_decision_subscriber_id_subscriber'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('subscriber_id', 'attribute', name=op.f('pk_subscriber_decision'))
    )
    with op.batch_alter_table('subscriber_decision', schema=None) as batch_op:
        batch_op.create_index('ix_subscriber_decision_attribute_value', ['attribute', 'value'], unique=False)

    op.create_table('subscriber_month',
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('local_revenue_cents', sa.BigInteger(), nullable=False),
    sa.Column('long_distance_revenue_cents', sa.BigInteger(), nullable=False),
    sa.Column('international_revenue_cents', sa.BigInteger(), nullable=False),
    sa.Column('data_revenue_cents', sa.BigInteger(), nullable=False),
    sa.Column('value_added_revenue_cents', sa.BigInteger(), nullable=False),
    sa.Column('local_minutes', sa.Integer(), nullable=False),
    sa.Column('long_distance_minutes', sa.Integer(), nullable=False),
    sa.Column('international_minutes', sa.Integer(), nullable=False),
    sa.Column('data_mb', sa.BigInteger(), nullable=False),
    sa.Column('value_added_uses', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscriber.id'], name=op.f('fk_subscriber_month_subscriber_id_subscriber'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('subscriber_id', 'month', name=op.f('pk_subscriber_month'))
    )
    with op.batch_alter_table('subscriber_month', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscriber_month_month'), ['month'], unique=False)



def downgrade():
    with op.batch_alter_table('subscriber_month', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscriber_month_month'))

    op.drop_table('subscriber_month')
    with op.batch_alter_table('subscriber_decision', schema=None) as batch_op:
        batch_op.drop_index('ix_subscriber_decision_attribute_value')

    op.drop_table('subscriber_decision')
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_index('uq_alert_open_subscriber', sqlite_where=sa.text('cleared_at IS NULL AND subscriber_id IS NOT NULL'), postgresql_where=sa.text('cleared_at IS NULL AND subscriber_id IS NOT NULL'))
        batch_op.drop_index('uq_alert_open_customer', sqlite_where=sa.text('cleared_at IS NULL AND customer_id IS NOT NULL'), postgresql_where=sa.text('cleared_at IS NULL AND customer_id IS NOT NULL'))
        batch_op.drop_index('ix_alert_type_raised')
        batch_op.drop_index(batch_op.f('ix_alert_subscriber_id'))
        batch_op.drop_index(batch_op.f('ix_alert_customer_id'))

    op.drop_table('alert')
    with op.batch_alter_table('adjustment_log', schema=None) as batch_op:
        batch_op.drop_index('ix_adjustment_log_subscriber_logged')
        batch_op.drop_index(batch_op.f('ix_adjustment_log_staff_user_id'))
        batch_op.drop_index(batch_op.f('ix_adjustment_log_run_id'))
        batch_op.drop_index(batch_op.f('ix_adjustment_log_logged_at'))
        batch_op.drop_index('ix_adjustment_log_customer_logged')

    op.drop_table('adjustment_log')
    with op.batch_alter_table('subscriber', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscriber_junction_box_code'))
        batch_op.drop_index(batch_op.f('ix_subscriber_customer_id'))
        batch_op.drop_index(batch_op.f('ix_subscriber_contract_number'))
        batch_op.drop_index(batch_op.f('ix_subscriber_billing_area_id'))

    op.drop_table('subscriber')
    with op.batch_alter_table('number_segment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_number_segment_range_end'))
        batch_op.drop_index(batch_op.f('ix_number_segment_community_id'))
        batch_op.drop_index(batch_op.f('ix_number_segment_billing_area_id'))

    op.drop_table('number_segment')
    with op.batch_alter_table('junction_box', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_junction_box_community_id'))
        batch_op.drop_index(batch_op.f('ix_junction_box_billing_area_id'))

    op.drop_table('junction_box')
    with op.batch_alter_table('customer_group_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_group_member_customer_id'))

    op.drop_table('customer_group_member')
    with op.batch_alter_table('customer_decision', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_decision_attribute_value')

    op.drop_table('customer_decision')
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_user_org_unit_id'))

    op.drop_table('staff_user')
    with op.batch_alter_table('customer_group', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_group_group_type_id'))

    op.drop_table('customer_group')
    with op.batch_alter_table('org_unit', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_org_unit_unassigned_billing_area_id_billing_area'), type_='foreignkey')
    with op.batch_alter_table('billing_area', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_area_city_id'))

    op.drop_table('billing_area')
    with op.batch_alter_table('pending_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_change_changed_at'))

    op.drop_table('pending_change')
    with op.batch_alter_table('org_unit', schema=None) as batch_op:
        batch_op.drop_index('uq_org_unit_unassigned_area_channel')
        batch_op.drop_index(batch_op.f('ix_org_unit_parent_id'))

    op.drop_table('org_unit')
    with op.batch_alter_table('import_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_run_started_at'))
        batch_op.drop_index(batch_op.f('ix_import_run_feed'))

    op.drop_table('import_run')
    op.drop_table('group_type')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_created_at'))

    op.drop_table('customer')
