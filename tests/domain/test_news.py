"""portal.domain.news on a bare session: the section tree, keyset pages, visibility, related, editions."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.domain import news
from portal.domain.pagination import Cursor
from portal.domain.script import to_simplified, to_traditional
from portal.models import ArticleState, Media, MediaKind
from tests.factories import at, make_article, make_section

NOW = at("2026-12-01 00:00:00")
SHANGHAI = ZoneInfo("Asia/Shanghai")


# --- the section tree ---------------------------------------------------------------------------


@pytest.fixture
def tree_sections(session):
    later = make_section(session, slug="later", name="後", position=5)
    first = make_section(session, slug="first", name="先", position=1)
    child = make_section(session, slug="child", name="子", parent_id=later.id, position=0)
    grandchild = make_section(session, slug="grandchild", name="孫", parent_id=child.id, position=0)
    sibling = make_section(session, slug="sibling", name="兄", parent_id=later.id, position=1)
    hidden = make_section(session, slug="hidden", name="隱", position=3, hidden=True)
    under_hidden = make_section(session, slug="under-hidden", name="隱子", parent_id=hidden.id)
    return {
        "later": later,
        "first": first,
        "child": child,
        "grandchild": grandchild,
        "sibling": sibling,
        "hidden": hidden,
        "under_hidden": under_hidden,
    }


def test_top_level_sections_come_in_position_order(session, tree_sections):
    tree = news.load_section_tree(session)
    assert [s.slug for s in tree.top_level] == ["first", "later"]


def test_children_come_in_position_order(session, tree_sections):
    tree = news.load_section_tree(session)
    assert [s.slug for s in tree.children[tree_sections["later"].id]] == ["child", "sibling"]


def test_path_runs_from_the_top_level_section_down(session, tree_sections):
    tree = news.load_section_tree(session)
    grandchild = tree.by_slug("grandchild")
    assert [s.slug for s in tree.path(grandchild)] == ["later", "child", "grandchild"]
    assert [s.slug for s in tree.path(tree.by_slug("first"))] == ["first"]
    assert tree.top_of(grandchild).slug == "later"


def test_choices_put_each_section_under_its_parent_and_name_it_by_its_path(session, tree_sections):
    tree = news.load_section_tree(session)
    assert [(s.slug, label) for s, label in tree.choices()] == [
        ("first", "先"),
        ("later", "後"),
        ("child", "後 › 子"),
        ("grandchild", "後 › 子 › 孫"),
        ("sibling", "後 › 兄"),
    ]
    s = tree_sections
    every = news.section_paths(s.values(), exclude=s["child"].id)  # hidden ones too, when given
    assert [label for _, label in every] == ["先", "隱", "隱 › 隱子", "後", "後 › 兄"]


def test_subtree_ids_include_children_and_grandchildren_only(session, tree_sections):
    tree = news.load_section_tree(session)
    s = tree_sections
    assert sorted(tree.subtree_ids(s["later"])) == sorted(
        [s["later"].id, s["child"].id, s["grandchild"].id, s["sibling"].id]
    )
    assert sorted(tree.subtree_ids(s["child"])) == sorted([s["child"].id, s["grandchild"].id])
    assert tree.subtree_ids(s["first"]) == [s["first"].id]


def test_hidden_sections_and_their_children_disappear(session, tree_sections):
    tree = news.load_section_tree(session)
    assert tree.by_slug("hidden") is None
    assert tree.by_slug("under-hidden") is None
    assert tree_sections["hidden"].id not in tree.by_id
    assert tree_sections["under_hidden"].id not in tree.by_id
    assert all(not s.hidden for group in tree.children.values() for s in group)


def test_hiding_a_parent_hides_its_whole_branch(session, tree_sections):
    tree_sections["child"].hidden = True
    session.flush()
    tree = news.load_section_tree(session)
    assert tree.by_slug("child") is None
    assert tree.by_slug("grandchild") is None
    assert tree.by_slug("sibling") is not None
    assert sorted(tree.subtree_ids(tree.by_slug("later"))) == sorted(
        [tree_sections["later"].id, tree_sections["sibling"].id]
    )


# --- keyset pages ------------------------------------------------------------------------------


def _walk(session, section_ids, size):
    seen, cursor, pages = [], None, 0
    while True:
        items, cursor = news.section_articles(
            session, section_ids=section_ids, now=NOW, cursor=cursor, size=size
        )
        pages += 1
        assert len(items) <= size
        seen += items
        if cursor is None:
            return seen, pages
        # A cursor travels through a URL: encode and decode as the view does.
        cursor = Cursor.decode(cursor.encode())


def test_walking_the_cursors_returns_every_article_once_newest_first(session):
    section = make_section(session)
    base = at("2026-06-01 08:00:00")
    # Groups of three share a time, so ties straddle the page boundaries (20, 40).
    made = [make_article(session, section, published_at=base + timedelta(minutes=n // 3)) for n in range(45)]
    seen, pages = _walk(session, [section.id], 20)
    assert pages == 3
    assert [a.id for a in seen] == [
        a.id for a in sorted(made, key=lambda a: (a.published_at, a.id), reverse=True)
    ]
    assert len({a.id for a in seen}) == 45


def test_ties_on_published_at_are_broken_by_id_descending(session):
    section = make_section(session)
    same = at("2026-06-01 08:00:00")
    made = [make_article(session, section, published_at=same) for _ in range(5)]
    first, cursor = news.section_articles(session, section_ids=[section.id], now=NOW, cursor=None, size=2)
    assert [a.id for a in first] == [made[4].id, made[3].id]
    assert cursor == Cursor(same, made[3].id)
    second, _ = news.section_articles(session, section_ids=[section.id], now=NOW, cursor=cursor, size=2)
    assert [a.id for a in second] == [made[2].id, made[1].id]


def test_last_page_has_no_cursor_and_an_exact_page_has_none_either(session):
    section = make_section(session)
    for n in range(4):
        make_article(session, section, published_at=at("2026-06-01 08:00:00") + timedelta(hours=n))
    items, cursor = news.section_articles(session, section_ids=[section.id], now=NOW, cursor=None, size=4)
    assert len(items) == 4
    assert cursor is None


def test_section_articles_include_subsections_and_exclude_other_sections(session):
    parent = make_section(session)
    child = make_section(session, parent_id=parent.id)
    other = make_section(session)
    # Published before this file's fixed NOW: the factory's default (hours before the real time) is
    # after it from that date on, and the articles would be scheduled ones.
    earlier = NOW - timedelta(hours=1)
    mine = [
        make_article(session, parent, published_at=earlier),
        make_article(session, child, published_at=earlier),
    ]
    make_article(session, other, published_at=earlier)
    items, _ = news.section_articles(
        session, section_ids=[parent.id, child.id], now=NOW, cursor=None, size=20
    )
    assert {a.id for a in items} == {a.id for a in mine}


def test_drafts_are_not_public(session):
    section = make_section(session)
    draft = make_article(session, section, state=ArticleState.DRAFT, published_at=at("2026-01-01 00:00:00"))
    public = make_article(session, section, published_at=at("2026-01-01 00:00:00"))
    items, _ = news.section_articles(session, section_ids=[section.id], now=NOW, cursor=None, size=20)
    assert [a.id for a in items] == [public.id]
    assert news.public_article(session, draft.id, now=NOW) is None
    assert news.public_article(session, public.id, now=NOW).id == public.id
    assert news.count_public(session, now=NOW) == 1


def test_scheduled_articles_appear_only_from_their_time(session):
    section = make_section(session)
    scheduled = make_article(session, section, published_at=NOW + timedelta(minutes=1))
    items, _ = news.section_articles(session, section_ids=[section.id], now=NOW, cursor=None, size=20)
    assert items == []
    assert news.public_article(session, scheduled.id, now=NOW) is None
    later = NOW + timedelta(minutes=1)
    assert news.public_article(session, scheduled.id, now=later).id == scheduled.id
    assert [a.id for a in news.latest_articles(session, section_ids=[section.id], now=later, count=5)] == [
        scheduled.id
    ]


def test_sitemap_articles_list_only_public_articles_newest_first(session):
    section = make_section(session)
    old = make_article(session, section, published_at=at("2026-01-01 00:00:00"))
    new = make_article(session, section, published_at=at("2026-02-01 00:00:00"))
    make_article(session, section, state=ArticleState.DRAFT, published_at=at("2026-01-15 00:00:00"))
    make_article(session, section, published_at=NOW + timedelta(minutes=1))
    hidden = make_section(session)
    make_article(session, hidden, published_at=at("2026-01-20 00:00:00"))  # its page is 404
    assert [tuple(row) for row in news.sitemap_articles(session, now=NOW, visible=[section.id])] == [
        (new.id, new.updated_at),
        (old.id, old.updated_at),
    ]


def test_public_article_of_an_unknown_id_is_none(session):
    assert news.public_article(session, 999_999, now=NOW) is None


# --- related, lead ------------------------------------------------------------------------------


def test_related_articles_are_the_newest_others_of_the_same_section(session):
    section, other = make_section(session), make_section(session)
    base = at("2026-06-01 08:00:00")
    article = make_article(session, section, published_at=base + timedelta(days=10))  # the newest
    same = [make_article(session, section, published_at=base + timedelta(days=n)) for n in range(7)]
    make_article(session, other, published_at=base + timedelta(days=20))
    make_article(session, section, state=ArticleState.DRAFT, published_at=base + timedelta(days=9))
    related = news.related_articles(session, article, now=NOW, count=5, visible=[section.id, other.id])
    assert [a.id for a in related] == [a.id for a in reversed(same)][:5]


def test_related_articles_chosen_by_the_editor_leave_out_hidden_sections(session):
    section, hidden = make_section(session), make_section(session)
    gone = make_article(session, hidden, published_at=at("2026-06-01 08:00:00"))
    kept = make_article(session, section, published_at=at("2026-06-02 08:00:00"))
    article = make_article(session, section, related_ids=f"{gone.id},{kept.id}")
    assert news.related_articles(session, article, now=NOW, count=5, visible=[section.id]) == [kept]


def test_related_articles_of_a_lone_article_are_empty(session):
    article = make_article(session, make_section(session))
    assert news.related_articles(session, article, now=NOW, count=5, visible=[article.section_id]) == []


def _picture(session, name: str) -> Media:
    media = Media(kind=MediaKind.IMAGE, path=f"t/{name}.jpg", mime="image/jpeg")
    session.add(media)
    session.flush()
    return media


def test_lead_story_is_the_newest_public_article_with_a_picture_in_the_preferred_sections(session):
    preferred, other = make_section(session), make_section(session)
    base = at("2026-06-01 08:00:00")
    make_article(session, preferred, published_at=base + timedelta(days=5))  # no picture
    older = make_article(session, preferred, published_at=base, cover=_picture(session, "a"))
    make_article(session, other, published_at=base + timedelta(days=9), cover=_picture(session, "b"))
    visible = [preferred.id, other.id]
    assert news.lead_story(session, now=NOW, visible=visible, section_ids=[preferred.id]).id == older.id


def test_lead_story_falls_back_to_any_section(session):
    preferred, other = make_section(session), make_section(session)
    anywhere = make_article(
        session, other, published_at=at("2026-06-01 08:00:00"), cover=_picture(session, "c")
    )
    visible = [preferred.id, other.id]
    assert news.lead_story(session, now=NOW, visible=visible, section_ids=[preferred.id]).id == anywhere.id
    assert news.lead_story(session, now=NOW, visible=visible).id == anywhere.id
    # …but never to a hidden one.
    assert news.lead_story(session, now=NOW, visible=[preferred.id]) is None


# --- 數字報 editions --------------------------------------------------------------------------------


def test_an_edition_is_a_local_day_in_shanghai(session):
    paper = make_section(session)
    late_utc = make_article(session, paper, published_at=at("2026-11-23 17:00:00"))  # 11-24 01:00 local
    before_midnight = make_article(session, paper, published_at=at("2026-11-23 15:59:59"))  # 11-23 23:59
    end_of_day = make_article(session, paper, published_at=at("2026-11-24 15:59:59"))  # 11-24 23:59
    next_day = make_article(session, paper, published_at=at("2026-11-24 16:00:00"))  # 11-25 00:00
    ids = [paper.id]
    assert news.paper_editions(session, section_ids=ids, now=NOW, zone=SHANGHAI) == [
        date(2026, 11, 25),
        date(2026, 11, 24),
        date(2026, 11, 23),
    ]
    day = news.paper_edition(session, section_ids=ids, day=date(2026, 11, 24), now=NOW, zone=SHANGHAI)
    assert [a.id for a in day] == [late_utc.id, end_of_day.id]  # oldest first, as a paper reads
    assert [
        a.id
        for a in news.paper_edition(session, section_ids=ids, day=date(2026, 11, 23), now=NOW, zone=SHANGHAI)
    ] == [before_midnight.id]
    assert [
        a.id
        for a in news.paper_edition(session, section_ids=ids, day=date(2026, 11, 25), now=NOW, zone=SHANGHAI)
    ] == [next_day.id]


def test_utc_day_would_differ_from_the_local_edition(session):
    paper = make_section(session)
    make_article(session, paper, published_at=at("2026-11-23 17:00:00"))
    assert news.paper_editions(session, section_ids=[paper.id], now=NOW, zone=ZoneInfo("UTC")) == [
        date(2026, 11, 23)
    ]
    assert news.paper_editions(session, section_ids=[paper.id], now=NOW, zone=SHANGHAI) == [
        date(2026, 11, 24)
    ]


def test_paper_editions_skip_drafts_and_scheduled_and_respect_the_limit(session):
    paper = make_section(session)
    for n in range(5):
        make_article(session, paper, published_at=at("2026-11-01 02:00:00") + timedelta(days=n))
    make_article(session, paper, state=ArticleState.DRAFT, published_at=at("2026-11-20 02:00:00"))
    make_article(session, paper, published_at=NOW + timedelta(days=1))
    editions = news.paper_editions(session, section_ids=[paper.id], now=NOW, zone=SHANGHAI, limit=3)
    assert editions == [date(2026, 11, 5), date(2026, 11, 4), date(2026, 11, 3)]


# --- search helpers ----------------------------------------------------------------------------


def test_highlight_segments_marks_every_hit_and_keeps_the_rest():
    assert news.highlight_segments("聊城濟南聊城濟南", ["濟南"]) == [
        ("聊城", False),
        ("濟南", True),
        ("聊城", False),
        ("濟南", True),
    ]


def test_highlight_segments_prefers_the_longest_word():
    assert news.highlight_segments("濟南市民", ["濟南", "濟南市"]) == [("濟南市", True), ("民", False)]


def test_highlight_segments_rejoin_to_the_text():
    text = "威海、墾利、慶云與濟南"
    segments = news.highlight_segments(text, ["墾利", "濟南", "不在"])
    assert "".join(s for s, _ in segments) == text
    assert [s for s, hit in segments if hit] == ["墾利", "濟南"]


def test_highlight_segments_without_words_is_the_whole_text():
    assert news.highlight_segments("聊城", []) == [("聊城", False)]
    assert news.highlight_segments("聊城", [""]) == [("聊城", False)]


def test_excerpt_is_a_window_around_the_first_hit():
    text = "甲" * 200 + "濟南" + "乙" * 200
    snippet = news.excerpt(text, ["濟南"], width=90)
    assert "濟南" in snippet
    assert snippet.startswith("…")
    assert snippet.endswith("…")
    assert len(snippet) == 90 + 2


def test_excerpt_without_a_hit_is_the_start_of_the_text():
    text = "開頭\n第二行" + "字" * 200
    snippet = news.excerpt(text, ["不在"], width=20)
    assert snippet.startswith("開頭 第二行")  # newlines become spaces
    assert not snippet.startswith("…")
    assert snippet.endswith("…")


def test_excerpt_of_a_short_text_has_no_ellipsis():
    assert news.excerpt("濟南新聞", ["濟南"]) == "濟南新聞"


@pytest.mark.parametrize(
    "raw",
    ["garbage", "x-1", "20261301000000000000-1", "20260101000000000000-abc", "-", "20260101", "%00"],
)
def test_cursor_decode_of_garbage_is_none(raw):
    assert Cursor.decode(raw) is None


def test_cursor_decode_of_nothing_is_none():
    assert Cursor.decode(None) is None
    assert Cursor.decode("") is None


def test_cursor_round_trips_to_the_microsecond():
    cursor = Cursor(at("2026-11-23 17:00:00") + timedelta(microseconds=123), 42)
    assert Cursor.decode(cursor.encode()) == cursor


def test_search_terms_give_each_word_with_its_traditional_and_simplified_forms():
    converters = (to_traditional, to_simplified)
    assert news.search_terms("济南 威海", converters=converters) == [["济南", "濟南"], ["威海"]]
    assert news.search_terms("濟南", converters=converters) == [["濟南", "济南"]]


def test_search_terms_are_at_most_five_and_blank_is_none():
    assert news.search_terms("一 二 三 四 五 六 七") == [["一"], ["二"], ["三"], ["四"], ["五"]]
    assert news.search_terms("") == []
    assert news.search_terms("   \t ") == []


def test_search_terms_split_at_quotes_brackets_and_sentence_marks_but_not_inside_words():
    assert news.search_terms("「東昌湖」") == [["東昌湖"]]
    assert news.search_terms("東昌湖，冬季！") == [["東昌湖"], ["冬季"]]
    assert news.search_terms("《聊城日報》、“運河”") == [["聊城日報"], ["運河"]]
    assert news.search_terms("100% a_b 3.5 C++ 馬克·吐溫") == [
        ["100%"],
        ["a_b"],
        ["3.5"],
        ["C++"],
        ["馬克·吐溫"],
    ]
    assert news.search_terms("「」，。！") == []


def test_search_terms_also_look_for_full_width_letters_and_digits_as_ascii():
    assert news.search_terms("ＡＢＣ１２３") == [["ＡＢＣ１２３", "ABC123"]]


def test_short_search_terms_match_percent_and_underscore_literally(session):
    section = make_section(session)
    # Published before NOW: the factory's own times count back from the real clock.
    before = {"published_at": NOW - timedelta(hours=1)}
    percent = make_article(session, section, title="達標率100%", **before)
    underscore = make_article(session, section, title="文件名a_b", **before)
    make_article(session, section, title="普通標題", **before)
    found, _ = news.search_articles(
        session, terms=[["%"]], now=NOW, cursor=None, size=20, visible=[section.id]
    )
    assert [a.id for a in found] == [percent.id]
    found, _ = news.search_articles(
        session, terms=[["_"]], now=NOW, cursor=None, size=20, visible=[section.id]
    )
    assert [a.id for a in found] == [underscore.id]
    # A hidden section's articles are 404 and not found either.
    found, _ = news.search_articles(session, terms=[["%"]], now=NOW, cursor=None, size=20, visible=[])
    assert found == []


def test_search_without_terms_finds_nothing(session):
    make_article(session, make_section(session))
    assert news.search_articles(session, terms=[], now=NOW, cursor=None, size=20, visible=[1]) == ([], None)
