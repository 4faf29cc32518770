"""The text rules of PLEDGE_RULES.md (§5.2, §6, §7, §8): normalisation, matching and verdicts."""

from __future__ import annotations

import time
import unicodedata

import pytest

from portal.domain.pledge import (
    CATEGORY_LABELS,
    FLAG_LABELS,
    IMPERSONATION_TERMS,
    REASON_LABELS,
    Verdict,
    check_text,
    input_normalise,
    mask_personal_numbers,
    normalise,
    parse_tlds,
    screen_nickname,
    skeleton_hash,
)
from portal.domain.wordlist import WordList, parse_word_csv

TEST_DICTIONARY = """term,category,action,pinyin
赌博,C8,block,yes
代开发票,C14,block,no
casino,C8,block,no
蠢货,C9/C12,review,no
"re:(\\p{Han}{1,4})人都是(骗子|小偷)",C5,review,no
"""

WORDS = WordList.build(parse_word_csv(TEST_DICTIONARY), "test")

WORDS_MESSAGE = "您的評論含有違反《跟帖評論自律管理承諾書》的內容（{}），請修改後再提交。"
C8_MESSAGE = WORDS_MESSAGE.format("淫穢色情、賭博、暴力、恐怖或教唆犯罪")
URL_MESSAGE = "評論中請勿包含網址、鏈接或郵箱"
CONTACT_MESSAGE = "請勿在評論中留下電話、QQ、微信等聯繫方式"
PII_MESSAGE = "請勿公開身份證號、銀行卡號等個人信息"
NICKNAME_MESSAGE = "暱稱含有不允許使用的內容，請修改"


def check(text: str, **settings) -> Verdict:
    return check_text(text, WORDS, **settings)


def outcome(text: str) -> tuple[str, list[str], list[str], list[str]]:
    verdict = check(text)
    return verdict.action, verdict.rules, verdict.categories, verdict.flags


# --- §8: the test dictionary and its expected results ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "action", "rules", "categories", "flags"),
    [
        ("賭博", "block", ["P15"], ["C8"], []),
        ("赌 博", "block", ["P15", "P12"], ["C8", "C17"], ["evasion"]),
        ("赌\u200b博", "block", ["P15", "P12"], ["C8", "C17"], ["evasion"]),
        ("ｄｕ博", "review", ["P15", "P12"], ["C8", "C17"], ["evasion"]),
        ("DUBO", "review", ["P15", "P12"], ["C8", "C17"], ["evasion"]),
        ("c\u0430sino", "block", ["P15", "P12"], ["C8", "C17"], ["evasion"]),  # Cyrillic а
        ("你这个蠢货", "review", ["P15"], ["C9", "C12"], []),
        ("某地人都是骗子", "review", ["P15"], ["C5"], []),
        ("央视独播剧", "pass", [], [], []),
        ("聊城东昌湖的夜景真美", "pass", [], [], []),
    ],
)
def test_section_8_table(text, action, rules, categories, flags):
    assert outcome(text) == (action, rules, categories, flags)


def test_section_7_example_output_objects():
    assert check("賭博").to_json_dict() == {
        "action": "block",
        "rules": ["P15"],
        "categories": ["C8"],
        "flags": [],
        "message": C8_MESSAGE,
    }
    assert check("聊城東昌湖的夜景真美").to_json_dict() == {
        "action": "pass",
        "rules": [],
        "categories": [],
        "flags": [],
        "message": None,
    }


