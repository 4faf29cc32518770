"""`flask pledge check` (PLEDGE_RULES §7): one JSON verdict per input line, for editors trying a list."""

from __future__ import annotations

import json
import warnings

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Comment, ModerationAction, SensitiveWord, SiteSetting

TEST_DICTIONARY = """term,category,action,pinyin
赌博,C8,block,yes
代开发票,C14,block,no
casino,C8,block,no
蠢货,C9/C12,review,no
"re:(\\p{Han}{1,4})人都是(骗子|小偷)",C5,review,no
"""
# portal/cli.py reads standard input with click.get_text_stream, deprecated in Click 8.5 (gone in 9.0);
# the behaviour tests look past that warning, and test_the_command_uses_no_deprecated_click_api
# names it.
pytestmark = pytest.mark.filterwarnings("ignore:'get_text_stream' is deprecated:DeprecationWarning")

C8 = (
    "您的評論含有違反《跟帖評論自律管理承諾書》的內容（淫穢色情、賭博、暴力、恐怖或教唆犯罪），"
    "請修改後再提交。"
)

# PLEDGE_RULES §8: input → the exact line the command prints.
SECTION_8 = [
    ("賭博", {"action": "block", "rules": ["P15"], "categories": ["C8"], "flags": [], "message": C8}),
    (
        "赌 博",
        {
            "action": "block",
            "rules": ["P15", "P12"],
            "categories": ["C8", "C17"],
            "flags": ["evasion"],
            "message": C8,
        },
    ),
    (
        "赌\u200b博",
        {
            "action": "block",
            "rules": ["P15", "P12"],
            "categories": ["C8", "C17"],
            "flags": ["evasion"],
            "message": C8,
        },
    ),
    (
        "ｄｕ博",
        {
            "action": "review",
            "rules": ["P15", "P12"],
            "categories": ["C8", "C17"],
            "flags": ["evasion"],
            "message": None,
        },
    ),
    (
        "DUBO",
        {
            "action": "review",
            "rules": ["P15", "P12"],
            "categories": ["C8", "C17"],
            "flags": ["evasion"],
            "message": None,
        },
    ),
    (
        "cаsino",
        {
            "action": "block",
            "rules": ["P15", "P12"],
            "categories": ["C8", "C17"],
            "flags": ["evasion"],
            "message": C8,
        },
    ),
    (
        "你这个蠢货",
        {"action": "review", "rules": ["P15"], "categories": ["C9", "C12"], "flags": [], "message": None},
    ),
    (
        "某地人都是骗子",
        {"action": "review", "rules": ["P15"], "categories": ["C5"], "flags": [], "message": None},
    ),
    ("央视独播剧", {"action": "pass", "rules": [], "categories": [], "flags": [], "message": None}),
    ("聊城东昌湖的夜景真美", {"action": "pass", "rules": [], "categories": [], "flags": [], "message": None}),
]


@pytest.fixture
def words_file(tmp_path):
    path = tmp_path / "words.csv"
    path.write_text(TEST_DICTIONARY, encoding="utf-8")
    return str(path)


def check(runner, text: str, *args: str):
    return runner.invoke(args=["pledge", "check", *args], input=text.encode("utf-8"))


def line(expected: dict) -> str:
    return json.dumps(expected, ensure_ascii=False)


def test_the_section_8_inputs_give_exactly_the_section_8_lines(runner, words_file):
    assert "\u0430" in SECTION_8[5][0]  # the Cyrillic а
    result = check(runner, "".join(text + "\n" for text, _ in SECTION_8), "--words", words_file)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [line(expected) for _, expected in SECTION_8]
    assert result.stderr == ""


def test_the_command_uses_no_deprecated_click_api(runner, words_file):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        result = check(runner, "賭博\n", "--words", words_file)
    assert result.exit_code == 0, repr(result.exception)
    assert json.loads(result.stdout)["action"] == "block"


