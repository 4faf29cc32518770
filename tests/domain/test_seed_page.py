"""The seed page becomes the demo's seed article: conversion notes stripped, losses repaired, parts parsed."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from portal.demo.seed_page import SEED_FILE, load_seed_article, parse_seed, strip_conversion_notes

# Written here independently of the module under test: lower-case Latin (ü included) with tone marks.
TONE_MARKS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
PINYIN_NOTE = re.compile(rf"\([a-zü{TONE_MARKS}]+\)")
PLACES = ["濟南", "威海", "墾利", "慶云"]
SUB_HEADINGS = {
    "濟南": ("四級就業服務機構", "現場“解題”"),
    "威海": ("招商任務每季度考核", "亮紅黃旗"),
    "墾利": ("打消年氣", "投身生產建設一線"),
    "慶云": ("“收心微晨會”", "助力快切至工作狀態"),
}


@pytest.fixture(scope="module")
def raw() -> str:
    return SEED_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def stripped(raw) -> str:
    return strip_conversion_notes(raw)


@pytest.fixture(scope="module")
def seed(raw):
    return parse_seed(raw)


def test_raw_seed_carries_the_pinyin_notes_the_stripper_must_remove(raw):
    # Guards the test below: the regex does find the artefact in the untouched file.
    assert len(PINYIN_NOTE.findall(raw)) == 377


def test_no_tone_marked_pinyin_in_parentheses_survives_stripping(stripped):
    assert PINYIN_NOTE.findall(stripped) == []
    assert not re.search(f"[{TONE_MARKS}]", stripped)


def test_real_parenthesised_text_survives_stripping(stripped):
    assert "鄉鎮(街道)、單位部門" in stripped
    assert "廣播電視節目制作經營許可證(魯)字第720號" in stripped
    assert re.findall(r"\([^)]*\)", stripped) == ["(街道)", "(魯)"]


def test_stripping_keeps_the_character_before_each_note(stripped):
    assert "動起來 跑起來 干起來" in stripped
    assert "數字報" in stripped
    assert "煙臺一家工程機械生產企業" in stripped


def test_source_line_lost_characters_are_repaired(raw, stripped):
    assert "來源:大眾日報" not in raw
    assert "來源:大眾日報  2022-02-08 19:41:46" in stripped


def test_lost_characters_in_jinan_fifth_paragraph_are_repaired(raw, stripped):
    assert "當地人力資源供給" not in raw
    assert "其他多個區縣都介紹了當地人力資源供給、節后集中招聘計劃" in stripped


def test_no_stray_question_marks_or_private_use_bytes_survive(raw, stripped):
    assert "?" in raw
    assert "?" not in stripped
    assert not re.search("[\ue000-\uf8ff]", stripped)


def test_parse_seed_reads_title_source_and_time_to_the_second(seed):
    assert seed.title == "動起來 跑起來 干起來"
    assert seed.source == "大眾日報"
    assert seed.published_local == datetime(2022, 2, 8, 19, 41, 46)


def test_parse_seed_splits_the_picture_line_into_credit_and_caption(seed):
    assert seed.cover_credit == "□新華社發"
    assert seed.cover_caption == "2月7日,煙臺一家工程機械生產企業,工人在生產車間內忙碌。"


def test_parse_seed_reads_editor_note_without_its_label(seed):
    assert seed.editor_note.startswith("實干爭春早,創新向未來。")
    assert seed.editor_note.endswith("迎接新一年的各項工作。")
    assert "編者按" not in seed.editor_note


def test_parse_seed_reads_reporters_and_desk_editor(seed):
    assert seed.reporters == "本報記者 賀瑩瑩 李廣寅 段婷婷 彭 輝"
    assert seed.editor == "李太斗"


def test_body_has_a_place_heading_followed_by_a_two_line_sub_heading_per_part(seed):
    blocks = seed.body_md.split("\n\n")
    headings = [b for b in blocks if b.startswith("#")]
    expected = []
    for place in PLACES:
        first, second = SUB_HEADINGS[place]
        expected += [f"## {place}", f"### {first}<br>{second}"]
    assert headings == expected
    for place in PLACES:
        at = blocks.index(f"## {place}")
        assert blocks[at + 1].startswith("### ")
        assert not blocks[at + 2].startswith("#")  # then paragraphs


def test_body_holds_the_paragraphs_and_not_the_parts_around_them(seed):
    assert seed.body_md.startswith("## 濟南")
    assert seed.body_md.rstrip().endswith("服務跟得上。")
    for elsewhere in ("編輯:", "相關推薦", "網友評論", "編者按", "本報記者", "新華社發"):
        assert elsewhere not in seed.body_md


def test_footer_lines_carry_copyright_licences_and_report_contacts(seed):
    assert seed.footer_lines == [
        "聊城新聞網 2006-2023 版權所有 聊城市新聞傳媒中心/聊城市政府新聞辦公室 聯合主辦",
        "互聯網新聞信息服務許可證編號:37120180030 魯ICP備09083931號 魯公網安備 37150202000134號",
        "信息網絡傳播視聽節目許可證編號:115330086 廣播電視節目制作經營許可證(魯)字第720號",
        "本網違法和不良信息舉報電話:18663509279 舉報郵箱:lcxw@lcxw.cn",
    ]


def test_load_seed_article_parses_the_shipped_file(seed):
    assert load_seed_article() == seed
