"""public_version tells its listeners when it moves (PostgreSQL only): a statement trigger
sends a NOTIFY on placeevents_versions, delivered when the moving transaction commits, so each
process can keep the versions it last read until it hears they moved (version_watch.py).
SQLite reads the row locally and needs nothing.

Revision ID: 0013_versions_notify
Revises: 0012_personal_version
Create Date: 2026-12-04 21:50:00

"""
from alembic import op


revision = '0013_versions_notify'
down_revision = '0012_personal_version'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(
        "CREATE OR REPLACE FUNCTION placeevents_versions_moved() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('placeevents_versions', ''); "
        "RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER public_version_moved AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        "ON public_version FOR EACH STATEMENT EXECUTE FUNCTION placeevents_versions_moved()"
    )


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("DROP TRIGGER IF EXISTS public_version_moved ON public_version")
    op.execute("DROP FUNCTION IF EXISTS placeevents_versions_moved()")
