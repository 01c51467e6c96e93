"""public_version: one counter every commit that changes what public pages show moves, so a
process can serve a page it built earlier while the counter still reads the same.

Revision ID: 0011_public_version
Revises: 0010_standing
Create Date: 2026-12-04 16:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0011_public_version'
down_revision = '0010_standing'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table('public_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_public_version'))
    )
    op.bulk_insert(table, [{'id': 1, 'version': 0}])


def downgrade():
    op.drop_table('public_version')
