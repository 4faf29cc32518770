"""the flood check's partial index

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 10:00:00

P11's flood check loads the rows of a network's window that are not flagged yet. Through
ix_comment_ip_prefix it read every row of the window to look at its flags, so each post of a flood
re-read the whole window. This index holds the unflagged rows only (flagging a row takes it out), so
a post reads the rows new since the last one.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# The text of portal.models.comments.NOT_COORDINATED at this revision.
NOT_COORDINATED = "flags NOT LIKE '%coordinated%'"


def upgrade():
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.create_index('ix_comment_network_unflagged', ['ip_prefix', 'created_at'], unique=False, sqlite_where=sa.text(NOT_COORDINATED), postgresql_where=sa.text(NOT_COORDINATED))


def downgrade():
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_index('ix_comment_network_unflagged', sqlite_where=sa.text(NOT_COORDINATED), postgresql_where=sa.text(NOT_COORDINATED))
