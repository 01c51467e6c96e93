"""online places: an online limit and its count per event, and the mode a person waits for
while keeping a place in the other.

Revision ID: 0009_online_places
Revises: 0008_subject_prefix
Create Date: 2026-12-03 07:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0009_online_places'
down_revision = '0008_subject_prefix'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('online_capacity', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('online_places_taken', sa.Integer(), nullable=False,
                                      server_default='0'))
    with op.batch_alter_table('rsvp', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waiting_for', sa.Enum('in_person', 'online',
                                                             name='attendancemode',
                                                             native_enum=False, length=20),
                                      nullable=True))
    # Online places held so far were never limited: count them now so the counter is exact.
    op.execute(
        "UPDATE event SET online_places_taken = (SELECT count(*) FROM rsvp JOIN invitation "
        "ON invitation.id = rsvp.invitation_id WHERE invitation.event_id = event.id "
        "AND rsvp.mode = 'online' AND rsvp.answer IN ('yes', 'offered'))"
    )
    # The server default stays: removing it would make SQLite copy the event table, and dropping
    # the old copy with foreign keys on would cascade to every invitation and answer.


def downgrade():
    # Plain ALTER TABLE DROP COLUMN (SQLite 3.35+), for the same reason: no copy of the table.
    op.drop_column('rsvp', 'waiting_for')
    op.drop_column('event', 'online_places_taken')
    op.drop_column('event', 'online_capacity')
