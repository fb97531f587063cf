"""federation hourly stats

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 10:35:01.821102

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('federation_hourly_stats',
    sa.Column('peer_id', sa.Integer(), nullable=False),
    sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('dead', sa.Integer(), nullable=False),
    sa.Column('most_waiting', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['peer_id'], ['federation_peers.id'], name=op.f('fk_federation_hourly_stats_peer_id_federation_peers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('peer_id', 'hour', name=op.f('pk_federation_hourly_stats'))
    )


def downgrade():
    op.drop_table('federation_hourly_stats')
