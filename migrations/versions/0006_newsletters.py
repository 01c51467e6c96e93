"""newsletters and learning digests, and the subscribers each is queued for (once each)

Revision ID: 0006_newsletters
Revises: 0005
Create Date: 2026-12-02 11:09:45.497529

"""
from alembic import op
import sqlalchemy as sa

import placeevents.db


revision = '0006_newsletters'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('newsletter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('news', 'digest', name='newsletterkind', native_enum=False, length=20), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'scheduled', 'sending', 'sent', name='newsletterstatus', native_enum=False, length=20), nullable=False),
    sa.Column('interests', sa.String(length=100), nullable=False),
    sa.Column('event_ids', sa.String(length=1000), nullable=False),
    sa.Column('note_ids', sa.Text(), nullable=False),
    sa.Column('scheduled_for', placeevents.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('started_at', placeevents.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', placeevents.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.Column('queued', sa.Integer(), nullable=False),
    sa.Column('cursor', sa.Integer(), nullable=False),
    sa.Column('claimed_by', sa.String(length=80), nullable=True),
    sa.Column('claimed_until', placeevents.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', placeevents.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', placeevents.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['organiser.id'], name=op.f('fk_newsletter_created_by_id_organiser'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_newsletter'))
    )
    with op.batch_alter_table('newsletter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_newsletter_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_newsletter_status'), ['status'], unique=False)

    op.create_table('newsletter_recipient',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('newsletter_id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('queued_at', placeevents.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['newsletter_id'], ['newsletter.id'], name=op.f('fk_newsletter_recipient_newsletter_id_newsletter'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscriber.id'], name=op.f('fk_newsletter_recipient_subscriber_id_subscriber'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_newsletter_recipient')),
    sa.UniqueConstraint('newsletter_id', 'subscriber_id', name=op.f('uq_newsletter_recipient_newsletter_id_subscriber_id'))
    )
    with op.batch_alter_table('newsletter_recipient', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_newsletter_recipient_newsletter_id'), ['newsletter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_newsletter_recipient_subscriber_id'), ['subscriber_id'], unique=False)



def downgrade():
    with op.batch_alter_table('newsletter_recipient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_newsletter_recipient_subscriber_id'))
        batch_op.drop_index(batch_op.f('ix_newsletter_recipient_newsletter_id'))

    op.drop_table('newsletter_recipient')
    with op.batch_alter_table('newsletter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_newsletter_status'))
        batch_op.drop_index(batch_op.f('ix_newsletter_created_by_id'))

    op.drop_table('newsletter')
