"""Publishing the word list: its version is a hash of its content, so every process and every
database agree on which automaton a version means."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from portal.domain.wordlist import WordEntry, to_csv
from portal.models import SensitiveWord, SiteSetting


def version_of(entries: Sequence[WordEntry]) -> str:
    return hashlib.sha256(to_csv(entries).encode()).hexdigest()[:16] if entries else "0"


def replace_word_list(session: Session, entries: Sequence[WordEntry], *, now: datetime) -> str:
    """Store `entries` as the published list and return its version."""
    session.execute(delete(SensitiveWord))
    for entry in entries:
        session.add(
            SensitiveWord(
                term=entry.term,
                categories="/".join(entry.categories),
                action=entry.action,
                pinyin=entry.pinyin,
                created_at=now,
                updated_at=now,
            )
        )
    version = version_of(entries)
    setting = session.get(SiteSetting, "wordlist_version")
    if setting is None:
        session.add(SiteSetting(key="wordlist_version", value=version))
    else:
        setting.value = version
    return version
