"""private page stamps

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 12:40:00

Signed-in readers' and staff pages are cached too, each under its own key: a reader's under the
content version and their own page stamp, staff pages under the activity stamp (any write).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('content_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('activity', sa.String(length=32), nullable=False, server_default='0'))

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('page_stamp', sa.String(length=32), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('page_stamp')

    with op.batch_alter_table('content_version', schema=None) as batch_op:
        batch_op.drop_column('activity')
