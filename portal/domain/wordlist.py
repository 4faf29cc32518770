"""The sensitive-word list (PLEDGE_RULES.md §6.2, §6.3): its CSV format and the automata built from it.

A list version is immutable. `WordList.cached(version, loader)` builds the Aho–Corasick automata once per
version and shares them between requests and threads; publishing a new list means a new version string,
and the new version replaces the old one in the cache.
The matching itself (which views are scanned, what a hit means) lives in `portal.domain.pledge`.
"""

from __future__ import annotations

import csv
import io
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import ahocorasick_rs
import regex

HEADER = ("term", "category", "action", "pinyin")
ACTIONS = ("block", "review", "allow")
CATEGORY_IDS = tuple(f"C{n}" for n in range(1, 19))
REGEX_PREFIX = "re:"
PINYIN_MIN_LETTERS = 4  # §6.3: shorter pinyin keys would match everywhere

# Versions kept: only the published one is asked for, and a 10,000-entry list takes about 10 MiB in
# every process, so an edit of the list drops the old version instead of keeping it.
_CACHE_SIZE = 1


@dataclass(frozen=True, slots=True)  # no __dict__: a list can hold 10,000 of them
class WordEntry:
    term: str  # a word or phrase in either script, or "re:" plus a pattern
    categories: tuple[str, ...]  # C1–C18, ascending; empty for "allow"
    action: str  # "block" | "review" | "allow"
    pinyin: bool
    # The term's pinyin form when it is stored with the published list (pledge.term_pinyin); None: not
    # known, computed when the list is built. Derived data: not part of the CSV, nor of equality.
    reading: str | None = field(default=None, compare=False)

    @property
    def is_regex(self) -> bool:
        return self.term.startswith(REGEX_PREFIX)

    @property
    def pattern(self) -> str | None:
        return self.term[len(REGEX_PREFIX) :] if self.is_regex else None


