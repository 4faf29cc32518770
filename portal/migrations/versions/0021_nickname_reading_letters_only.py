"""a nickname's reading leaves out spaces and punctuation and folds look-alike letters

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 23:30:00

P4 refuses a nickname that reads as another account's. The reading (portal.domain.script.reading)
folded script, width and case only, so 「運河 晨跑」, 「運河·晨跑」 and 「運河晨跑。」 were free beside
運河晨跑, and 「Lаke湖」 (a Cyrillic а) beside Lake湖. It now also folds the pledge's homoglyphs and
leaves out spaces, punctuation and controls. Every account's stored reading is read again here, a
batch at a time in id order (accounts that now read alike stay as they are: `flask check-accounts`
lists them for a person). The downgrade puts back the readings the older code computes.
"""
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

BATCH = 1000
_USERS = sa.table('user_account', sa.column('id'), sa.column('nickname'), sa.column('nickname_reading'))


def upgrade():
    from portal.domain.script import readings

    _read_again(op.get_bind(), readings)


def downgrade():
    from portal.domain.script import to_simplified

    def older_readings(texts):  # 0020's: NFKC, casefold, t2s
        folded = (unicodedata.normalize('NFKC', text).casefold().replace('\n', ' ') for text in texts)
        return to_simplified('\n'.join(folded)).split('\n') if texts else []

    _read_again(op.get_bind(), older_readings)


def _read_again(connection, readings) -> None:
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
