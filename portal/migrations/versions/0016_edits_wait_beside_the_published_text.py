"""an edit of a published comment waits for review beside the published text

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 21:00:00

An author's edit of a published comment used to take the comment back to review: readers saw a
placeholder (or nothing) until a moderator decided. The edit now waits in pending_body, with its
own flags and rule hits, while body stays the public text until the edit is approved. Columns on
the comment rather than a table of revisions: a comment has at most one edit waiting, and the
queue, the page stamps (portal.domain.content_version) and the author's pages all follow the
comment's own row.

Edits already in review under the old rule stay as they are (pending, decided as before). A
downgrade drops edits still waiting; their comments keep showing the published text.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

# The text of portal.models.comments.PENDING_EDIT at this revision.
PENDING_EDIT = "pending_body IS NOT NULL"


def upgrade():
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_body', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('pending_flags', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('pending_rule_hits', sa.Text(), nullable=True))
        batch_op.create_index('ix_comment_pending_edit', ['status', 'priority', 'created_at', 'id'], unique=False, sqlite_where=sa.text(PENDING_EDIT), postgresql_where=sa.text(PENDING_EDIT))


def downgrade():
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_index('ix_comment_pending_edit', sqlite_where=sa.text(PENDING_EDIT), postgresql_where=sa.text(PENDING_EDIT))
        batch_op.drop_column('pending_rule_hits')
        batch_op.drop_column('pending_flags')
        batch_op.drop_column('pending_body')