class WordListError(ValueError):
    """An import refused as a whole; str() is the message shown to the editor (§6.2)."""

    def __init__(self, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.row = row

    def __str__(self) -> str:
        return self.message


MSG_HEADER = "文件表頭應為 term,category,action,pinyin"
MSG_EMPTY = "第{n}行：詞條為空"
MSG_CATEGORY = "第{n}行：類別「{value}」無效"
MSG_ACTION = "第{n}行：處理方式「{value}」無效，應為 block、review 或 allow"
MSG_SINGLE = "第{n}行：不允許單字屏蔽詞"
MSG_REGEX = "第{n}行：正則表達式無效"
MSG_SINGLE_PATTERN = "第{n}行：正則表達式單獨一個字（如「{ch}」）就會匹配，會拒絕幾乎所有評論"
# Characters nearly every comment has (as matching sees them: Simplified, case-folded). A `block` pattern
# that one of them alone satisfies (「re:.」, 「re:\\d」, 「re:[a-z]」) refused every comment and nickname.
_COMMON_CHARACTERS = ("的", "好", "a", "1", "。", "，", "!", " ")
MSG_DUPLICATE = "第{n}行：與第{m}行重複"
# Not worded in §6.2; same style.
MSG_PINYIN = "第{n}行：拼音「{value}」無效，應為 yes、no 或留空（正則表達式和 allow 詞條須為 no）"
MSG_COLUMNS = "第{n}行：欄位數目應為4個（term,category,action,pinyin）"
MSG_CSV = "第{n}行：CSV 格式錯誤"
# The column's width (SensitiveWord.term) and the word form's limit: PostgreSQL refused a longer
# term, and a NUL, with a bare 請求無效 that named no row; SQLite stored what the form cannot edit.
TERM_MAX = 200
MSG_TERM_LONG = "第{n}行：詞條不能超過" + str(TERM_MAX) + "字，現為{length}字"
MSG_CONTROL = "第{n}行：詞條含有控制字符（如 NUL），請刪除後再導入"
_CONTROL_CHARACTERS = regex.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _category_key(category: str) -> int:
    return int(category[1:])


def _compile_pattern(pattern: str) -> regex.Pattern[str] | None:
    """The entry's pattern, or None when it is invalid or matches the empty string (a hit of nothing)."""
    try:
        compiled = regex.compile(pattern)
    except (regex.error, ValueError, OverflowError, RecursionError):
        return None
    return None if compiled.search("") is not None else compiled


def common_character_hit(pattern: str | regex.Pattern[str]) -> str | None:
    """The common character that alone satisfies this pattern, if one does: as a `block` entry it
    would refuse nearly every comment. None for a pattern that cannot be compiled."""
    compiled = _compile_pattern(pattern) if isinstance(pattern, str) else pattern
    if compiled is None:
        return None
    return next((ch for ch in _COMMON_CHARACTERS if compiled.search(ch)), None)


def parse_word_csv(text: str) -> list[WordEntry]:
    """Parse a §6.2 word list; all or nothing: the first bad row raises WordListError."""
    return [entry for _, entry, _ in parse_word_rows(text)]


def parse_word_rows(text: str) -> list[tuple[int, WordEntry, tuple[str, str]]]:
    """parse_word_csv's entries with the row each came from and the key that makes two rows the
    same entry (duplicate_key)."""
    from portal.domain.pledge import term_forms  # pledge imports this module

    if text.startswith("\ufeff"):
        text = text[1:]
    rows = csv.reader(io.StringIO(text, newline=""))
    entries: list[tuple[int, WordEntry, tuple[str, str]]] = []
    seen: dict[tuple[str, str], int] = {}
    n = 0
    while True:
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as error:
            raise WordListError(MSG_CSV.format(n=n + 1), n + 1) from error
        n += 1
        if n == 1:
            if tuple(field.strip() for field in row) != HEADER:
                raise WordListError(MSG_HEADER, 1)
            continue
        if not any(field.strip() for field in row):
            continue  # a blank line
        if len(row) > len(HEADER) and any(field.strip() for field in row[len(HEADER) :]):
            raise WordListError(MSG_COLUMNS.format(n=n), n)
        entry, key = _parse_row(n, [*row, "", "", ""][: len(HEADER)], term_forms)
        if key in seen:
            raise WordListError(MSG_DUPLICATE.format(n=n, m=seen[key]), n)
        seen[key] = n
        entries.append((n, entry, key))
    if n == 0:
        raise WordListError(MSG_HEADER, 1)
    return entries


def _parse_row(n: int, row: list[str], term_forms: Callable) -> tuple[WordEntry, tuple[str, str]]:
    term = _undefused(row[0].strip())
    is_regex = term.startswith(REGEX_PREFIX)
    pattern = term[len(REGEX_PREFIX) :] if is_regex else ""
    if not term or (is_regex and not pattern.strip()):
        raise WordListError(MSG_EMPTY.format(n=n), n)
    if len(term) > TERM_MAX:
        raise WordListError(MSG_TERM_LONG.format(n=n, length=len(term)), n)
    if _CONTROL_CHARACTERS.search(term):
        raise WordListError(MSG_CONTROL.format(n=n), n)

    category_field = row[1].strip()
    categories = [part.strip().upper() for part in category_field.split("/")] if category_field else []
    if any(category not in CATEGORY_IDS for category in categories):
        raise WordListError(MSG_CATEGORY.format(n=n, value=category_field), n)

    action = row[2].strip().lower()
    if action not in ACTIONS:
        raise WordListError(MSG_ACTION.format(n=n, value=row[2].strip()), n)
    if (action == "allow") == bool(categories):  # allow takes no category; block and review need one
        raise WordListError(MSG_CATEGORY.format(n=n, value=category_field), n)

    pinyin_field = row[3].strip().lower()
    if pinyin_field not in ("", "yes", "no") or (pinyin_field == "yes" and (is_regex or action == "allow")):
        raise WordListError(MSG_PINYIN.format(n=n, value=row[3].strip()), n)

    if is_regex:
        compiled = _compile_pattern(pattern)
        if compiled is None:
            raise WordListError(MSG_REGEX.format(n=n), n)
        if action == "block" and (ch := common_character_hit(compiled)):
            raise WordListError(MSG_SINGLE_PATTERN.format(n=n, ch=ch), n)
        key = ("re", pattern)
    else:
        forms = term_forms(term, pinyin=False)  # the key needs no pinyin
        if not forms.norm:
            raise WordListError(MSG_EMPTY.format(n=n), n)
        if action == "block" and len(forms.skeleton) < 2:
            raise WordListError(MSG_SINGLE.format(n=n), n)
        key = _term_key(forms)

    entry = WordEntry(
        term=term,
        categories=tuple(sorted(set(categories), key=_category_key)),
        action=action,
        pinyin=pinyin_field == "yes",
    )
    return entry, key


def _term_key(forms) -> tuple[str, str]:
    return ("term", forms.skeleton or forms.norm)


def duplicate_key(term: str) -> tuple[str, str]:
    """What makes two entries one (MSG_DUPLICATE): a pattern by its text, a term by its folded form,
    so that 「賭博」 and 「赌博」, or 「ＡＢＣ」 and 「abc」, are the same entry."""
    from portal.domain.pledge import term_forms  # pledge imports this module

    if term.startswith(REGEX_PREFIX):
        return ("re", term[len(REGEX_PREFIX) :])
    return _term_key(term_forms(term, pinyin=False))


# A spreadsheet runs a cell that starts like a formula (=HYPERLINK, =cmd|…), and terms may come
# from lists found elsewhere: the export writes such a term after an apostrophe, as the record's
# export does, and the import takes one apostrophe off again, so the list still round-trips.
FORMULA_STARTS = ("=", "+", "-", "@")


def _defused(term: str) -> str:
    return "'" + term if term.startswith(FORMULA_STARTS) else term


def _undefused(term: str) -> str:
    return term[1:] if term.startswith("'") and term[1:].startswith(FORMULA_STARTS) else term


def to_csv(entries: Iterable[WordEntry]) -> str:
    """Export in the import format (§6.2); parse_word_csv(to_csv(entries)) gives the entries back."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    for entry in entries:
        writer.writerow(
            [_defused(entry.term), "/".join(entry.categories), entry.action, "yes" if entry.pinyin else "no"]
        )
    return buffer.getvalue()


class Automaton:
    """Aho–Corasick over a list's keys: every occurrence, overlapping ones included, as character spans.

    ahocorasick-rs (Rust's aho-corasick) looks up a state's next state in constant time, so a scan costs
    nearly the same for 10 or 10,000 Chinese terms (pyahocorasick searched each node's children one by one:
    10,000 terms scanned twice as slowly even keyed on UTF-8 bytes).
    """

    __slots__ = ("_indexes", "_matcher")

    def __init__(self, keys: dict[str, list[int]]) -> None:
        self._indexes = [tuple(indexes) for indexes in keys.values()]
        self._matcher = ahocorasick_rs.AhoCorasick(list(keys), matchkind=ahocorasick_rs.MatchKind.Standard)

    def spans(self, view: str) -> list[tuple[int, int, int]]:
        """(start, end, entry index) for each occurrence of a key in `view`."""
        indexes = self._indexes
        return [
            (start, end, index)
            for key, start, end in self._matcher.find_matches_as_indexes(view, overlapping=True)
            for index in indexes[key]
        ]


def _automaton(keys: dict[str, list[int]]) -> Automaton | None:
    return Automaton(keys) if keys else None


_cache: OrderedDict[str, WordList] = OrderedDict()
_cache_lock = threading.Lock()


class WordList:
    """One immutable list version with its matchers.

    `terms` holds each term entry's norm, skeleton and dedup forms (keyed on UTF-8 bytes); `separated`
    only the norm forms that hold characters the skeleton drops (usually none); `pinyin` the pinyin of
    `pinyin=yes` entries with at least four letters (keyed on the string).
    """

    __slots__ = (
        "entries",
        "pinyin",
        "pinyin_max_letters",
        "regex_by_index",
        "regexes",
        "separated",
        "term_max_chars",
        "terms",
        "version",
    )

    def __init__(
        self,
        *,
        version: str,
        entries: tuple[WordEntry, ...],
        terms: Automaton | None,
        separated: Automaton | None,
        pinyin: Automaton | None,
        pinyin_max_letters: int,
        term_max_chars: int,
        regexes: tuple[tuple[int, regex.Pattern[str]], ...],
    ) -> None:
        self.version = version
        self.entries = entries
        self.terms = terms
        self.separated = separated
        self.pinyin = pinyin
        self.pinyin_max_letters = pinyin_max_letters
        self.term_max_chars = term_max_chars
        self.regexes = regexes
        self.regex_by_index = dict(regexes)  # the evasion test looks patterns up by entry

    def __repr__(self) -> str:
        return f"<WordList {self.version!r}: {len(self.entries)} entries>"

    def __len__(self) -> int:
        return len(self.entries)

    @classmethod
    def build(cls, entries: Iterable[WordEntry], version: str) -> WordList:
        """Build the automata and compile the patterns. Entries are trusted (parse_word_csv checks them)."""
        from portal.domain.pledge import term_forms, term_pinyin  # pledge imports this module

        entries = tuple(entries)
        # Only pinyin entries need a pinyin form: a list without them never loads pypinyin, and one whose
        # readings were stored when it was published never loads its phrase dictionaries.
        wants_pinyin = [entry.pinyin and entry.action != "allow" and not entry.is_regex for entry in entries]
        unknown = [
            e.term for e, wants in zip(entries, wants_pinyin, strict=True) if wants and e.reading is None
        ]
        computed = dict(zip(unknown, term_pinyin(unknown), strict=True)) if unknown else {}
        term_keys: dict[str, list[int]] = {}
        separated_keys: dict[str, list[int]] = {}
        pinyin_keys: dict[str, list[int]] = {}
        regexes: list[tuple[int, regex.Pattern[str]]] = []
        pinyin_max = 0
        for index, entry in enumerate(entries):
            if entry.is_regex:
                compiled = _compile_pattern(entry.pattern or "")
                if compiled is not None:
                    regexes.append((index, compiled))
                continue
            forms = term_forms(entry.term, pinyin=False)
            for key in dict.fromkeys((forms.norm, forms.skeleton, forms.dedup)):
                if key:
                    term_keys.setdefault(key, []).append(index)
            if forms.norm != forms.skeleton:  # a norm form with spaces or punctuation in it
                separated_keys.setdefault(forms.norm, []).append(index)
            if not wants_pinyin[index]:
                continue
            reading = computed[entry.term] if entry.reading is None else entry.reading
            if sum(ch.isascii() and ch.isalpha() for ch in reading) >= PINYIN_MIN_LETTERS:
                pinyin_keys.setdefault(reading, []).append(index)
                pinyin_max = max(pinyin_max, len(reading))
        return cls(
            version=version,
            entries=entries,
            terms=_automaton(term_keys),
            separated=_automaton(separated_keys),
            pinyin=_automaton(pinyin_keys),
            pinyin_max_letters=pinyin_max,
            term_max_chars=max(map(len, term_keys), default=0),
            regexes=tuple(regexes),
        )

    @classmethod
    def cached(cls, version: str, loader: Callable[[], Iterable[WordEntry]]) -> WordList:
        """The list for `version`, built once per process and shared; `loader` runs only on a miss."""
        words = _cache.get(version)
        if words is not None:
            return words
        with _cache_lock:
            words = _cache.get(version)
            if words is None:
                words = cls.build(loader(), version)
                _cache[version] = words
                while len(_cache) > _CACHE_SIZE:
                    _cache.popitem(last=False)
            else:
                _cache.move_to_end(version)
        return words

    @staticmethod
    def clear_cache() -> None:
        with _cache_lock:
            _cache.clear()
