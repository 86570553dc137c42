"""the mock authority's tables leave vogscreen's schema

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

The mock authority stands in for another organisation; its tables are its own now
(``vogscreen.testing.authority_schema``), made by the mock where it runs on first use.
Upgrading drops them from vogscreen's schema where they are empty (a database that never
ran the in-process mock, such as production's). A table holding what a mock authority
recorded is kept, so nothing is lost: it has the mock's own layout, the mock goes on
using it, and the drift check leaves ``mock_authority_*`` tables alone. Downgrading makes
them again as revision 0001 made them, where they are missing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

TABLES = ('mock_authority_subscriptions', 'mock_authority_requests', 'mock_authority_hits')


def upgrade() -> None:
    bind = op.get_bind()
    existing = set(sa.inspect(bind).get_table_names())
    for name in TABLES:
        if name in existing and bind.execute(sa.text(f'SELECT 1 FROM {name} LIMIT 1')).first() is None:
            op.drop_table(name)


def downgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if 'mock_authority_hits' not in existing:
        op.create_table(
            'mock_authority_hits',
            sa.Column('seq', sa.Integer(), nullable=False),
            sa.Column('hit_id', sa.String(length=100), nullable=False),
            sa.Column('ref', sa.String(length=100), nullable=False),
            sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint('seq', name=op.f('pk_mock_authority_hits')),
            sa.UniqueConstraint('hit_id', name=op.f('uq_mock_authority_hits_hit_id')),
        )
    if 'mock_authority_requests' not in existing:
        op.create_table(
            'mock_authority_requests',
            sa.Column('idempotency_key', sa.String(length=100), nullable=False),
            sa.Column('operation', sa.String(length=20), nullable=False),
            sa.Column('result', sa.JSON(), nullable=False),
            sa.Column('applied', sa.Integer(), nullable=False),
            sa.Column('at', sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint('idempotency_key', name=op.f('pk_mock_authority_requests')),
        )
    if 'mock_authority_subscriptions' not in existing:
        op.create_table(
            'mock_authority_subscriptions',
            sa.Column('ref', sa.String(length=100), nullable=False),
            sa.Column('bsn_hash', sa.String(length=64), nullable=False),
            sa.Column('birth_date', sa.Date(), nullable=False),
            sa.Column('active', sa.Boolean(), nullable=False),
            sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint('ref', name=op.f('pk_mock_authority_subscriptions')),
            sa.UniqueConstraint(
                'bsn_hash', name=op.f('uq_mock_authority_subscriptions_bsn_hash')
            ),
        )
