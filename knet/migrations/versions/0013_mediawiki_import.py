"""wiki: revisions and pages imported from MediaWiki, and uploaded imports

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('wiki_revisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('author_name', sa.String(length=255), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('import_key', sa.String(length=300), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_wiki_revisions_import_key'), ['import_key'])
    with op.batch_alter_table('wiki_pages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('import_key', sa.String(length=300), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_wiki_pages_import_key'), ['import_key'])
    op.create_table(
        'wiki_imports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('visibility', sa.String(length=10), nullable=False),
        sa.Column('dry_run', sa.Boolean(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('report', sa.JSON(), nullable=True),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_wiki_imports_actor_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_wiki_imports')),
    )


def downgrade():
    op.drop_table('wiki_imports')
    with op.batch_alter_table('wiki_pages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_wiki_pages_import_key'), type_='unique')
        batch_op.drop_column('import_key')
    with op.batch_alter_table('wiki_revisions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_wiki_revisions_import_key'), type_='unique')
        batch_op.drop_column('import_key')
        batch_op.drop_column('author_name')
