"""Pinyin without the phrase dictionaries in the worker (PLEDGE_RULES §6.1, §6.3).

Terms' pinyin forms are computed with pypinyin's phrases when the list is published and stored with it;
comments are read character by character with pypinyin loaded without phrases. These tests prove that
gives the verdicts the phrase-loaded pypinyin gave, and that each published entry carries its form.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.domain.pledge import check_text, term_forms, term_pinyin
from portal.domain.sensitive_words import current_entries, import_csv, replace_word_list, save_word
from portal.domain.wordlist import WordEntry, WordList, parse_word_csv
from portal.models import Role, SensitiveWord, User, utc_now
from tests.helpers import fresh_interpreter

ROOT = Path(__file__).resolve().parents[2]
DEMO_WORDS = ROOT / "portal" / "demo" / "data" / "words.csv"


def run(code: str, stdin: str = "") -> str:
    """Runs `code` in a fresh interpreter (this process may have pypinyin loaded either way)."""
    return fresh_interpreter(code, stdin=stdin)


def test_every_character_reads_the_same_without_the_phrase_dictionaries():
    chars = "".join(
        chr(code)
        for first, last in ((0x3007, 0x3007), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
        for code in range(first, last + 1)
    )
    chars += "".join(chr(code) for code in range(0x20000, 0x2A6E0, 7))  # a sample of Extension B
    with_phrases = run(
        """
        import json, sys
        from pypinyin import lazy_pinyin
        from pypinyin.constants import PHRASES_DICT
        assert PHRASES_DICT
        print(json.dumps([(lazy_pinyin(ch) or [ch])[0] for ch in sys.stdin.read()]))
        """,
        chars,
    )
    in_a_worker = run(
        """
        import json, sys
        from portal.domain import pledge
        readings = [pledge._CHAR_PINYIN[ch] for ch in sys.stdin.read()]
        assert "pypinyin.phrases_dict" not in sys.modules
        print(json.dumps(readings))
        """,
        chars,
    )
    expected, got = json.loads(with_phrases), json.loads(in_a_worker)
    assert len(got) == len(chars) > 30_000
    differing = [(ch, e, g) for ch, e, g in zip(chars, expected, got, strict=True) if e != g]
    assert differing == []


def _pinyin_texts(entries: list[WordEntry]) -> list[str]:
    """Pinyin spellings of each pinyin entry, mixed with its characters, as an evader types them, and
    Han homophones that must not count."""
    texts = ["央视独播剧很好看", "他说话很傻，比较直", "刷卡单据要保存", "我们约好了去放炮竹"]
    for entry in entries:
        readings = [term_forms(ch).pinyin for ch in entry.term]
        whole = "".join(readings)
        texts += [
            f"大家一起来{whole}吧",
            f"{whole.upper()}！！",
            f"看看 {' '.join(readings)} 啊",
            f"ｌｉｎｋ {'-'.join(readings)} 去",
            "".join(f"{r[0]}{r[1:]}" for r in readings) + "网站",
        ]
        for k in range(len(entry.term)):  # one character typed as pinyin, the others kept
            texts.append("今天" + entry.term[:k] + readings[k] + entry.term[k + 1 :] + "真多")
            texts.append("今天" + "".join(readings[:k]) + entry.term[k] + "".join(readings[k + 1 :]) + "啊")
    return texts


def _verdicts(words: WordList, texts: list[str]) -> list[dict]:
    return [
        {
            **check_text(text, words).to_json_dict(),
            "hits": [
                (hit.rule, hit.action, hit.start, hit.end, hit.term) for hit in check_text(text, words).hits
            ],
        }
        for text in texts
    ]


def test_stored_readings_give_the_verdicts_the_phrase_loaded_pypinyin_gave():
    entries = parse_word_csv(DEMO_WORDS.read_text(encoding="utf-8"))
    pinyin_entries = [entry for entry in entries if entry.pinyin]
    assert len(pinyin_entries) >= 10
    texts = _pinyin_texts(pinyin_entries)
    readings = term_pinyin([entry.term for entry in entries])

    # As before: pypinyin with its phrases loaded, terms read in process as the list is built.
    before = run(
        """
        import json, sys
        from pypinyin import lazy_pinyin
        from portal.domain import pledge
        from portal.domain.wordlist import WordList, parse_word_csv
        from tests.domain.test_pinyin_readings import DEMO_WORDS, _verdicts

        pledge._phrase_pinyin = lambda runs: {run: tuple(lazy_pinyin(run)) for run in runs}
        words = WordList.build(parse_word_csv(DEMO_WORDS.read_text(encoding="utf-8")), "before")
        print(json.dumps(_verdicts(words, json.load(sys.stdin)), ensure_ascii=False))
        """,
        json.dumps(texts),
    )
    # Now, in a worker: the published list's stored readings, no phrase dictionary in the process.
    now = run(
        """
        import dataclasses, json, sys
        from portal.domain.wordlist import WordList, parse_word_csv
        from tests.domain.test_pinyin_readings import DEMO_WORDS, _verdicts

        texts, readings = json.load(sys.stdin)
        entries = parse_word_csv(DEMO_WORDS.read_text(encoding="utf-8"))
        stored = [dataclasses.replace(e, reading=r if e.pinyin else None) for e, r in zip(entries, readings)]
        words = WordList.build(stored, "now")
        verdicts = _verdicts(words, texts)
        assert "pypinyin" in sys.modules and "pypinyin.phrases_dict" not in sys.modules
        print(json.dumps(verdicts, ensure_ascii=False))
        """,
        json.dumps([texts, readings]),
    )
    expected, got = json.loads(before), json.loads(now)
    assert got == expected
    pinyin_hits = sum(any(h[0] == "P15" and h[1] == "review" for h in v["hits"]) for v in got)
    assert pinyin_hits >= len(texts) // 2  # the texts do exercise the pinyin automaton


def test_term_pinyin_reads_phrases_whole_and_keeps_latin_runs():
    assert term_pinyin(["银行", "赌bo", "六合彩", "ⓓⓤ博", "!!"]) == [
        "yinhang",
        "dubo",
        "liuhecai",
        "dubo",
        "",
    ]
    assert term_pinyin(["重庆"]) == [term_forms("重庆").pinyin] == ["chongqing"]  # not zhongqing


def test_a_stored_reading_is_what_the_list_matches_without_reading_the_term_again():
    # A made-up reading proves that build takes the stored form instead of computing one.
    stored = WordEntry("赌博", ("C8",), "block", True, reading="zzqqxx")
    words = WordList.build([stored], "v")
    assert check_text("一起来zzqqxx吧", words).action == "review"
    assert check_text("一起来dubo吧", words).action == "pass"
    computed = WordList.build([WordEntry("赌博", ("C8",), "block", True)], "w")
    assert check_text("一起来dubo吧", computed).action == "review"


@pytest.fixture
def admin(session):
    user = User(nickname="管理甲", phone_cipher=b"-", phone_hmac="admin", password_hash="-", role=Role.ADMIN)
    session.add(user)
    session.flush()
    return user


def _stored(session) -> dict[str, str | None]:
    return dict(session.execute(select(SensitiveWord.term, SensitiveWord.pinyin_reading)).all())


def test_publishing_stores_the_reading_of_each_pinyin_entry_only(session):
    entries = parse_word_csv("term,category,action,pinyin\n银行卡,C14,review,yes\n代开发票,C14,block,no\n")
    replace_word_list(session, entries, now=utc_now())
    assert _stored(session) == {"银行卡": "yinhangka", "代开发票": None}
    assert [e.reading for e in current_entries(session)] == ["yinhangka", None]


def test_editing_a_term_or_its_pinyin_flag_computes_its_reading_again(session, admin):
    now = utc_now()
    word = save_word(
        session, word=None, term="赌博", categories="C8", action="block", pinyin=True, actor=admin, now=now
    )
    assert word.pinyin_reading == "dubo"
    save_word(
        session, word=word, term="博彩", categories="C8", action="block", pinyin=True, actor=admin, now=now
    )
    assert word.pinyin_reading == "bocai"
    save_word(
        session, word=word, term="博彩", categories="C8", action="block", pinyin=False, actor=admin, now=now
    )
    assert word.pinyin_reading is None


def test_an_import_stores_readings_for_new_and_changed_pinyin_entries(session, admin):
    now = utc_now()
    import_csv(session, text="term,category,action,pinyin\n赌博,C8,block,no\n", actor=admin, now=now)
    assert _stored(session) == {"赌博": None}
    text = "term,category,action,pinyin\n赌博,C8,block,yes\n刷单,C14,block,yes\n蠢货,C9,review,no\n"
    import_csv(session, text=text, actor=admin, now=now)
    assert _stored(session) == {"赌博": "dubo", "刷单": "shuadan", "蠢货": None}


def test_a_pinyin_row_without_a_stored_reading_gets_one_at_the_next_publish(session, admin):
    session.add(SensitiveWord(term="约炮", categories="C8", action="block", pinyin=True))  # an older row
    session.flush()
    entry = current_entries(session)[0]
    assert entry.reading is None
    assert check_text("yuepao吗", WordList.build([entry], "v")).action == "review"  # computed at build
    import_csv(session, text="term,category,action,pinyin\n刷单,C14,block,no\n", actor=admin, now=utc_now())
    assert _stored(session) == {"约炮": "yuepao", "刷单": None}
