"""The site's published word list, shared by every request of the process (one automaton per version)."""

from __future__ import annotations

from portal.domain.sensitive_words import current_entries
from portal.domain.wordlist import WordList
from portal.extensions import db
from portal.page_context import settings


def current_word_list() -> WordList:
    return WordList.cached(settings()["wordlist_version"], lambda: current_entries(db.session))