# --- a right-to-left override shows the text backwards -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "action", "rules", "categories", "flags"),
    [
        # Shown as 「快來賭博吧朋友們」: passed without a flag, the word list read it as stored.
        ("\u202e們友朋吧博賭來快", "block", ["P15", "P12"], ["C8", "C17"], ["evasion"]),
        ("快來\u202e博賭\u202c吧", "block", ["P15", "P12"], ["C8", "C17"], ["evasion"]),
        ("\u202e货蠢个这你", "review", ["P15", "P12"], ["C9", "C12", "C17"], ["evasion"]),
        ("\u202emoc.elpmaxe.www 看看", "block", ["P17", "P12"], ["C14", "C17"], ["evasion"]),
        ("加我\u202e4321 0000 931", "block", ["P18", "P12"], ["C14", "C17"], ["evasion"]),
        # Shown as 好賭博 (the override ends with the isolate it began in) and 的賭博好 (an isolate
        # inside the override keeps its own order): the whole reversal read neither.
        ("\u2066\u202e賭好\u2069博", "block", ["P15", "P12"], ["C8", "C17"], ["evasion"]),
        ("\u202e好博\u2066的賭\u2069", "block", ["P15", "P12"], ["C8", "C17"], ["evasion"]),
        # Shown as 加我13900000001: as stored, 10000000931 is only a long number to review.
        ("加我\u202e10000000931\u202c", "block", ["P18", "P12"], ["C14", "C17"], ["evasion", "long_number"]),
        # Shown as typed (one character, or a line of its own after the override): nothing to add.
        ("\u202e好\n聊城东昌湖的夜景真美", "pass", [], [], []),
        ("\u202e美真景夜的湖昌东城聊", "pass", [], [], []),
    ],
)
def test_a_right_to_left_override_is_read_as_it_shows(text, action, rules, categories, flags):
    assert outcome(text) == (action, rules, categories, flags)


def test_a_hit_behind_an_override_points_at_its_raw_place():
    text = "快來\u202e博賭\u202c吧"
    words = [hit for hit in check(text).hits if hit.rule == "P15"]
    assert [text[hit.start : hit.end] for hit in words] == ["博賭"]


# --- P8 length ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "評論內容不能為空"),
        ("   ", "評論內容不能為空"),
        ("好", "評論至少需要2個字"),
        ("e\u0301", "評論至少需要2個字"),  # one code point once NFC
        ("好" * 501, "評論不能超過500字"),
    ],
)
def test_p8_refuses_a_text_of_the_wrong_length(text, message):
    verdict = check(text)
    assert (verdict.action, verdict.rules, verdict.message) == ("block", ["P8"], message)


def test_p8_accepts_two_to_five_hundred_characters():
    assert check("好文").action == "pass"
    assert "P8" not in check("好" * 500).rules


def test_p8_messages_follow_the_length_settings():
    assert check("好" * 301, max_length=300).message == "評論不能超過300字"
    assert check("好文", min_length=3).message == "評論至少需要3個字"
    assert check("好" * 301, max_length=2000).action != "block"


# --- P10 duplicates: the skeleton hash -----------------------------------------------------------------


def test_p10_skeleton_hash_ignores_spacing_punctuation_and_width():
    assert skeleton_hash("支持！") == skeleton_hash("支 持 !")
    assert skeleton_hash("支持！") == skeleton_hash("支持")
    assert skeleton_hash("支持") != skeleton_hash("反對")
    assert len(skeleton_hash("支持")) == 64


# --- P12 meaningless, low quality, evasion ----------------------------------------------------------------


def test_p12a_refuses_text_without_a_letter_or_digit():
    verdict = check("。。。！！")
    assert verdict.to_json_dict() == {
        "action": "block",
        "rules": ["P12"],
        "categories": ["C17"],
        "flags": [],
        "message": "評論內容無實際意義",
    }
    assert check("😀😀").message == "評論內容無實際意義"


def test_p12c_an_evaded_block_term_is_refused_with_evasion():
    verdict = check("赌.博")
    assert (verdict.action, verdict.rules, verdict.flags, verdict.message) == (
        "block",
        ["P15", "P12"],
        ["evasion"],
        C8_MESSAGE,
    )


def test_p12b_one_character_repeated_is_low_quality():
    assert outcome("哈哈哈哈哈哈哈哈哈哈哈") == ("review", ["P12"], ["C17"], ["low_quality"])
    assert check("哈哈哈哈哈哈哈哈哈哈哈").message is None
    assert check("哈哈哈哈哈哈哈哈哈").action == "pass"  # a skeleton under 10 characters


