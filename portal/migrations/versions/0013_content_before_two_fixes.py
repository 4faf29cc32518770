"""bodies and block patterns stored before two fixes

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 11:00:00

The sanitizer now drops <script>, <style> and the other hidden elements with their content; bodies
stored before still show the CSS or JavaScript inside them as text. Each article and static page
whose stored HTML is not what the sanitizer now makes of its Markdown is rendered again (an
article's text too, which the search index follows).

A `block` pattern that one common character satisfies (「re:.」) is now refused when saved, as it
refuses nearly every comment; one saved before is turned into a `review` entry and the list is
published again. See portal.domain.content_repair; `flask check-words` reports such patterns and
`--fix` does the same later. Each change is an audit row by the system; public pages' cached copies go.

The downgrade changes nothing back: the old code reads the new bodies and entries as well.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    from portal.domain import content_repair
    from portal.models import utc_now

    connection = op.get_bind()
    now = utc_now()
    content_repair.rerender_bodies(connection, now=now)
    content_repair.demote_patterns(connection, now=now)


def downgrade():
    pass
