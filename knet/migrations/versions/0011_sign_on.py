"""sign-on between municipalities: codes, consents, pending sign-ins at peers, visitors

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 13:25:36.833904

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('peer_sign_ins',
    sa.Column('state', sa.String(length=64), nullable=False),
    sa.Column('issuer', sa.String(length=300), nullable=False),
    sa.Column('code_verifier', sa.String(length=128), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('next', sa.String(length=500), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('state', name=op.f('pk_peer_sign_ins'))
    )
    with op.batch_alter_table('peer_sign_ins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_peer_sign_ins_expires_at'), ['expires_at'], unique=False)

    op.create_table('oauth_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.String(length=300), nullable=False),
    sa.Column('redirect_uri', sa.String(length=500), nullable=False),
    sa.Column('scope', sa.String(length=100), nullable=False),
    sa.Column('nonce', sa.String(length=200), nullable=False),
    sa.Column('code_challenge', sa.String(length=128), nullable=False),
    sa.Column('code_challenge_method', sa.String(length=10), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_oauth_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_codes')),
    sa.UniqueConstraint('digest', name=op.f('uq_oauth_codes_digest'))
    )
    with op.batch_alter_table('oauth_codes', schema=None) as batch_op:
        batch_op.create_index('ix_oauth_codes_client_nonce', ['client_id', 'nonce'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_codes_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_codes_user_id'), ['user_id'], unique=False)

    op.create_table('oauth_consents',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=300), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_oauth_consents_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'client_id', name=op.f('pk_oauth_consents'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('home_issuer', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('home_subject', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('home_municipality', sa.String(length=200), nullable=False, server_default=sa.text("''")))
        batch_op.create_unique_constraint(batch_op.f('uq_users_home_issuer'), ['home_issuer', 'home_subject'])


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_home_issuer'), type_='unique')
        batch_op.drop_column('home_municipality')
        batch_op.drop_column('home_subject')
        batch_op.drop_column('home_issuer')

    op.drop_table('oauth_consents')
    with op.batch_alter_table('oauth_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_codes_user_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_codes_expires_at'))
        batch_op.drop_index('ix_oauth_codes_client_nonce')

    op.drop_table('oauth_codes')
    with op.batch_alter_table('peer_sign_ins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_peer_sign_ins_expires_at'))

    op.drop_table('peer_sign_ins')
