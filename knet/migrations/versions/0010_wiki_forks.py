"""wiki forks

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 10:37:35.629350

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('wiki_pages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fork_source', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('fork_version', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('wiki_pages', schema=None) as batch_op:
        batch_op.drop_column('fork_version')
        batch_op.drop_column('fork_source')

