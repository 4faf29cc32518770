"""The word-list CSV (PLEDGE_RULES.md §6.2) and the per-version automaton cache (§6.3)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from portal.domain.wordlist import WordEntry, WordList, WordListError, parse_word_csv, to_csv

TEST_DICTIONARY = """term,category,action,pinyin
赌博,C8,block,yes
代开发票,C14,block,no
casino,C8,block,no
蠢货,C9/C12,review,no
"re:(\\p{Han}{1,4})人都是(骗子|小偷)",C5,review,no
"""

DEMO_WORDS = Path(__file__).resolve().parents[2] / "portal" / "demo" / "data" / "words.csv"

HEADER = "term,category,action,pinyin\n"


@pytest.fixture(autouse=True)
def _fresh_cache():
    WordList.clear_cache()
    yield
    WordList.clear_cache()


def test_the_test_dictionary_parses_into_its_five_entries():
    assert parse_word_csv(TEST_DICTIONARY) == [
        WordEntry("赌博", ("C8",), "block", True),
        WordEntry("代开发票", ("C14",), "block", False),
        WordEntry("casino", ("C8",), "block", False),
        WordEntry("蠢货", ("C9", "C12"), "review", False),
        WordEntry("re:(\\p{Han}{1,4})人都是(骗子|小偷)", ("C5",), "review", False),
    ]


def test_a_block_pattern_of_more_than_one_character_and_a_review_pattern_of_one_are_kept():
    entries = parse_word_csv(HEADER + '"re:赌.{0,2}博",C8,block,no\n"re:\\d",C14,review,no\n')
    assert [e.term for e in entries] == ["re:赌.{0,2}博", "re:\\d"]


def test_a_quoted_regex_keeps_its_comma_and_is_a_regex_entry():
    entry = parse_word_csv(TEST_DICTIONARY)[4]
    assert entry.is_regex
    assert entry.pattern == "(\\p{Han}{1,4})人都是(骗子|小偷)"
    assert not parse_word_csv(TEST_DICTIONARY)[0].is_regex


def test_a_utf8_bom_is_allowed():
    assert parse_word_csv("\ufeff" + TEST_DICTIONARY) == parse_word_csv(TEST_DICTIONARY)


def test_crlf_line_endings_and_blank_lines_are_accepted():
    text = TEST_DICTIONARY.replace("\n", "\r\n") + "\r\n"
    assert parse_word_csv(text) == parse_word_csv(TEST_DICTIONARY)


def test_empty_pinyin_means_no_and_categories_come_out_ascending():
    (entry,) = parse_word_csv(HEADER + "蠢货,C12/C9,review,\n")
    assert entry == WordEntry("蠢货", ("C9", "C12"), "review", False)


def test_allow_entries_have_no_category():
    (entry,) = parse_word_csv(HEADER + "废物利用,,allow,no\n")
    assert entry == WordEntry("废物利用", (), "allow", False)


def test_a_single_character_review_entry_is_allowed():
    (entry,) = parse_word_csv(HEADER + "滚,C12,review,no\n")
    assert entry.action == "review"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (",C8,block,no\n", "第2行：詞條為空"),
        ("   ,C8,block,no\n", "第2行：詞條為空"),
        ("re:,C8,review,no\n", "第2行：詞條為空"),
        ("赌博,C19,block,no\n", "第2行：類別「C19」無效"),
        ("赌博,C8/X1,block,no\n", "第2行：類別「C8/X1」無效"),
        ("赌博,,block,no\n", "第2行：類別「」無效"),
        ("废物利用,C9,allow,no\n", "第2行：類別「C9」無效"),
        ("赌博,C8,ban,no\n", "第2行：處理方式「ban」無效，應為 block、review 或 allow"),
        ("赌博,C8,,no\n", "第2行：處理方式「」無效，應為 block、review 或 allow"),
        ("赌,C8,block,no\n", "第2行：不允許單字屏蔽詞"),
        ("賭！,C8,block,no\n", "第2行：不允許單字屏蔽詞"),
        ('"re:([",C8,review,no\n', "第2行：正則表達式無效"),
        ('"re:a*",C8,review,no\n', "第2行：正則表達式無效"),
        # A block pattern one common character satisfies refused every comment and nickname.
        ('"re:.",C8,block,no\n', "第2行：正則表達式單獨一個字（如「的」）就會匹配，會拒絕幾乎所有評論"),
        ('"re:\\d",C8,block,no\n', "第2行：正則表達式單獨一個字（如「1」）就會匹配，會拒絕幾乎所有評論"),
        (
            '"re:赌博|[a-z]",C8,block,no\n',
            "第2行：正則表達式單獨一個字（如「a」）就會匹配，會拒絕幾乎所有評論",
        ),
        ("赌博,C8,block,no\n代开发票,C14,block,no\n賭博,C8,review,no\n", "第4行：與第2行重複"),
        ("赌博,C8,block,no\n赌 博,C8,block,no\n", "第3行：與第2行重複"),
        ('"re:a+b",C8,review,no\n"re:a+b",C9,review,no\n', "第3行：與第2行重複"),
    ],
)
def test_each_import_error_names_its_row(body, message):
    with pytest.raises(WordListError) as caught:
        parse_word_csv(HEADER + body)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\ufeff",
        "word,category,action,pinyin\n赌博,C8,block,no\n",
        "term,category,action\n赌博,C8,block\n",
    ],
)
def test_a_wrong_or_missing_header_is_refused(text):
    with pytest.raises(WordListError) as caught:
        parse_word_csv(text)
    assert str(caught.value) == "文件表頭應為 term,category,action,pinyin"


def test_rows_are_counted_from_the_header_including_blank_lines():
    with pytest.raises(WordListError) as caught:
        parse_word_csv(HEADER + "赌博,C8,block,no\n\n代开发票,C99,block,no\n")
    assert str(caught.value) == "第4行：類別「C99」無效"
    assert caught.value.row == 4


def test_an_import_is_all_or_nothing_stopping_at_the_first_bad_row():
    with pytest.raises(WordListError) as caught:
        parse_word_csv(HEADER + "赌博,C8,block,no\n赌,C8,block,no\n蠢货,C99,review,no\n")
    assert str(caught.value) == "第3行：不允許單字屏蔽詞"


def test_the_error_is_a_value_error():
    assert issubclass(WordListError, ValueError)


@pytest.mark.parametrize(
    "body", ["赌博,C8,block,maybe\n", '"re:a+b",C8,review,yes\n', "废物利用,,allow,yes\n"]
)
def test_pinyin_must_be_yes_no_or_empty_and_no_for_regex_and_allow(body):
    with pytest.raises(WordListError, match=r"^第2行：拼音"):
        parse_word_csv(HEADER + body)


def test_extra_non_empty_fields_are_refused_and_trailing_empty_ones_ignored():
    with pytest.raises(WordListError, match=r"^第2行："):
        parse_word_csv(HEADER + "re:a{1,4},C8,review,no\n")  # unquoted comma
    assert parse_word_csv(HEADER + "赌博,C8,block,yes,,\n") == [WordEntry("赌博", ("C8",), "block", True)]


def test_export_round_trips_and_quotes_a_pattern_with_a_comma():
    entries = parse_word_csv(TEST_DICTIONARY)
    exported = to_csv(entries)
    assert exported.startswith("term,category,action,pinyin\n")
    assert '"re:(\\p{Han}{1,4})人都是(骗子|小偷)",C5,review,no' in exported
    assert "赌博,C8,block,yes\n" in exported
    assert parse_word_csv(exported) == entries


def test_the_demo_word_list_is_valid_holds_the_test_entries_and_round_trips():
    entries = parse_word_csv(DEMO_WORDS.read_text(encoding="utf-8"))
    assert set(parse_word_csv(TEST_DICTIONARY)) <= set(entries)
    assert len(entries) >= 40
    assert any(entry.action == "allow" for entry in entries)
    assert parse_word_csv(to_csv(entries)) == entries


def test_cached_builds_a_version_once_and_shares_it():
    calls = []

    def loader():
        calls.append(1)
        return parse_word_csv(TEST_DICTIONARY)

    first = WordList.cached("v1", loader)
    second = WordList.cached("v1", loader)
    assert first is second
    assert len(calls) == 1
    assert first.version == "v1"
    assert len(first) == 5


def test_a_new_version_is_built_anew():
    calls = []

    def loader():
        calls.append(1)
        return parse_word_csv(TEST_DICTIONARY)

    assert WordList.cached("v1", loader) is not WordList.cached("v2", loader)
    assert len(calls) == 2


def test_concurrent_first_requests_build_once():
    calls = []
    start = threading.Barrier(8)

    def loader():
        calls.append(1)
        time.sleep(0.05)
        return parse_word_csv(TEST_DICTIONARY)

    def request(_):
        start.wait()
        return WordList.cached("v1", loader)

    with ThreadPoolExecutor(max_workers=8) as pool:
        lists = list(pool.map(request, range(8)))
    assert len(calls) == 1
    assert all(words is lists[0] for words in lists)


def test_build_holds_an_automaton_for_terms_and_one_for_pinyin():
    words = WordList.build(parse_word_csv(TEST_DICTIONARY), "v1")
    assert words.terms is not None
    assert words.pinyin is not None  # 赌博 → dubo
    assert len(words.regexes) == 1
    empty = WordList.build([], "empty")
    assert empty.terms is None and empty.pinyin is None and not empty.regexes