def test_the_section_7_example(runner, words_file):
    result = check(runner, "賭博\n聊城東昌湖的夜景真美\n", "--words", words_file)
    assert result.exit_code == 0
    assert result.stdout == (
        '{"action": "block", "rules": ["P15"], "categories": ["C8"], "flags": [], "message": '
        '"您的評論含有違反《跟帖評論自律管理承諾書》的內容（淫穢色情、賭博、暴力、恐怖或教唆犯罪），請修改後再提交。"}\n'
        '{"action": "pass", "rules": [], "categories": [], "flags": [], "message": null}\n'
    )


def test_crlf_line_endings_and_a_missing_last_newline(runner, words_file):
    result = check(runner, "賭博\r\n聊城東昌湖的夜景真美", "--words", words_file)
    assert [json.loads(row)["action"] for row in result.stdout.splitlines()] == ["block", "pass"]


@pytest.mark.parametrize(
    ("text", "action", "rules", "message"),
    [
        ("", "block", ["P8"], "評論內容不能為空"),
        ("好" * 501, "block", ["P8"], "評論不能超過500字"),
        ("。。。！！", "block", ["P12"], "評論內容無實際意義"),
        ("詳見 www.example.com", "block", ["P17"], "評論中請勿包含網址、鏈接或郵箱"),
        ("扣扣：12345678", "block", ["P18"], "請勿在評論中留下電話、QQ、微信等聯繫方式"),
        ("他的身份证是11010519491231002X", "block", ["P19"], "請勿公開身份證號、銀行卡號等個人信息"),
        ("他家住在XX小区3号楼2单元", "review", ["P20"], None),
        # Shown as 好賭博 and 的賭博好 (an override ended by its isolate, an isolate inside an override).
        ("\u2066\u202e賭好\u2069博", "block", ["P15", "P12"], C8),
        ("\u202e好博\u2066的賭\u2069", "block", ["P15", "P12"], C8),
        # Shown as 加我13900000001 (a right-to-left override): refused, not held as a long number.
        ("加我\u202e10000000931\u202c", "block", ["P18", "P12"], "請勿在評論中留下電話、QQ、微信等聯繫方式"),
    ],
)
def test_the_other_text_rules_answer_in_the_same_shape(runner, words_file, text, action, rules, message):
    result = check(runner, text + "\n", "--words", words_file)
    verdict = json.loads(result.stdout)
    assert (verdict["action"], verdict["rules"], verdict["message"]) == (action, rules, message)


@pytest.mark.parametrize(
    ("csv_text", "error"),
    [
        ("term,category,action\n赌博,C8,block\n", "文件表頭應為 term,category,action,pinyin"),
        ("term,category,action,pinyin\n赌博,C99,block,no\n", "第2行：類別「C99」無效"),
        (
            "term,category,action,pinyin\n赌博,C8,delete,no\n",
            "第2行：處理方式「delete」無效，應為 block、review 或 allow",
        ),
        ("term,category,action,pinyin\n赌,C8,block,no\n", "第2行：不允許單字屏蔽詞"),
    ],
)
def test_an_invalid_word_list_exits_2_with_the_import_error_and_prints_nothing(
    runner, tmp_path, csv_text, error
):
    path = tmp_path / "bad.csv"
    path.write_text(csv_text, encoding="utf-8")
    result = check(runner, "賭博\n", "--words", str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip() == error


def test_a_word_list_with_a_bom_is_read(runner, tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + TEST_DICTIONARY.encode("utf-8"))
    result = check(runner, "賭博\n", "--words", str(path))
    assert json.loads(result.stdout)["action"] == "block"


def _table_counts(app) -> tuple[int, ...]:
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Comment, ModerationAction, SensitiveWord, SiteSetting)
        )


def test_without_words_the_sites_published_list_is_used(app, runner, test_words):
    before = _table_counts(app)
    result = check(runner, "賭博\n某地人都是骗子\n")
    assert result.exit_code == 0, result.output
    assert [json.loads(row)["action"] for row in result.stdout.splitlines()] == ["block", "review"]
    assert _table_counts(app) == before  # nothing is written


def test_without_words_and_an_empty_site_list_nothing_matches(runner):
    result = check(runner, "賭博\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "action": "pass",
        "rules": [],
        "categories": [],
        "flags": [],
        "message": None,
    }
