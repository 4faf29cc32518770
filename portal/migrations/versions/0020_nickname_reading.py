"""each account keeps how its nickname reads, indexed

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-07 22:00:00

P4 refuses a nickname that reads as another account's in the 简体 view (運河晨跑 and 运河晨跑,
Ｌａｋｅ湖 and lake湖). The check converted every account's name through OpenCC on each registration
and rename; now each account keeps its reading (NFKC, casefold, t2s: portal.domain.script.reading)
in nickname_reading, and the check is one equality on its index. Not unique: accounts registered
before the rule may read alike (`flask check-accounts` lists them for a person).

The existing accounts get theirs here, a batch of rows at a time in id order, deregistered and
anonymised accounts included (a deregistered name stays reserved; an anonymised one reads as
已注销用户<id>). The downgrade drops the column: the older code reads the names themselves.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0018'
branch_labels = None
depends_on = None

BATCH = 1000
_USERS = sa.table('user_account', sa.column('id'), sa.column('nickname'), sa.column('nickname_reading'))


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('nickname_reading', sa.Text(), nullable=True))
    _fill_readings(op.get_bind())
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.alter_column('nickname_reading', existing_type=sa.Text(), nullable=False)
        batch_op.create_index('ix_user_account_nickname_reading', ['nickname_reading'], unique=False)


def _fill_readings(connection) -> None:
    from portal.domain.script import readings

    set_reading = (
        sa.update(_USERS)
        .where(_USERS.c.id == sa.bindparam('user_id'))
        .values(nickname_reading=sa.bindparam('reading'))
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.select(_USERS.c.id, _USERS.c.nickname)
            .where(_USERS.c.id > last)
            .order_by(_USERS.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        read = readings([nickname for _, nickname in rows])  # one OpenCC call a batch
        connection.execute(
            set_reading, [{'user_id': user_id, 'reading': r} for (user_id, _), r in zip(rows, read)]
        )
        last = rows[-1].id


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_index('ix_user_account_nickname_reading')
        batch_op.drop_column('nickname_reading')