def test_p12_listed_for_evasion_never_decides_but_low_quality_does():
    # The block comes from P15; P12 only lists the evasion and the low quality.
    assert check("哈" * 12 + "赌 博").rules == ["P15", "P12"]
    # Both review: P12's own outcome (low quality) is review, so the lower number decides.
    verdict = check("哈" * 12 + "ｄｕ博")
    assert (verdict.action, verdict.rules) == ("review", ["P12", "P15"])
    assert verdict.flags == ["evasion", "low_quality"]


# --- P13 foreign script --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["Привет, как дела?", "สวัสดีครับ ขอบคุณมาก"])
def test_p13_a_foreign_script_is_held(text):
    assert outcome(text) == ("review", ["P13"], ["C15"], ["foreign_script"])


def test_p13_chinese_with_some_english_is_not_foreign():
    assert outcome("很好 good") == ("pass", [], [], [])


# --- P14 plain text: the engine never modifies it ----------------------------------------------------------


def test_p14_markup_is_checked_as_text_and_left_unchanged():
    text = "<b>x</b><script>"
    verdict = check(text)
    assert verdict.action == "pass"
    assert text == "<b>x</b><script>"
    assert input_normalise(text) == text
    assert normalise(text).raw == text


# --- P15, P16 word list ------------------------------------------------------------------------------


def test_p15_refuses_with_the_category_label_never_the_word():
    verdict = check("网上赌博平台")
    assert (verdict.action, verdict.rules, verdict.categories) == ("block", ["P15"], ["C8"])
    assert verdict.message == C8_MESSAGE
    assert "赌博" not in verdict.message


def test_p15_review_hits_have_no_message():
    assert check("你这个蠢货").message is None


def test_p15_regex_runs_on_the_simplified_norm():
    assert outcome("某地人都是騙子") == ("review", ["P15"], ["C5"], [])


def test_a_pattern_that_backtracks_without_end_is_cut_short_and_sent_to_review():
    """An admin's `(a|aa)+b` takes seconds on 35 a's with plain backtracking: the verdict must come
    at once, and a moderator reads the text instead."""
    words = WordList.build(parse_word_csv("term,category,action,pinyin\nre:(a|aa)+b,C14,block,no\n"), "t")
    started = time.perf_counter()
    verdict = check_text("評論 " + "a" * 40, words)
    assert time.perf_counter() - started < 5  # unguarded, 40 a's take minutes; the budget is 0.05 s
    assert verdict.action == "review"  # not blocked on a guess, not passed unread
    (p15,) = [hit for hit in verdict.hits if hit.rule == "P15"]
    assert (p15.action, p15.categories, p15.term) == ("review", ("C14",), "re:(a|aa)+b")
    assert check_text("評論 aab", words).action == "block"  # the pattern still works


def test_p16_traditional_is_no_evasion_but_full_width_pinyin_is():
    assert outcome("賭博") == ("block", ["P15"], ["C8"], [])
    assert outcome("ｄｕ博") == ("review", ["P15", "P12"], ["C8", "C17"], ["evasion"])
    assert outcome("ＣＡＳＩＮＯ") == ("block", ["P15"], ["C8"], [])  # NFKC is part of plain
    assert outcome("代開發票") == ("block", ["P15"], ["C14"], [])


def test_repeated_characters_are_matched_through_the_dedup_view():
    assert outcome("赌赌赌博") == ("block", ["P15"], ["C8"], [])  # 赌博 is there as written
    assert outcome("赌赌 博博") == ("block", ["P15", "P12"], ["C8", "C17"], ["evasion"])


def test_a_pinyin_hit_needs_a_latin_letter_and_is_always_review():
    assert check("赌bo").action == "review"
    assert check("dubo").action == "review"
    assert check("央视独播剧").action == "pass"  # dú bō from Han characters: no hit


