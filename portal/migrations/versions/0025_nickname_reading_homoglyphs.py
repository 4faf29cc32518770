"""a nickname's reading folds Cyrillic and Greek look-alike letters

Revision ID: 0025
Revises: 0023
Create Date: 2026-12-07 23:40:00

P4 refuses a nickname that reads as another account's. The reading (portal.domain.script.reading)
folded width, case and script but not look-alike letters, so 「Lаke湖」 with a Cyrillic а could
register beside 「Lake湖」. The reading now folds them as the pledge's step 6 does; the accounts whose
name holds such a letter are read again here, a batch at a time. Two accounts that now read alike
both stay (`flask check-accounts` lists them for a person). The downgrade reads them as before.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0023'
branch_labels = None
depends_on = None

BATCH = 1000
_USERS = sa.table('user_account', sa.column('id'), sa.column('nickname'), sa.column('nickname_reading'))


def _read_again(fold: bool) -> None:
    from portal.domain.script import HOMOGLYPHS, readings

    connection = op.get_bind()
    look_alike = set(chr(code) for code in HOMOGLYPHS)
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
        last = rows[-1].id
        # casefold first: an uppercase А folds to the а the table knows
        changed = [row for row in rows if look_alike & set(row.nickname.casefold())]
        if changed:
            read = readings([row.nickname for row in changed])
            if not fold:  # as before 0025: the reading of the letters as they are
                read = [_unfolded(row.nickname) for row in changed]
            connection.execute(
                set_reading, [{'user_id': row.id, 'reading': r} for row, r in zip(changed, read)]
            )


def _unfolded(nickname: str) -> str:
    import unicodedata

    from portal.domain.script import to_simplified

    return to_simplified(unicodedata.normalize('NFKC', nickname).casefold().replace('\n', ' '))


def upgrade():
    _read_again(fold=True)


def downgrade():
    _read_again(fold=False)
