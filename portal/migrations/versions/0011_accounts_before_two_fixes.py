"""accounts stored before the phone and nickname fixes

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 09:30:00

Phones are now normalised (full-width digits to ASCII) before they are hashed, and nicknames lose
their invisible characters. Accounts stored before hold the old forms: a full-width phone that
login no longer finds (and may be a second account for a number another account has), a nickname
that shows as another reader's. This normalises what is safe (see portal.domain.account_repair):
a phone no other account shares; a nickname whose cleaned form is valid and nobody else's, else a
placeholder 網友{id} that is flagged in the audit record. Each change is an audit row.
`flask check-accounts` lists what needs a person: two accounts that are one phone are never merged
here. Without a PII_KEY the phones cannot be read; `flask check-accounts --fix` does them later.

The downgrade changes nothing back: the old code reads the normalised forms as well.
"""
from alembic import op
from flask import current_app


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    from portal.domain import account_repair
    from portal.domain.pii import PhoneVault
    from portal.domain.sensitive_words import current_entries
    from portal.domain.wordlist import WordList
    from portal.models import utc_now

    connection = op.get_bind()
    key = current_app.config.get("PII_KEY") or ""
    account_repair.repair(
        connection,
        vault=PhoneVault.from_secret(key) if len(key) >= 32 else None,
        words=lambda: WordList.build(current_entries(connection), version="migration-0011"),
        now=utc_now(),
        with_readings=False,  # user_account.nickname_reading comes in 0020, which fills it
    )


def downgrade():
    pass
