"""fediverse followers of the node actor, and what they last received of each public object

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('fediverse_followers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=500), nullable=False),
    sa.Column('inbox', sa.String(length=500), nullable=False),
    sa.Column('shared_inbox', sa.String(length=500), nullable=True),
    sa.Column('follow_id', sa.String(length=500), nullable=False),
    sa.Column('followed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fediverse_followers')),
    sa.UniqueConstraint('actor', name=op.f('uq_fediverse_followers_actor'))
    )
    op.create_table('fediverse_published',
    sa.Column('uri', sa.String(length=500), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('uri', name=op.f('pk_fediverse_published'))
    )


def downgrade():
    op.drop_table('fediverse_published')
    op.drop_table('fediverse_followers')
