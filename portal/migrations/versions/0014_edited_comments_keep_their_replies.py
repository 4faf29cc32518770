"""edited comments in review keep their place above their replies

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 16:30:00

A top-level comment with approved replies that its author edits goes back to review. It used to
leave the thread and take the replies, other readers' approved words, with it until the review.
It now stays in the thread as a placeholder (portal.domain.comments._set_listed); this lists the
ones already in that state, and public pages' cached copies go.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

IN_REVIEW_WITH_REPLIES = (
    "parent_id IS NULL AND reply_count > 0 AND status = 'pending' AND approved_at IS NOT NULL"
)


def upgrade():
    from portal.domain.repair_writes import replace_content_version

    op.execute(f"UPDATE comment SET listed = true WHERE {IN_REVIEW_WITH_REPLIES}")
    replace_content_version(op.get_bind())


def downgrade():
    op.execute(f"UPDATE comment SET listed = false WHERE {IN_REVIEW_WITH_REPLIES}")
