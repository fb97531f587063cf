"""wiki pages that staff of peer municipalities may edit

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 14:45:19.008412

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('wiki_pages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('network_editors', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('wiki_pages', schema=None) as batch_op:
        batch_op.drop_column('network_editors')
