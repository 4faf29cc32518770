"""The site's published word list, shared by every request of the process (one automaton per version)."""

from __future__ import annotations

from sqlalchemy import select

from portal.domain.wordlist import WordEntry, WordList
from portal.extensions import db
from portal.models import SensitiveWord
from portal.page_context import settings


def load_entries() -> list[WordEntry]:
    return [
        WordEntry(
            term=row.term,
            categories=tuple(c for c in row.categories.split("/") if c),
            action=row.action,
            pinyin=row.pinyin,
        )
        for row in db.session.scalars(select(SensitiveWord).order_by(SensitiveWord.id))
    ]


def current_word_list() -> WordList:
    return WordList.cached(settings()["wordlist_version"], load_entries)
