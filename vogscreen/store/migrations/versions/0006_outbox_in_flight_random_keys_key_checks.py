"""outbox rows in flight, one row per step of a person's cycle, and key check values

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

* ``authority_outbox.sent_at``: a row is marked (and committed) before its batch leaves.
  Rows already attempted before this revision count as sent: they may have been applied.
* ``ux_authority_outbox_step``: new idempotency keys are random, so the uniqueness that
  the old keys (``subscribe:<person>:<generation>``) gave moves to its columns.
* ``authority_outbox.subscription_ref``: the reference each step concerns, per generation
  (a subscription's own reference is wiped when a new cycle starts).
* ``key_checks``: the check values of the BSN keys (filled by vogscreen at start-up).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('authority_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column('subscription_ref', sa.String(length=100), nullable=True)
        )
        batch_op.create_index(
            'ux_authority_outbox_step', ['person_id', 'operation', 'generation'], unique=True
        )
    op.execute("UPDATE authority_outbox SET sent_at = created_at WHERE attempts > 0")
    op.execute(
        "UPDATE authority_outbox SET subscription_ref = (SELECT s.authority_ref "
        "FROM subscriptions s WHERE s.person_id = authority_outbox.person_id "
        "AND s.generation = authority_outbox.generation) "
        "WHERE operation = 'subscribe' AND status = 'done'"
    )
    op.create_table(
        'key_checks',
        sa.Column('name', sa.String(length=20), nullable=False),
        sa.Column('value', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_key_checks')),
    )


def downgrade() -> None:
    op.drop_table('key_checks')
    with op.batch_alter_table('authority_outbox', schema=None) as batch_op:
        batch_op.drop_index('ux_authority_outbox_step')
        batch_op.drop_column('subscription_ref')
        batch_op.drop_column('sent_at')
