"""the team: roles, sessions as rows, two-factor sign-in, recovery codes, settings; the
calendar ORGANIZER kept per event. Every organiser already there becomes an admin.

Revision ID: 0007_team
Revises: 0006_newsletters
Create Date: 2026-12-02 11:30:00

"""
import secrets

from alembic import op
import sqlalchemy as sa

import placeevents.db


revision = '0007_team'
down_revision = '0006_newsletters'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organiser', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=20), nullable=False, server_default='admin'))
        batch_op.add_column(sa.Column('invited_at', placeevents.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
        batch_op.drop_column('session_token')
    # Existing organisers became admins through the server default; new rows get the model's.
    with op.batch_alter_table('organiser', schema=None) as batch_op:
        batch_op.alter_column('role', server_default=None, existing_type=sa.String(length=20),
                              existing_nullable=False)

    op.create_table('organiser_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('created_at', placeevents.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', placeevents.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_agent', sa.String(length=300), nullable=False),
    sa.Column('client_address', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['organiser_id'], ['organiser.id'], name=op.f('fk_organiser_session_organiser_id_organiser'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organiser_session')),
    sa.UniqueConstraint('key', name=op.f('uq_organiser_session_key'))
    )
    with op.batch_alter_table('organiser_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organiser_session_organiser_id'), ['organiser_id'], unique=False)

    op.create_table('recovery_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('used_at', placeevents.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organiser_id'], ['organiser.id'], name=op.f('fk_recovery_code_organiser_id_organiser'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code'))
    )
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_code_organiser_id'), ['organiser_id'], unique=False)

    op.create_table('site_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_name', sa.String(length=200), nullable=False),
    sa.Column('sender_name', sa.String(length=200), nullable=False),
    sa.Column('sender_email', sa.String(length=254), nullable=False),
    sa.Column('privacy_notice', sa.Text(), nullable=False),
    sa.Column('reminder_lead_hours', sa.Integer(), nullable=False),
    sa.Column('admins_need_two_factor', sa.Boolean(), nullable=False),
    sa.Column('updated_at', placeevents.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_settings'))
    )

    op.create_table('calendar_organizer',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('created_at', placeevents.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_calendar_organizer_event_id_event'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_calendar_organizer'))
    )


def downgrade():
    op.drop_table('calendar_organizer')
    op.drop_table('site_settings')
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_code_organiser_id'))
    op.drop_table('recovery_code')
    with op.batch_alter_table('organiser_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organiser_session_organiser_id'))
    op.drop_table('organiser_session')
    with op.batch_alter_table('organiser', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))
    organiser = sa.table('organiser', sa.column('id', sa.Integer), sa.column('session_token', sa.String))
    connection = op.get_bind()
    for (organiser_id,) in connection.execute(sa.select(organiser.c.id)).all():
        connection.execute(
            organiser.update().where(organiser.c.id == organiser_id)
            .values(session_token=secrets.token_urlsafe(24))
        )
    with op.batch_alter_table('organiser', schema=None) as batch_op:
        batch_op.alter_column('session_token', nullable=False, existing_type=sa.String(length=64))
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_secret')
        batch_op.drop_column('invited_at')
        batch_op.drop_column('role')
