"""Publishing the word list: its version is a hash of its content, so every process and every
database agree on which automaton a version means."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, select
from sqlalchemy.orm import Session

from portal.domain import audit
from portal.domain.errors import Rejected
from portal.domain.pledge import term_pinyin
from portal.domain.wordlist import (
    MSG_DUPLICATE,
    REGEX_PREFIX,
    WordEntry,
    WordListError,
    duplicate_key,
    parse_word_csv,
    parse_word_rows,
    to_csv,
)
from portal.models import SensitiveWord, SiteSetting, User

MSG_HELD = "第{n}行：與詞庫中已有的「{term}」相同（繁簡、全半形、大小寫或空格不同也算相同）"


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
                pinyin_reading=entry.reading if entry.pinyin else None,
                created_at=now,
                updated_at=now,
            )
        )
    return _publish(session)


def current_entries(bind: Session | Connection) -> list[WordEntry]:
    """The published list. Read as plain rows, not ORM objects, and the entries share their category
    tuples and actions: every process holds the list it builds, and a list can have 10,000 entries.
    (A Connection too: migration 0011 screens nicknames with it.)"""
    categories_of: dict[str, tuple[str, ...]] = {}
    rows = bind.execute(
        select(
            SensitiveWord.term,
            SensitiveWord.categories,
            SensitiveWord.action,
            SensitiveWord.pinyin,
            SensitiveWord.pinyin_reading,
        ).order_by(SensitiveWord.id)
    )
    entries = []
    for term, categories, action, pinyin, reading in rows:
        shared = categories_of.get(categories)
        if shared is None:
            shared = categories_of[categories] = tuple(c for c in categories.split("/") if c)
        entries.append(
            WordEntry(term=term, categories=shared, action=sys.intern(action), pinyin=pinyin, reading=reading)
        )
    return entries


def _store_readings(session: Session) -> None:
    """Compute the pinyin form of every pinyin entry that lacks one (new, edited or older rows), so
    that the workers building the automaton read it instead of loading pypinyin's phrases."""
    rows = session.scalars(
        select(SensitiveWord).where(SensitiveWord.pinyin.is_(True), SensitiveWord.pinyin_reading.is_(None))
    ).all()
    for row, reading in zip(rows, term_pinyin([row.term for row in rows]), strict=True):
        row.pinyin_reading = reading


def _publish(session: Session) -> str:
    """A new version for the list as it now stands: every process rebuilds its automaton."""
    session.flush()
    _store_readings(session)
    version = version_of(current_entries(session))
    setting = session.get(SiteSetting, "wordlist_version")
    if setting is None:
        session.add(SiteSetting(key="wordlist_version", value=version))
    else:
        setting.value = version
    return version


def _validated(term: str, categories: str, action: str, pinyin: bool) -> WordEntry:
    """One entry through the import's own validator, so the form and CSV agree."""
    line = to_csv(
        [
            WordEntry(
                term=term.strip(),
                categories=tuple(c for c in categories.split("/") if c),
                action=action,
                pinyin=pinyin,
            )
        ]
    )
    try:
        (entry,) = parse_word_csv(line)
    except WordListError as error:
        raise Rejected("term", str(error).split("：", 1)[-1]) from error
    return entry


def _same_as_another(session: Session, entry: WordEntry, word: SensitiveWord | None) -> bool:
    """Whether the import would call this entry a duplicate of another (§6.2 keys each term by its
    folded form): else the list's own export could not be imported again."""
    rows = session.execute(
        select(SensitiveWord.term, SensitiveWord.categories, SensitiveWord.action, SensitiveWord.pinyin)
        .where(SensitiveWord.id != (word.id if word is not None else 0))
        .order_by(SensitiveWord.id)
    )
    others = [
        WordEntry(term=t, categories=tuple(c for c in cats.split("/") if c), action=a, pinyin=p)
        for t, cats, a, p in rows
    ]
    try:
        parse_word_csv(to_csv([entry, *others]))  # the new entry is row 2, after the header
    except WordListError as error:
        return error.row is not None and error.message == MSG_DUPLICATE.format(n=error.row, m=2)
    return False


