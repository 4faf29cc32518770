"""portal.domain.content_repair: bodies and block patterns stored before two fixes."""

from __future__ import annotations

import json

from sqlalchemy import select

from portal.domain import content_repair
from portal.domain.sanitize import MAX_SOURCE_CHARS
from portal.models import ContentVersion, ModerationAction, SensitiveWord, utc_now
from tests.factories import (
    STYLE_BODY_HTML_BEFORE,
    make_article,
    make_article_as_stored_before_the_fix,
    make_page_as_stored_before_the_fix,
    make_section,
    make_word_as_stored_before_the_fix,
)

NOW = utc_now()


def _records(session, action: str) -> list[ModerationAction]:
    return list(session.scalars(select(ModerationAction).where(ModerationAction.action == action)))


def test_stale_bodies_are_those_the_sanitizer_now_renders_differently(session):
    section = make_section(session)
    stale = make_article_as_stored_before_the_fix(session, section)
    make_article(session, section, body_md="<style>p{}</style>正文")  # saved after the fix
    make_article(session, section, body_md="", body_html="<p>只有 HTML</p>")  # nothing to render from
    make_article(session, section, body_md="字" * (MAX_SOURCE_CHARS + 1), body_html=STYLE_BODY_HTML_BEFORE)
    page = make_page_as_stored_before_the_fix(session)
    found = [(b.target_type, b.id) for b in content_repair.stale_bodies(session.connection())]
    assert found == [("article", stale.id), ("page", page.id)]


def test_rerendering_stores_html_and_text_with_a_record_each_and_replaces_the_content_version(session):
    session.add(ContentVersion(id=1, stamp="old", activity="old"))
    article = make_article_as_stored_before_the_fix(session, make_section(session))
    page = make_page_as_stored_before_the_fix(session)
    session.commit()
    done = content_repair.rerender_bodies(session.connection(), now=NOW)
    assert [(b.target_type, b.id) for b in done] == [("article", article.id), ("page", page.id)]
    session.expire_all()
    assert (article.body_html, article.body_text) == ("\n\n<p>東昌湖畔柳色新</p>", "東昌湖畔柳色新")
    assert "document.write" not in page.body_html
    (record,) = _records(session, content_repair.ARTICLE_RERENDERED)
    assert (record.actor_id, record.actor_role, record.target_type, record.target_id) == (
        None,
        "system",
        "article",
        article.id,
    )
    assert json.loads(record.before) == {"body_html": STYLE_BODY_HTML_BEFORE}
    assert [r.target_id for r in _records(session, content_repair.PAGE_RERENDERED)] == [page.id]
    assert session.get(ContentVersion, 1).stamp != "old"
    assert content_repair.rerender_bodies(session.connection(), now=NOW) == []  # once is enough


def test_refused_patterns_are_block_patterns_a_common_character_satisfies(session):
    ids = {
        term: make_word_as_stored_before_the_fix(session, term).id
        for term in ("re:.", "re:\\s", "re:[的了]", "re:\\d{11}", "代開發票")
    }
    make_word_as_stored_before_the_fix(session, "re:\\w", action="review")
    found = content_repair.refused_patterns(session.connection())
    assert [(p.id, p.character) for p in found] == [
        (ids["re:."], "的"),
        (ids["re:\\s"], " "),
        (ids["re:[的了]"], "的"),
    ]


def test_demoting_makes_them_review_entries_and_publishes_the_list_again(session):
    word = make_word_as_stored_before_the_fix(session, "re:.")
    session.commit()
    content_repair.demote_patterns(session.connection(), now=NOW)
    session.expire_all()
    assert session.get(SensitiveWord, word.id).action == "review"
    (record,) = _records(session, content_repair.PATTERN_TO_REVIEW)
    assert json.loads(record.after)["action"] == "review" and "「的」" in record.note
    assert content_repair.refused_patterns(session.connection()) == []
