"""audit log: each entry keeps how its target reads and the organiser page it links to

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 09:00:00

"""
import re

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# The target keys recorded so far, and how the audit page read them until this revision.
TARGET = re.compile(
    r"^(?P<kind>event|enquiry|note|subscriber|outbox_message|import batch)[: ](?P<key>\S+)$"
)
LABEL_LENGTH = 300


def upgrade():
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('target_label', sa.String(length=300), nullable=False, server_default='')
        )
        batch_op.add_column(
            sa.Column('target_url', sa.String(length=300), nullable=False, server_default='')
        )
    _describe_existing_entries(op.get_bind())
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.alter_column('target_label', server_default=None)
        batch_op.alter_column('target_url', server_default=None)


def downgrade():
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_column('target_url')
        batch_op.drop_column('target_label')


def _rows(bind, name, label, keys, with_slug):
    # The rows of one table that entries name, by id and (for tables with slugs) by slug.
    slug = [sa.column('slug')] if with_slug else []
    table = sa.table(name, sa.column('id'), sa.column(label), *slug)
    ids = {int(k) for k in keys if k.isdigit()}
    slugs = {k for k in keys if not k.isdigit()}
    conditions = [table.c.id.in_(ids)] if ids else []
    if with_slug and slugs:
        conditions.append(table.c.slug.in_(slugs))
    found = {}
    if conditions:
        for row in bind.execute(sa.select(table).where(sa.or_(*conditions))):
            found[str(row.id)] = row
            if with_slug:
                found[row.slug] = row
    return found


def _describe_existing_entries(bind):
    audit = sa.table(
        'audit_entry', sa.column('id'), sa.column('target'), sa.column('target_label'),
        sa.column('target_url'),
    )
    refs = {}
    for entry_id, target in bind.execute(sa.select(audit.c.id, audit.c.target)):
        match = TARGET.match(target.strip())
        if match:
            refs[entry_id] = (match['kind'], match['key'])
    if not refs:
        return
    keys = {}
    for kind, key in refs.values():
        keys.setdefault(kind, set()).add(key)
    events = _rows(bind, 'event', 'title', keys.get('event', ()), True)
    enquiries = _rows(bind, 'enquiry', 'title', keys.get('enquiry', ()), True)
    notes = _rows(bind, 'note', 'title', keys.get('note', ()), False)
    subscribers = _rows(bind, 'subscriber', 'email', keys.get('subscriber', ()), False)

    def described(kind, key):
        if kind == 'event':
            row = events.get(key)
            return (row.title, f'/manage/events/{row.id}') if row else (
                f'Event {key} (since deleted)', '')
        if kind == 'enquiry':
            row = enquiries.get(key)
            return (row.title, f'/manage/enquiries/{row.id}') if row else (
                f'Enquiry {key} (since deleted)', '')
        if kind == 'note':
            row = notes.get(key)
            return (f'Note: {row.title}', f'/manage/notes/{row.id}') if row else (
                f'Note {key} (since deleted)', '')
        if kind == 'subscriber':
            row = subscribers.get(key)
            return (row.email, f'/manage/newsletter/{row.id}') if row else (
                f'Subscriber {key} (since erased)', '')
        if kind == 'outbox_message':
            return f'Mail {key}', '/manage/mail/'
        return f'Subscriber import {key}', f'/manage/newsletter/import/{key}'

    updates = []
    for entry_id, (kind, key) in refs.items():
        label, url = described(kind, key)
        updates.append({'entry_id': entry_id, 'label': label[:LABEL_LENGTH], 'url': url})
    bind.execute(
        audit.update()
        .where(audit.c.id == sa.bindparam('entry_id'))
        .values(target_label=sa.bindparam('label'), target_url=sa.bindparam('url')),
        updates,
    )
