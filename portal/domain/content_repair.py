"""Content stored before two fixes, which changed only how new data is saved.

- **Bodies.** The sanitizer now drops <script>, <style> and the other hidden elements with their
  content (bleach kept the text inside, so pasted CSS or JavaScript showed as the article). Articles
  and static pages store their rendered HTML: `rerender_bodies` renders again each body whose stored
  HTML is not what the sanitizer now makes of its Markdown.
- **Block patterns.** A `block` pattern that one common character satisfies (「re:.」) is refused
  when saved, as it refuses nearly every comment; one saved before is still in the list.
  `demote_patterns` turns each into a `review` entry, which sends what it matches to a moderator.

Migration 0013 runs both, and `flask check-words --fix` the second. Each change is an audit row by
the system, and the public pages' cached copies go. Plain Core statements on the columns these need,
not the models: a later revision may add columns that migration 0013's schema does not have yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, column, insert, select, table, update

from portal.domain.repair_writes import replace_content_version, system_record
from portal.domain.sanitize import html_to_text, markdown_to_html
from portal.domain.sensitive_words import current_entries, version_of
from portal.domain.wordlist import REGEX_PREFIX, common_character_hit

ARTICLE_RERENDERED = "admin.article_rerendered"
PAGE_RERENDERED = "admin.page_rerendered"
PATTERN_TO_REVIEW = "admin.word_to_review"
BODY_NOTE = "正文按現行的清理規則重新生成：<script>、<style> 等元素連同其中的內容一併去掉"
PATTERN_NOTE = "正則表達式單獨一個字（如「{ch}」）就會匹配，作為屏蔽詞會拒絕幾乎所有評論：改為送審"

_ARTICLES = table(
    "article", column("id"), column("title"), column("body_md"), column("body_html"), column("body_text")
)
_PAGES = table("page", column("id"), column("title"), column("body_md"), column("body_html"))
_WORDS = table("sensitive_word", column("id"), column("term"), column("action"), column("updated_at"))
_SETTINGS = table("site_setting", column("key"), column("value"), column("updated_at"))
_BATCH = 200  # bodies read at a time: a site's articles together may not fit in memory


@dataclass(frozen=True)
class StaleBody:
    target_type: str  # "article" | "page"
    id: int
    title: str
    before: str  # the stored HTML
    html: str  # what the sanitizer makes of the Markdown now
    text: str


def stale_bodies(connection: Connection) -> Iterator[StaleBody]:
    """Each article and page whose stored HTML differs from its Markdown rendered now. A body without
    Markdown (nothing to render from) or over the length cap stays as it is."""
    for target_type, rows in (("article", _ARTICLES), ("page", _PAGES)):
        last = 0
        while batch := connection.execute(
            select(rows.c.id, rows.c.title, rows.c.body_md, rows.c.body_html)
            .where(rows.c.id > last)
            .order_by(rows.c.id)
            .limit(_BATCH)
        ).all():
            last = batch[-1].id
            for row in batch:
                if not (row.body_md or "").strip():
                    continue
                try:
                    html = markdown_to_html(row.body_md)
                except ValueError:  # over MAX_SOURCE_CHARS: saving it again is refused too
                    continue
                if html != row.body_html:
                    yield StaleBody(target_type, row.id, row.title, row.body_html, html, html_to_text(html))


def rerender_bodies(connection: Connection, *, now: datetime) -> list[StaleBody]:
    """Stores each stale body's new HTML (and an article's text, which the search index follows),
    one audit row each, in the caller's transaction."""
    done = list(stale_bodies(connection))  # read to the end before writing: SQLite's cursor is shared
    for body in done:
        if body.target_type == "article":
            statement = update(_ARTICLES).values(body_html=body.html, body_text=body.text)
            statement = statement.where(_ARTICLES.c.id == body.id)
            action = ARTICLE_RERENDERED
        else:
            statement = update(_PAGES).where(_PAGES.c.id == body.id).values(body_html=body.html)
            action = PAGE_RERENDERED
        connection.execute(statement)
        system_record(
            connection,
            action=action,
            target_type=body.target_type,
            target_id=body.id,
            note=BODY_NOTE,
            before={"body_html": body.before},
            after={"body_html": body.html},
            now=now,
        )
    if done:
        replace_content_version(connection)
    return done


@dataclass(frozen=True)
class RefusedPattern:
    id: int
    term: str
    character: str  # a common character that alone satisfies it


def refused_patterns(connection: Connection) -> list[RefusedPattern]:
    """The `block` patterns stored before the rule that saving one now would refuse."""
    rows = connection.execute(
        select(_WORDS.c.id, _WORDS.c.term)
        .where(_WORDS.c.action == "block", _WORDS.c.term.startswith(REGEX_PREFIX, autoescape=True))
        .order_by(_WORDS.c.id)
    )
    return [
        RefusedPattern(row.id, row.term, character)
        for row in rows
        if (character := common_character_hit(row.term[len(REGEX_PREFIX) :])) is not None
    ]


def demote_patterns(connection: Connection, *, now: datetime) -> list[RefusedPattern]:
    """Turns each refused pattern into a `review` entry and publishes the list as it then stands,
    one audit row each, in the caller's transaction."""
    found = refused_patterns(connection)
    if not found:
        return found
    connection.execute(
        update(_WORDS).where(_WORDS.c.id.in_([p.id for p in found])).values(action="review", updated_at=now)
    )
    version = version_of(current_entries(connection))
    published = connection.execute(
        update(_SETTINGS).where(_SETTINGS.c.key == "wordlist_version").values(value=version, updated_at=now)
    )
    if not published.rowcount:
        connection.execute(insert(_SETTINGS).values(key="wordlist_version", value=version, updated_at=now))
    for pattern in found:
        system_record(
            connection,
            action=PATTERN_TO_REVIEW,
            target_type="sensitive_word",
            target_id=pattern.id,
            note=PATTERN_NOTE.format(ch=pattern.character),
            before={"term": pattern.term, "action": "block"},
            after={"term": pattern.term, "action": "review", "version": version},
            now=now,
        )
    replace_content_version(connection)  # the settings every page reads name the list's version
    return found
