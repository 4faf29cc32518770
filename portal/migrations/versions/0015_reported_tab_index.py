"""the 舉報 tab's partial index

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 16:00:00

The queue's 舉報 tab now lists what needs a moderator most first: comments hidden by reports, then
by how many readers reported them, then oldest. Its rows were found through ix_comment_status, every
approved comment of the site read to find the few with open reports; this index holds only the
comments ever reported, in the order's columns.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

# The text of portal.models.comments.EVER_REPORTED at this revision.
EVER_REPORTED = "report_count > 0"


def upgrade():
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.create_index('ix_comment_reported', ['status', 'report_count', 'created_at', 'id'], unique=False, sqlite_where=sa.text(EVER_REPORTED), postgresql_where=sa.text(EVER_REPORTED))


def downgrade():
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_index('ix_comment_reported', sqlite_where=sa.text(EVER_REPORTED), postgresql_where=sa.text(EVER_REPORTED))