def test_the_longest_entry_wins_allow_shields_and_review_downgrades():
    words = WordList.build(
        parse_word_csv(
            "term,category,action,pinyin\n"
            "赌博,C8,block,no\n反赌博,C8,review,no\n废物,C9/C12,review,no\n废物利用,,allow,no\n"
        ),
        "allow-test",
    )
    assert check_text("反赌博宣传", words).action == "review"
    assert check_text("我们要反赌博，也不能赌博", words).action == "block"
    assert check_text("废物利用", words).action == "pass"
    assert check_text("废物利用做得好，你是废物", words).action == "review"


def test_an_empty_word_list_still_runs_the_other_rules():
    empty = WordList.build([], "empty")
    assert check_text("賭博", empty).action == "pass"
    assert check_text("13800138000", empty).rules == ["P18"]


# --- P17 URLs and e-mail ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "詳見 www.example.com",
        "ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ",
        "example点com",
        "a@b.cn",
        "abc dian net",
        "去 https://x.y/z 看看",
        "example (dot) com",
        "example。com",
        "上淘宝.com买",
        # Short links: a host with a path is a link whatever its TLD (ly, gl, gd are not listed).
        "看 bit.ly/abc123 吧",
        "goo.gl/xyz",
        "is.gd/Ab1",
        "ＢＩＴ．ＬＹ／ＡＢＣ１２３",
        "bit dot ly/abc",
        "t.cn/abc123",
        "dwz.cn/abc",
        "url.cn/abc",
        # Any TLD of the Public Suffix List, listed in the setting or not, IDN ones too.
        "bit.ly/abc123",
        "example.com/x",
        "x.cn/a",
        "聊城.中國/a",
        "聊城.中国/a",
        "example.xn--fiqz9s/a",
        "example.рф/abc",  # the homoglyph fold reads it as 「pф」, no TLD: the typed label counts
        "ＥＸＡＭＰＬＥ．ＸＮ－－Ｐ１ＡＩ／ａ",
        # A protocol-relative address is a link whatever its TLD.
        '<img src="//x.invalid/pixel.gif">',
        "<link rel=stylesheet href=//cdn.example/a.css>",
    ],
)
def test_p17_refuses_urls_and_mail(text):
    verdict = check(text)
    assert (verdict.action, verdict.rules, verdict.categories, verdict.message) == (
        "block",
        ["P17"],
        ["C14"],
        URL_MESSAGE,
    )


@pytest.mark.parametrize(
    "text",
    [
        "下午3点半见",
        "1点到2点",
        "回复@张三.谢谢",
        "版本2.0很好用",
        # A slash after a number or a Chinese word is no path after a host.
        "限速50km/h",
        "版本2.0/3.0",
        "油耗1.5l/100km",
        "Mr.Li/張先生",
        "下午3点半/4点",
        "bit.ly",  # no path and no listed TLD: a word with a dot
    ],
)
def test_p17_times_and_unicode_mentions_are_not_urls(text):
    assert "P17" not in check(text).rules


@pytest.mark.parametrize(
    "text",
    [
        "node.js/npm",
        "vue.js/react",
        "前端用 Vue.js/React，後端用 Node.js/Express",
        "ＮＯＤＥ．ＪＳ／ＮＰＭ",
        "x.invalid/a",  # no TLD, no scheme, no leading //
        "我愛你.中國人民/abc",  # 中國人民 is no TLD
        "注釋寫在 // 後面",
    ],
)
def test_p17_a_name_with_a_dot_and_a_path_is_no_link_unless_it_ends_in_a_real_tld(text):
    assert check(text).action == "pass"


def test_p17_the_tld_list_is_a_setting():
    assert "P17" not in check_text("看 example.com", WORDS, tlds=frozenset({"xyz"})).rules
    assert "P17" in check_text("看 example.xyz", WORDS, tlds=frozenset({"xyz"})).rules