def _check_choices(term: str, categories: str, action: str, pinyin: bool) -> None:
    """The form's choices that do not go together, said in the form's words beside the choice (the
    import's 「類別「」無效」 or 「拼音「yes」無效」 name CSV cells the form does not have)."""
    if action == "allow" and categories:
        raise Rejected("categories", "放行（allow）詞條不屬於任何類別，請取消所選的類別")
    if action in ("block", "review") and not categories:
        raise Rejected("categories", "請至少選擇一個類別")
    if pinyin and (action == "allow" or term.strip().startswith(REGEX_PREFIX)):
        raise Rejected("pinyin", "正則表達式和放行（allow）詞條不能同時匹配拼音，請取消勾選")


def save_word(
    session: Session,
    *,
    word: SensitiveWord | None,
    term: str,
    categories: str,
    action: str,
    pinyin: bool,
    actor: User,
    now: datetime,
) -> SensitiveWord:
    _check_choices(term, categories, action, pinyin)
    entry = _validated(term, categories, action, pinyin)
    clash = session.scalar(select(SensitiveWord).where(SensitiveWord.term == entry.term))
    if clash is not None and (word is None or clash.id != word.id):
        raise Rejected("term", "詞庫中已有這個詞條")
    if _same_as_another(session, entry, word):
        raise Rejected("term", "詞庫中已有相同的詞條（繁簡、全半形、大小寫或空格不同也算相同）")
    before = (
        {"term": word.term, "categories": word.categories, "action": word.action, "pinyin": word.pinyin}
        if word
        else {}
    )
    if word is None:
        word = SensitiveWord(created_at=now)
        session.add(word)
    if (word.term, word.pinyin) != (entry.term, entry.pinyin):
        word.pinyin_reading = None  # _publish computes it again
    word.term, word.categories, word.action = entry.term, "/".join(entry.categories), entry.action
    word.pinyin, word.updated_at = entry.pinyin, now
    version = _publish(session)
    audit.record(
        session,
        actor=actor,
        action="admin.word_saved",
        target_type="sensitive_word",
        target_id=word.id,
        before=before,
        after={
            "term": word.term,
            "categories": word.categories,
            "action": word.action,
            "pinyin": word.pinyin,
            "version": version,
        },
        now=now,
    )
    return word


def delete_word(session: Session, *, word: SensitiveWord, actor: User, now: datetime) -> None:
    before = {"term": word.term, "categories": word.categories, "action": word.action}
    session.delete(word)
    version = _publish(session)
    audit.record(
        session,
        actor=actor,
        action="admin.word_deleted",
        target_type="sensitive_word",
        target_id=word.id,
        before=before,
        after={"version": version},
        now=now,
    )


@dataclass
class ImportReport:
    added: list[str]
    changed: list[str]
    unchanged: int


def import_csv(session: Session, *, text: str, actor: User, now: datetime) -> ImportReport:
    """All or nothing: the first bad row refuses the whole file (PLEDGE_RULES §6.2); else entries
    are added or changed by term, and entries not in the file stay."""
    try:
        rows = parse_word_rows(text)
    except WordListError as error:
        raise Rejected("file", str(error)) from error
    existing = {row.term: row for row in session.scalars(select(SensitiveWord))}
    # A new term that the list already holds in another form (「賭博」 beside 「赌博」) is the same
    # entry (§6.2): stored beside it, the list's own export could not be imported again.
    held = {duplicate_key(term): term for term in existing}
    for n, entry, key in rows:
        if entry.term not in existing and key in held:
            raise Rejected("file", MSG_HELD.format(n=n, term=held[key]))
    report = ImportReport(added=[], changed=[], unchanged=0)
    for _, entry, _ in rows:
        categories = "/".join(entry.categories)
        row = existing.get(entry.term)
        if row is None:
            session.add(
                SensitiveWord(
                    term=entry.term,
                    categories=categories,
                    action=entry.action,
                    pinyin=entry.pinyin,
                    created_at=now,
                    updated_at=now,
                )
            )
            report.added.append(entry.term)
        elif (row.categories, row.action, row.pinyin) != (categories, entry.action, entry.pinyin):
            if row.pinyin != entry.pinyin:
                row.pinyin_reading = None  # _publish computes it again
            row.categories, row.action, row.pinyin, row.updated_at = (
                categories,
                entry.action,
                entry.pinyin,
                now,
            )
            report.changed.append(entry.term)
        else:
            report.unchanged += 1
    version = _publish(session)
    audit.record(
        session,
        actor=actor,
        action="admin.words_imported",
        target_type="sensitive_word",
        after={
            "added": len(report.added),
            "changed": len(report.changed),
            "unchanged": report.unchanged,
            "version": version,
        },
        now=now,
    )
    return report
