"""SCORM packages as lessons, and where each learner stands in them

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('learning_scorm_packages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=4), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('launch', sa.String(length=1000), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['learning_courses.id'], name=op.f('fk_learning_scorm_packages_course_id_learning_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_learning_scorm_packages_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learning_scorm_packages'))
    )
    with op.batch_alter_table('learning_scorm_packages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learning_scorm_packages_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_learning_scorm_packages_sha256'), ['sha256'], unique=False)

    op.create_table('learning_scorm_states',
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('item_key', sa.String(length=32), nullable=False),
    sa.Column('version', sa.String(length=4), nullable=False),
    sa.Column('completion_status', sa.String(length=20), nullable=False),
    sa.Column('success_status', sa.String(length=10), nullable=False),
    sa.Column('score_raw', sa.Double(), nullable=True),
    sa.Column('score_min', sa.Double(), nullable=True),
    sa.Column('score_max', sa.Double(), nullable=True),
    sa.Column('score_scaled', sa.Double(), nullable=True),
    sa.Column('location', sa.String(length=1000), nullable=False),
    sa.Column('suspend_data', sa.Text(), nullable=False),
    sa.Column('exit', sa.String(length=10), nullable=False),
    sa.Column('total_seconds', sa.Double(), nullable=False),
    sa.Column('launches', sa.Integer(), nullable=False),
    sa.Column('initialized_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enrolment_id'], ['learning_enrolments.id'], name=op.f('fk_learning_scorm_states_enrolment_id_learning_enrolments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('enrolment_id', 'item_key', name=op.f('pk_learning_scorm_states'))
    )

    with op.batch_alter_table('learning_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scorm_package_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_learning_items_scorm_package_id_learning_scorm_packages'),
                                    'learning_scorm_packages', ['scorm_package_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('learning_items', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_learning_items_scorm_package_id_learning_scorm_packages'),
                                 type_='foreignkey')
        batch_op.drop_column('scorm_package_id')

    op.drop_table('learning_scorm_states')
    with op.batch_alter_table('learning_scorm_packages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learning_scorm_packages_sha256'))
        batch_op.drop_index(batch_op.f('ix_learning_scorm_packages_course_id'))

    op.drop_table('learning_scorm_packages')
