"""federation replication

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 10:00:11.988041

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('federation_changes',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('uri', sa.String(length=500), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('activity', sa.String(length=10), nullable=False),
    sa.Column('document', sa.JSON(), nullable=True),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_federation_changes')),
    sa.UniqueConstraint('uri', name=op.f('uq_federation_changes_uri'))
    )
    op.create_table('federation_log_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_federation_log_head'))
    )
    # The log starts empty; its one row is locked by each writer (federation.models.LogHead).
    op.bulk_insert(sa.table('federation_log_head', sa.column('id', sa.Integer), sa.column('last_seq', sa.Integer)),
                   [{'id': 1, 'last_seq': 0}])
    op.create_table('federation_dead_letters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('peer_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('uri', sa.String(length=500), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['peer_id'], ['federation_peers.id'], name=op.f('fk_federation_dead_letters_peer_id_federation_peers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_federation_dead_letters'))
    )
    with op.batch_alter_table('federation_dead_letters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_federation_dead_letters_peer_id'), ['peer_id'], unique=False)

    op.create_table('federation_received',
    sa.Column('activity_id', sa.String(length=500), nullable=False),
    sa.Column('peer_id', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['peer_id'], ['federation_peers.id'], name=op.f('fk_federation_received_peer_id_federation_peers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('activity_id', name=op.f('pk_federation_received'))
    )
    with op.batch_alter_table('federation_received', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_federation_received_peer_id'), ['peer_id'], unique=False)

    op.create_table('federation_replicas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uri', sa.String(length=500), nullable=False),
    sa.Column('peer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('document', sa.JSON(), nullable=True),
    sa.Column('in_reply_to', sa.String(length=500), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['peer_id'], ['federation_peers.id'], name=op.f('fk_federation_replicas_peer_id_federation_peers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_federation_replicas')),
    sa.UniqueConstraint('uri', name=op.f('uq_federation_replicas_uri'))
    )
    with op.batch_alter_table('federation_replicas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_federation_replicas_in_reply_to'), ['in_reply_to'], unique=False)
        batch_op.create_index(batch_op.f('ix_federation_replicas_peer_id'), ['peer_id'], unique=False)

    with op.batch_alter_table('federation_peers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pushed_seq', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('pulled_seq', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('push_failures', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('next_push_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_pull_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('push_busy_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('pull_busy_until', sa.DateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('federation_peers', schema=None) as batch_op:
        batch_op.drop_column('pull_busy_until')
        batch_op.drop_column('push_busy_until')
        batch_op.drop_column('last_pull_at')
        batch_op.drop_column('failing_since')
        batch_op.drop_column('next_push_at')
        batch_op.drop_column('push_failures')
        batch_op.drop_column('pulled_seq')
        batch_op.drop_column('pushed_seq')

    with op.batch_alter_table('federation_replicas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_federation_replicas_peer_id'))
        batch_op.drop_index(batch_op.f('ix_federation_replicas_in_reply_to'))

    op.drop_table('federation_replicas')
    with op.batch_alter_table('federation_received', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_federation_received_peer_id'))

    op.drop_table('federation_received')
    with op.batch_alter_table('federation_dead_letters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_federation_dead_letters_peer_id'))

    op.drop_table('federation_dead_letters')
    op.drop_table('federation_log_head')
    op.drop_table('federation_changes')