# --- P18 contact details, P19 personal numbers -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "13800138000",
        "１３８００１３８０００",
        "①③⑧ 0013 8000",
        "壹叁捌零零壹叁捌零零零",
        "扣扣：12345678",
        "加v abc_123456",
        "電話 +86 138-0013-8000",
        "座機0635-8123456",
        "qq群 123456789",
        "微信号：Abc_123456",
    ],
)
def test_p18_refuses_contact_details(text):
    verdict = check(text)
    assert (verdict.action, verdict.rules, verdict.categories, verdict.message) == (
        "block",
        ["P18"],
        ["C14"],
        CONTACT_MESSAGE,
    )


@pytest.mark.parametrize(
    "text",
    [
        "我的QQ號是 1234 5678 9",
        "qq號碼是123456789",
        "QQ群號：123456",
        "微信號碼：abc_123456",
        "薇信是abc_123456",
        "微信為abc_123456",
        "我的微信账号是 wx_abc123",
        "wechat id: abc_123456",
        "加 微 信 13912345678",
        "ＶＸ：abc_123456",  # full-width: NFKC makes it vx, no evasion (as §6.3 says of width)
    ],
)
def test_p18_refuses_a_keyword_with_a_short_bridge_to_the_id(text):
    """A few labels and copulas between keyword and ID (號是, 號碼是, 是, ：, 為, id) still name one."""
    verdict = check(text)
    assert (verdict.action, verdict.rules, verdict.categories, verdict.message) == (
        "block",
        ["P18"],
        ["C14"],
        CONTACT_MESSAGE,
    )


@pytest.mark.parametrize(
    "text",
    ["微 信 abc123456", "威 信號：abc_123456", "扣 扣 12345678", "微·信 abc_123456", "企 鵝 號 123456"],
)
def test_p18_refuses_a_keyword_spelled_apart_with_evasion(text):
    verdict = check(text)
    assert (verdict.action, verdict.rules, verdict.categories, verdict.flags, verdict.message) == (
        "block",
        ["P18", "P12"],
        ["C14", "C17"],
        ["evasion"],
        CONTACT_MESSAGE,
    )


@pytest.mark.parametrize("text", ["v x abc_123456", "Ｖ Ｘ：abc_123456", "w x 號是 abc_123", "Q Q 123456789"])
def test_p18_holds_two_single_latin_letters_spelled_apart(text):
    """Lone letters stand side by side in ordinary text too: a moderator decides, told it looks evasive."""
    verdict = check(text)
    assert (verdict.action, verdict.rules, verdict.categories, verdict.flags, verdict.message) == (
        "review",
        ["P18", "P12"],
        ["C14", "C17"],
        ["evasion"],
        None,
    )


@pytest.mark.parametrize(
    "text",
    [
        "微信支付越來越方便了",
        "QQ音樂的會員漲價了",
        "我在vx上看到這條新聞",
        "v 8 引擎",
        "2026年第3季度",
        "微信是tencent的產品",  # a copula, then a word of letters alone
        "微信是2011年推出的",
        "QQ是1999年推出的",
        "QQ群有12345人",
        "QQ號是什麼",
        "我的微信名叫小明",
        "wxPython很好用",  # a Latin keyword glued to a word of letters is one English word
        "Linux的rwx權限",
        "型號NVX-123456的車",
        "v x w 是向量積",
        "w x h 尺寸 100 x 200",
        "q q 糖很好吃",
        "更加 very good",
        "稍微信任他一點 abc123",
    ],
)
def test_p18_ordinary_sentences_with_keywords_pass(text):
    assert outcome(text) == ("pass", [], [], [])


def test_p18_a_long_number_is_held_not_refused():
    assert outcome("订单号 20240518123") == ("review", ["P18"], ["C14"], ["long_number"])


@pytest.mark.parametrize(
    "text", ["2024-05-18 的新闻", "一样的三月", "二〇二二年", "aqq 123456", "共1234567人"]
)
def test_p18_dates_short_numbers_and_ordinary_numerals_pass(text):
    assert "P18" not in check(text).rules


def test_p19_refuses_a_valid_id_number_and_masks_it_from_p18():
    verdict = check("他的身份证是11010519491231002X")
    assert (verdict.action, verdict.rules, verdict.categories, verdict.message) == (
        "block",
        ["P19"],
        ["C10"],
        PII_MESSAGE,
    )


