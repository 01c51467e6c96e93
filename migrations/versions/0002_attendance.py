"""attendance: check-in closing, the answer check-in replaced, the event's calendar version

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 07:30:00

"""
from alembic import op
import sqlalchemy as sa

import placeevents.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.alter_column('updated_at', new_column_name='calendar_changed_at')
        batch_op.add_column(
            sa.Column('check_in_closed_at', placeevents.db.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table('rsvp', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answer_before_check_in', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('rsvp', schema=None) as batch_op:
        batch_op.drop_column('answer_before_check_in')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('check_in_closed_at')
        batch_op.alter_column('calendar_changed_at', new_column_name='updated_at')
