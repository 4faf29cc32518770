"""word pinyin readings

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 13:30:00

Each pinyin=yes entry of the word list stores its pinyin form, computed when the list is published,
so that workers building the automaton never load pypinyin's phrase dictionaries. Rows already there
keep NULL: the next publish fills them in, and until then a build computes them in a child process.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sensitive_word', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pinyin_reading', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('sensitive_word', schema=None) as batch_op:
        batch_op.drop_column('pinyin_reading')