def test_p19_a_bad_checksum_is_only_a_long_number():
    # 110105[19491231002]1 holds a mobile number shape: digit boundaries keep it out.
    assert outcome("110105194912310021") == ("review", ["P18"], ["C14"], ["long_number"])


def test_p19_a_fifteen_digit_id_and_a_bank_card():
    assert check("旧身份证110105491231002").rules == ["P19"]
    assert check("卡号 4012 8888 8888 1881").rules == ["P19"]
    assert check("卡号 4012888888881882").rules == ["P18"]  # fails Luhn: a long number


# --- P20 privacy ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["他家住在XX小区3号楼2单元", "门牌号：12", "他在三年级2班", "大家人肉他", "他家住在3號樓2單元"]
)
def test_p20_privacy_patterns_are_held(text):
    assert outcome(text) == ("review", ["P20"], ["C10"], ["privacy"])


# --- §7: deciding rule, ordering ----------------------------------------------------------------------------


def test_the_lowest_numbered_rule_with_the_outcome_decides_and_the_rest_ascend():
    verdict = check("你这个蠢货 www.example.com")
    assert (verdict.action, verdict.rules, verdict.message) == ("block", ["P17", "P15"], URL_MESSAGE)
    verdict = check("赌博 13800138000")
    assert (verdict.rules, verdict.message) == (["P15", "P18"], C8_MESSAGE)
    verdict = check("他家住在3号楼2单元，你这个蠢货")
    assert (verdict.action, verdict.rules, verdict.message) == ("review", ["P15", "P20"], None)


def test_categories_ascend_numerically_and_flags_alphabetically():
    verdict = check("某地人都是骗子，订单号 20240518123，人肉他")
    assert verdict.categories == ["C5", "C10", "C14"]
    assert verdict.flags == ["long_number", "privacy"]


def test_the_message_names_only_the_deciding_hits_categories():
    verdict = check("代开发票，你这个蠢货")
    assert verdict.categories == ["C9", "C12", "C14"]
    assert verdict.message == WORDS_MESSAGE.format("廣告、商業招攬")


# --- hits point into the raw text -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rule", "found"),
    [
        ("我在赌\u200b博", "P15", "赌\u200b博"),
        ("我在ｄｕ博呢", "P15", "ｄｕ博"),
        ("你好 ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ 見", "P17", "ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ"),
        ("看example点com吧", "P17", "example点com"),
        ("他的身份证是11010519491231002X。", "P19", "11010519491231002X"),
        ("打①③⑧ 0013 8000", "P18", "①③⑧ 0013 8000"),
        ("我的QQ號是 1234 5678 9。", "P18", "QQ號是 1234 5678 9"),
        ("加Ｖ Ｘ：abc_123456吧", "P18", "Ｖ Ｘ：abc_123456"),
        ("看 ｂｉｔ．ｌｙ/abc 吧", "P17", "ｂｉｔ．ｌｙ"),
        ("看 聊城.中國/a 吧", "P17", "聊城.中國"),
        ("看 example.рф/abc", "P17", "example.рф"),
        ('<img src="//x.invalid/pixel.gif">', "P17", "//x.invalid"),
        ("e\u0301e\u0301 赌博", "P15", "赌博"),
        ("他家住在XX小区3号楼2单元", "P20", "3号楼2单元"),
    ],
)
def test_hit_offsets_point_at_the_raw_substring(text, rule, found):
    hits = [hit for hit in check(text).hits if hit.rule == rule]
    assert hits
    assert text[hits[0].start : hits[0].end] == found


def test_the_zero_width_space_hit_covers_raw_two_to_five():
    (hit,) = [hit for hit in check("我在赌\u200b博").hits if hit.rule == "P15"]
    assert (hit.start, hit.end, hit.action, hit.categories) == (2, 5, "block", ("C8",))


