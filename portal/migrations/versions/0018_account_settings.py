"""賬號設置: nickname changes and deregistration (註銷)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 21:00:00

A reader may change their nickname once in 30 days (nickname_changed_at) and deregister their
account: deregistered_at marks it, the phone's real hash moves to retired_phone_hmac (indexed) so
the number may register again, and `flask purge` anonymises the row after the retention period
(anonymised_at).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('nickname_changed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('deregistered_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('retired_phone_hmac', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_user_account_retired_phone_hmac', ['retired_phone_hmac'], unique=False)


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_index('ix_user_account_retired_phone_hmac')
        batch_op.drop_column('anonymised_at')
        batch_op.drop_column('retired_phone_hmac')
        batch_op.drop_column('deregistered_at')
        batch_op.drop_column('nickname_changed_at')
