"""the settings' subject prefix, put before the subject of every mail the app sends.

Revision ID: 0008_subject_prefix
Revises: 0007_team
Create Date: 2026-12-02 17:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0008_subject_prefix'
down_revision = '0007_team'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('site_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject_prefix', sa.String(length=100), nullable=False,
                                      server_default=''))
    # A saved settings row got the empty prefix through the server default; new rows get the model's.
    with op.batch_alter_table('site_settings', schema=None) as batch_op:
        batch_op.alter_column('subject_prefix', server_default=None,
                              existing_type=sa.String(length=100), existing_nullable=False)


def downgrade():
    with op.batch_alter_table('site_settings', schema=None) as batch_op:
        batch_op.drop_column('subject_prefix')