# --- §6.1 normalisation views -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("ＡＢＣ１２３", "abc123"),
        ("③⑸⒋", "3(5)4."),
        ("ⓓⓤ博", "du博"),
        ("⼈", "人"),
        ("⓿➀❿⓵⓫⓴", "011011120"),
        ("a\u0301", "a"),
        ("赌\u200b\u2060\ufeff\u00ad博", "赌博"),
        ("赌\u3164\u2800博", "赌博"),
        ("代開發票", "代开发票"),
        ("c\u0430sino", "casino"),
        ("．＠", ".@"),
        ("好。", "好。"),
    ],
)
def test_norm_folds_width_case_digits_invisibles_script_and_homoglyphs(raw, norm):
    assert normalise(raw).norm == norm


def test_views_of_one_text():
    n = normalise("赌赌赌 博！fffuuuck")
    assert n.skeleton == "赌赌赌博fffuuuck"
    assert n.dedup == "赌博fuck"
    assert normalise("c\u0430sino").folded == "c\u0430sino"  # the homoglyph fold comes after `folded`
    assert normalise("賭\u200b博").plain == "赌\u200b博"


def test_pinyin_view_keeps_latin_runs_and_records_where_letters_came_from():
    n = normalise("赌bo")
    assert n.pinyin == "dubo"
    assert n.pinyin_from_latin == (False, False, True, True)
    assert normalise("ⓓⓤ博").pinyin == "dubo"
    assert normalise("银行").pinyin == "yinhang"  # lazy_pinyin's phrase reading


def test_digits_view_rewrites_only_runs_of_seven_or_more():
    assert normalise("壹叁捌零零壹叁捌零零零").digits == "13800138000"
    assert normalise("一样 三月 二〇二二年").digits == "一样 三月 二〇二二年"
    n = normalise("電話：一三八 〇〇一三 八〇〇〇")
    assert n.digits.endswith("138 0013 8000")
    assert len(n.digits) == len(n.norm)


def test_offset_maps_lead_back_to_the_raw_text():
    n = normalise("Ａ\u200b，赌 博")
    assert n.norm == "a,赌 博"
    assert n.raw_span("norm", 2, 5) == (3, 6)
    assert n.raw_span("skeleton", 1, 3) == (3, 6)


def test_the_fixed_fold_class_really_is_left_alone():
    from portal.domain.pledge import FOLD_FIXED_CLASS, _fold_char

    ranges = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x61, 0x7A), (0x30, 0x39), (0x20, 0x40), (0x5B, 0x60)]
    characters = [chr(code) for lo, hi in ranges for code in range(lo, hi + 1)]
    characters += list("{|}~\n\t。、“”‘’《》「」『』【】—·")
    assert all(_fold_char(ch) == ch for ch in characters)
    assert "\u4e00-\u9fff" in FOLD_FIXED_CLASS


# --- input normalisation (SECURITY.md §1) -----------------------------------------------------------------


def test_input_normalise_unifies_newlines_drops_controls_and_trims():
    assert input_normalise("  a\r\nb\rc\x00d\x07e\tf\x85g\x7f \n") == "a\nb\ncde\tfg"
    assert input_normalise("賭\u200b博") == "賭\u200b博"  # only controls go; the rest is kept


# --- P4 nicknames -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "nickname",
    [
        "聊城新聞網官方",
        "VX13800138000",
        "管理员小王",
        "人民日報讀者",
        "人民日报读者",
        "賭博達人",
        "ｄｕ博达人",
        "www.example.com",
        "版 主",
        "admin_01",
        "公安局张警官",
    ],
)
def test_p4_nicknames_refused(nickname):
    assert screen_nickname(nickname, WORDS) == NICKNAME_MESSAGE


@pytest.mark.parametrize(
    "nickname",
    ["審核員", "审核员小李", "審核組", "值班编辑", "責任編輯老王", "網管", "站务", "sysadmin", "Webmaster_1"],
)
def test_p4_nicknames_imitating_this_sites_staff_refused(nickname):
    """The site's moderators work at the 審核台 and its operator signs as 值班編輯: a reader named
    審核員 or 值班編輯 reads as staff."""
    assert screen_nickname(nickname, WORDS) == NICKNAME_MESSAGE


