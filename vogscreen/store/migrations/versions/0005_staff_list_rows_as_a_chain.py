"""staff list rows as a chain: stored once, from the list that adds a row to the one that drops it

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28

Until now every accepted list stored all of its rows again, so a day with 1 % changes wrote
the whole list. A row now belongs to its board's lists from ``staff_list_id`` up to, not
including, ``removed_in_list_id``. The upgrade turns the stored full copies into that form
without losing a list: each old row is "removed" by the next list of its board that has
rows (which carries its own full copy). The downgrade writes the full copies back.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# Lists that carry rows (a rejected file is stored without any).
_WITH_ROWS = "status <> 'rejected'"


def upgrade() -> None:
    with op.batch_alter_table('staff_list_rows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('board_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('removed_in_list_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('fingerprint', sa.LargeBinary(length=16), nullable=True))

    op.execute(
        "UPDATE staff_list_rows SET board_id = "
        "(SELECT board_id FROM staff_lists WHERE staff_lists.id = staff_list_rows.staff_list_id)"
    )
    op.execute(
        "UPDATE staff_list_rows SET removed_in_list_id = ("
        " SELECT min(later.id) FROM staff_lists later"
        " WHERE later.board_id = staff_list_rows.board_id"
        f" AND later.id > staff_list_rows.staff_list_id AND later.{_WITH_ROWS})"
    )

    with op.batch_alter_table('staff_list_rows', schema=None) as batch_op:
        batch_op.alter_column('board_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_index('ix_staff_list_rows_staff_list_id')
        batch_op.drop_column('line')
        batch_op.create_foreign_key(
            batch_op.f('fk_staff_list_rows_board_id_boards'), 'boards', ['board_id'], ['id']
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_staff_list_rows_removed_in_list_id_staff_lists'),
            'staff_lists',
            ['removed_in_list_id'],
            ['id'],
        )
        batch_op.create_index(
            'ix_staff_list_rows_board_added', ['board_id', 'staff_list_id'], unique=False
        )
        batch_op.create_index(
            'ix_staff_list_rows_board_removed', ['board_id', 'removed_in_list_id'], unique=False
        )


def downgrade() -> None:
    columns = (
        "person_id, surname, prefix, initials, first_names, personeelsnummer, brin, "
        "function, start_date, end_date, vog_date"
    )
    with op.batch_alter_table('staff_list_rows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('line', sa.Integer(), nullable=False, server_default='0'))
    # Every list gets its full copy back: the rows it inherited from earlier lists.
    op.execute(
        f"INSERT INTO staff_list_rows (staff_list_id, board_id, line, {columns}) "
        f"SELECT l.id, r.board_id, 0, {', '.join('r.' + c for c in columns.split(', '))} "
        "FROM staff_lists l JOIN staff_list_rows r ON r.board_id = l.board_id "
        "AND r.staff_list_id < l.id "
        "AND (r.removed_in_list_id IS NULL OR r.removed_in_list_id > l.id) "
        f"WHERE l.{_WITH_ROWS}"
    )
    with op.batch_alter_table('staff_list_rows', schema=None) as batch_op:
        batch_op.drop_index('ix_staff_list_rows_board_removed')
        batch_op.drop_index('ix_staff_list_rows_board_added')
        batch_op.drop_constraint(
            batch_op.f('fk_staff_list_rows_removed_in_list_id_staff_lists'), type_='foreignkey'
        )
        batch_op.drop_constraint(batch_op.f('fk_staff_list_rows_board_id_boards'), type_='foreignkey')
        batch_op.drop_column('fingerprint')
        batch_op.drop_column('removed_in_list_id')
        batch_op.drop_column('board_id')
        batch_op.create_index('ix_staff_list_rows_staff_list_id', ['staff_list_id'], unique=False)
