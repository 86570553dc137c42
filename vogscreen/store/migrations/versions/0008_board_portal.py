"""the board portal: api tokens, login links, sessions; case notes; letters about a board's own data

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

* ``api_tokens``: a board's API tokens, kept as SHA-256 digests.
* ``login_requests``, ``login_links``, ``portal_sessions``: the portal's sign-in by a
  one-time e-mail link (requests are what the rate limits count; addresses and clients
  only as digests), and the sessions it opens.
* ``cases.vog_date``, ``cases.note``: what the board recorded when it resolved a case.
* ``notifications``: letters about a board's own data (a rejected or held staff list, a
  person the authority refused) have no case; they name a staff list or an employment.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('address_digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('client_digest', sa.LargeBinary(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_requests'))
    )
    with op.batch_alter_table('login_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_requests_address_digest'), ['address_digest'], unique=False)
        batch_op.create_index('ix_login_requests_at', ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_requests_client_digest'), ['client_digest'], unique=False)

    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('board_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=320), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sa.String(length=320), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['board_id'], ['boards.id'], name=op.f('fk_api_tokens_board_id_boards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('digest', name=op.f('uq_api_tokens_digest'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_board_id'), ['board_id'], unique=False)

    op.create_table('login_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('board_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['board_id'], ['boards.id'], name=op.f('fk_login_links_board_id_boards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_links')),
    sa.UniqueConstraint('digest', name=op.f('uq_login_links_digest'))
    )
    with op.batch_alter_table('login_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_links_board_id'), ['board_id'], unique=False)

    op.create_table('portal_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('board_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('principal', sa.String(length=320), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['board_id'], ['boards.id'], name=op.f('fk_portal_sessions_board_id_boards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_sessions')),
    sa.UniqueConstraint('digest', name=op.f('uq_portal_sessions_digest'))
    )
    with op.batch_alter_table('portal_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_sessions_board_id'), ['board_id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vog_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('staff_list_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('employment_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('details', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.alter_column('case_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_notifications_employment_id_employments'), 'employments', ['employment_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_notifications_staff_list_id_staff_lists'), 'staff_lists', ['staff_list_id'], ['id'])
    # The default only fills the rows already there; the model gives every new row its own.
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.alter_column('details', existing_type=sa.JSON(), server_default=None)



def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notifications_staff_list_id_staff_lists'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_notifications_employment_id_employments'), type_='foreignkey')
        batch_op.alter_column('case_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('details')
        batch_op.drop_column('employment_id')
        batch_op.drop_column('staff_list_id')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('note')
        batch_op.drop_column('vog_date')

    with op.batch_alter_table('portal_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_sessions_board_id'))

    op.drop_table('portal_sessions')
    with op.batch_alter_table('login_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_links_board_id'))

    op.drop_table('login_links')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_board_id'))

    op.drop_table('api_tokens')
    with op.batch_alter_table('login_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_requests_client_digest'))
        batch_op.drop_index('ix_login_requests_at')
        batch_op.drop_index(batch_op.f('ix_login_requests_address_digest'))

    op.drop_table('login_requests')
