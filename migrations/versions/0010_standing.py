"""standing invitations: a subscriber invited to every exploration of an enquiry, and each
(event, subscriber) the worker has handled, so nobody is invited twice.

Revision ID: 0010_standing
Revises: 0009_online_places
Create Date: 2026-12-03 07:30:00

"""
from alembic import op
import sqlalchemy as sa

import placeevents.db


revision = '0010_standing'
down_revision = '0009_online_places'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('standing_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('invited', sa.Boolean(), nullable=False),
    sa.Column('created_at', placeevents.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_standing_delivery_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscriber.id'], name=op.f('fk_standing_delivery_subscriber_id_subscriber'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standing_delivery')),
    sa.UniqueConstraint('event_id', 'subscriber_id', name=op.f('uq_standing_delivery_event_id_subscriber_id'))
    )
    with op.batch_alter_table('standing_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_standing_delivery_subscriber_id'), ['subscriber_id'], unique=False)

    op.create_table('standing_invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('enquiry_id', sa.Integer(), nullable=False),
    sa.Column('created_at', placeevents.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enquiry_id'], ['enquiry.id'], name=op.f('fk_standing_invitation_enquiry_id_enquiry'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscriber.id'], name=op.f('fk_standing_invitation_subscriber_id_subscriber'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standing_invitation')),
    sa.UniqueConstraint('subscriber_id', 'enquiry_id', name=op.f('uq_standing_invitation_subscriber_id_enquiry_id'))
    )
    with op.batch_alter_table('standing_invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_standing_invitation_enquiry_id'), ['enquiry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_standing_invitation_subscriber_id'), ['subscriber_id'], unique=False)



def downgrade():
    with op.batch_alter_table('standing_invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_standing_invitation_subscriber_id'))
        batch_op.drop_index(batch_op.f('ix_standing_invitation_enquiry_id'))

    op.drop_table('standing_invitation')
    with op.batch_alter_table('standing_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_standing_delivery_subscriber_id'))

    op.drop_table('standing_delivery')