@pytest.mark.parametrize(
    "nickname", ["東昌湖邊人", "光岳楼下", "badminton_fan", "老李", "編輯愛好者", "審核通過了嗎"]
)
def test_p4_nicknames_accepted(nickname):
    assert screen_nickname(nickname, WORDS) is None


def test_the_impersonation_list_names_the_site_staff_and_media():
    for term in ("官方", "管理員", "版主", "聊城新聞網", "記者", "客服", "網信", "公安", "派出所", "政府"):
        assert term in IMPERSONATION_TERMS
    for term in ("人民日報", "新華社", "央視"):
        assert term in IMPERSONATION_TERMS


# --- labels -------------------------------------------------------------------------------------------------


def test_labels_are_the_documented_ones():
    assert list(CATEGORY_LABELS) == [f"C{n}" for n in range(1, 19)]
    assert CATEGORY_LABELS["C5"] == "煽動地域歧視、地域仇恨"
    assert CATEGORY_LABELS["C14"] == "廣告、商業招攬"
    assert CATEGORY_LABELS["C17"] == "無意義內容或規避審核"
    assert list(REASON_LABELS) == [f"R{n:02d}" for n in range(1, 19)] + ["R90", "R91"]
    assert REASON_LABELS["R08"] == "侮辱誹謗、人身攻擊"
    assert REASON_LABELS["R90"] == "舉報不成立"
    assert REASON_LABELS["R91"] == "惡意舉報"
    assert FLAG_LABELS == {
        "evasion": "規避審核",
        "low_quality": "低質量內容",
        "foreign_script": "非本站常用語言文字",
        "long_number": "疑似聯繫方式（長數字）",
        "privacy": "疑似洩露隱私",
        "coordinated": "疑似刷屏／水軍",
    }
    assert all(unicodedata.is_normalized("NFC", label) for label in CATEGORY_LABELS.values())


@pytest.mark.parametrize(
    "text",
    [
        "a." * 999 + "b",  # labels without a TLD: no backtracking
        "a" * 1990 + ".x",
        "1 " * 999 + "号楼",
        "x@" * 1000,
        "dubo" * 500,
        "赌" * 1000 + "博" + "好" * 998 + ".",
        "微 " * 999 + "信",
        "v x " * 499,
        "qq号是" * 400,
        "微信是" * 300 + "abcdefg",
        "a.bc/" * 399,
        "//" + "a." * 249,
        "聊.中國" * 99 + "/a",
    ],
)
def test_long_hostile_texts_are_checked_in_linear_time(text):
    check_text("看 x.cn/a", WORDS)  # loads once what P17 loads at its first host (the Public Suffix List)
    started = time.perf_counter()
    check_text(text, WORDS, max_length=2000)
    assert time.perf_counter() - started < 1.0  # about a millisecond; a backtracking pattern takes seconds


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("有事打13800138000", "有事打138****8000"),
        ("請打１３８００１３８０００", "請打１３８****８０００"),  # in the width typed
        ("①③⑧ 0013 8000", "①③⑧ **** 8000"),
        ("他的身份证是11010519491231002X", "他的身份证是**************002X"),
        ("扣扣：12345678", "扣扣：****5678"),
        ("今天是2026年12月7日，天氣很好", "今天是2026年12月7日，天氣很好"),  # nothing found, nothing masked
    ],
)
def test_mask_personal_numbers_hides_what_p18_and_p19_find_and_nothing_else(typed, shown):
    assert mask_personal_numbers(typed) == shown


def test_the_stored_tld_list_is_read_as_texts_are_and_what_is_no_tld_is_left_out():
    assert parse_tlds(".COM, cn，中國\nbad.one -x ｉｏ") == frozenset({"com", "cn", "中国", "io"})
    assert "P17" in check_text("看 news.中國", WORDS, tlds=parse_tlds("中國")).rules
