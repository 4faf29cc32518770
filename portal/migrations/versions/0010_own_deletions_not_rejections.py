"""an author's own deletions are not rejections

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 13:55:00

The desk shows each author's 未通過/刪除 count (user_account.rejected_comments). It counted the
comments authors deleted themselves (decided_by_id is the author) as if a moderator had taken them
down. Counted again here without those; the domain keeps it so from now on.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

RECOUNT = (
    "UPDATE user_account SET rejected_comments = (SELECT count(*) FROM comment "
    "WHERE comment.author_id = user_account.id AND ({}))"
)


def upgrade():
    op.execute(RECOUNT.format(
        "comment.status = 'rejected' OR (comment.status = 'deleted' "
        "AND (comment.decided_by_id IS NULL OR comment.decided_by_id <> comment.author_id))"
    ))


def downgrade():
    op.execute(RECOUNT.format("comment.status IN ('rejected', 'deleted')"))
