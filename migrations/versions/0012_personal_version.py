"""public_version.personal: a second counter, moved by every commit that changes what a personal
link's page shows beyond the public tables (invitations, answers, the mailing list), so a
process can serve an invitee's page it built earlier while both counters read the same.

Revision ID: 0012_personal_version
Revises: 0011_public_version
Create Date: 2026-12-04 18:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0012_personal_version'
down_revision = '0011_public_version'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('public_version', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('personal', sa.BigInteger(), server_default='0', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('public_version', schema=None) as batch_op:
        batch_op.drop_column('personal')
