"""mail requests: public forms queue a request the worker answers, whoever the address is

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 09:00:00

"""
from alembic import op
import sqlalchemy as sa

import placeevents.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mail_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', placeevents.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('failed_at', placeevents.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', placeevents.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_request'))
    )


def downgrade():
    op.drop_table('mail_request')
