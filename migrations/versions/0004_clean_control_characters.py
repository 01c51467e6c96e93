"""clean control characters out of text people entered before the forms refused them

Revision ID: 0004
Revises: 0003
Create Date: 2027-01-12 09:00:00

"""
import re

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# Values that reach mail headers, calendar lines and page titles: one line, no controls.
SINGLE_LINE = {
    'organiser': ('name',),
    'enquiry': ('title', 'summary'),
    'enquiry_question': ('title',),
    'event': ('title', 'venue', 'address', 'join_url', 'hosts'),
    'invitation': ('name', 'organisation', 'role'),
    'event_mailing': ('subject',),
    'subscriber': ('name', 'organisation', 'role', 'consent_note'),
    'import_batch': ('filename',),
    'note': ('title', 'author_name', 'tags'),
    'note_revision': ('title', 'author_name', 'tags'),
}
# Text over several lines keeps its line breaks and tabs.
MULTI_LINE = {
    'enquiry': ('introduction',),
    'enquiry_question': ('body',),
    'event': ('description', 'cancellation_message'),
    'rsvp': ('access_needs', 'dietary_needs', 'question'),
    'event_mailing': ('body',),
    'note': ('body', 'resources'),
    'note_revision': ('body', 'resources'),
}
BATCH = 1000

# The rules of placeevents/text.py at this revision (and a one-line value's ends trimmed),
# copied so that later changes there never change what this migration did.
ANY_CONTROL = re.compile('[\x00-\x1f\x7f-\x9f]')
SPACING = re.compile('[\t\n\x0b\x0c\r\x1c-\x1f\x85]+')
MULTILINE_CONTROLS = re.compile('[\x00-\x08\x0b-\x1f\x7f-\x9f]')


def one_line(value):
    if value is None or not ANY_CONTROL.search(value):
        return value
    return ANY_CONTROL.sub('', SPACING.sub(' ', value)).strip()


def multiline(value):
    if value is None or not ANY_CONTROL.search(value):
        return value
    return MULTILINE_CONTROLS.sub('', value.replace('\r\n', '\n').replace('\r', '\n'))


def upgrade():
    bind = op.get_bind()
    for name in sorted(SINGLE_LINE.keys() | MULTI_LINE.keys()):
        cleaners = {column: one_line for column in SINGLE_LINE.get(name, ())}
        cleaners.update({column: multiline for column in MULTI_LINE.get(name, ())})
        _clean_table(bind, name, cleaners)


def downgrade():
    # The characters removed were never meant to be there; there is nothing to put back.
    pass


def _clean_table(bind, name, cleaners):
    table = sa.table(name, sa.column('id'), *(sa.column(column) for column in cleaners))
    last_id = 0
    while True:
        # Walk the table by id in batches, so memory stays flat however large it is.
        rows = bind.execute(
            sa.select(table).where(table.c.id > last_id).order_by(table.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        last_id = rows[-1].id
        for row in rows:
            changed = {
                column: clean(getattr(row, column))
                for column, clean in cleaners.items()
                if clean(getattr(row, column)) != getattr(row, column)
            }
            if changed:
                bind.execute(table.update().where(table.c.id == row.id).values(**changed))
