"""What readers see: the section tree, article lists (keyset pages), related articles, editions."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Row,
    Select,
    and_,
    bindparam,
    column,
    func,
    or_,
    select,
    table,
    tuple_,
)
from sqlalchemy.orm import Session, defer, joinedload, selectinload

from portal.domain.pagination import Cursor
from portal.domain.pledge import drop_invisible, input_normalise
from portal.models import Article, ArticleState, Section


@dataclass
class SectionTree:
    """All visible sections, loaded in one query; the tree is small and read on every page."""

    by_id: dict[int, Section]
    children: dict[int | None, list[Section]] = field(default_factory=dict)

    @classmethod
    def build(cls, sections: Iterable[Section]) -> SectionTree:
        visible = [s for s in sections if not s.hidden]
        tree = cls(by_id={s.id: s for s in visible})
        for section in sorted(visible, key=lambda s: (s.position, s.id)):
            parent = section.parent_id if section.parent_id in tree.by_id else None
            if section.parent_id is not None and parent is None:
                continue  # under a hidden section: hidden too
            tree.children.setdefault(parent, []).append(section)
        tree.by_id = {s.id: s for group in tree.children.values() for s in group}
        return tree

    @property
    def top_level(self) -> list[Section]:
        return self.children.get(None, [])

    def by_slug(self, slug: str) -> Section | None:
        return next((s for s in self.by_id.values() if s.slug == slug), None)

    def path(self, section: Section) -> list[Section]:
        """From the top-level section down to `section`, for breadcrumbs."""
        chain: list[Section] = []
        current: Section | None = section
        while current is not None:
            chain.append(current)
            current = self.by_id.get(current.parent_id) if current.parent_id else None
        return chain[::-1]

    def choices(self) -> list[tuple[Section, str]]:
        """Every visible section under its parent, named by its path (「要聞 › 聊城」)."""
        return section_paths(self.by_id.values())

    def subtree_ids(self, section: Section) -> list[int]:
        ids, stack = [], [section]
        while stack:
            current = stack.pop()
            ids.append(current.id)
            stack.extend(self.children.get(current.id, []))
        return ids

    def top_of(self, section: Section) -> Section:
        return self.path(section)[0]


def section_paths(sections: Iterable[Section], *, exclude: int | None = None) -> list[tuple[Section, str]]:
    """The sections depth first, each after its parent, with its path for a label (「要聞 › 聊城」):
    listed by depth, 東昌府區 came after 聊城 and before 山東, and nobody could tell where a section
    belonged or which of two 聊城 it was. `exclude` leaves out a section with all below it."""
    children: dict[int | None, list[Section]] = {}
    for section in sorted(sections, key=lambda s: (s.position, s.id)):
        children.setdefault(section.parent_id, []).append(section)
    paths: list[tuple[Section, str]] = []

    def walk(parent_id: int | None, path: str) -> None:
        for section in children.get(parent_id, []):
            if section.id == exclude:
                continue
            label = f"{path} › {section.name}" if path else section.name
            paths.append((section, label))
            walk(section.id, label)

    walk(None, "")
    return paths


def load_section_tree(session: Session) -> SectionTree:
    return SectionTree.build(session.scalars(select(Section)))


def is_public(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """Published and due: a scheduled article appears at its time, a draft never."""
    return and_(Article.state == ArticleState.PUBLISHED, Article.published_at <= now)


def _newest_first(query, cursor: Cursor | None, size: int):
    if cursor is not None:
        query = query.where(tuple_(Article.published_at, Article.id) < (cursor.at, cursor.id))
    return query.order_by(Article.published_at.desc(), Article.id.desc()).limit(size + 1)


def _previous_cursor(session: Session, query, cursor: Cursor, size: int) -> Cursor | None:
    """The `after` cursor of the page before the one that starts after `cursor`, or None when that
    page is the first. The page before holds the `size` rows from `cursor`'s own row up (newer):
    the row above those is where it starts after. Keyset, so it costs what one page costs."""
    above = session.execute(
        query.with_only_columns(Article.published_at, Article.id)
        .where(tuple_(Article.published_at, Article.id) >= (cursor.at, cursor.id))
        .order_by(Article.published_at.asc(), Article.id.asc())
        .limit(size + 1)
    ).all()
    if len(above) <= size:
        return None
    return Cursor(above[size].published_at, above[size].id)


def _page(rows: Sequence[Article], size: int) -> tuple[list[Article], Cursor | None]:
    items = list(rows[:size])
    more = len(rows) > size
    return items, (Cursor(items[-1].published_at, items[-1].id) if more and items else None)


def _with_list_parts(query):
    return query.options(selectinload(Article.cover), selectinload(Article.section))


def _section_query(section_ids: Sequence[int], now: datetime) -> Select:
    return select(Article).where(is_public(now), Article.section_id.in_(section_ids))


def section_articles(
    session: Session, *, section_ids: Sequence[int], now: datetime, cursor: Cursor | None, size: int
) -> tuple[list[Article], Cursor | None]:
    """One keyset page of a section's articles (its sub-sections' included), newest first."""
    query = _section_query(section_ids, now)
    rows = session.scalars(_with_list_parts(_newest_first(query, cursor, size))).all()
    return _page(rows, size)


def section_previous_cursor(
    session: Session, *, section_ids: Sequence[int], now: datetime, cursor: Cursor, size: int
) -> Cursor | None:
    """Where the page before section_articles(cursor) starts (None: the first page)."""
    return _previous_cursor(session, _section_query(section_ids, now), cursor, size)


def latest_articles(
    session: Session, *, section_ids: Sequence[int], now: datetime, count: int
) -> list[Article]:
    return section_articles(session, section_ids=section_ids, now=now, cursor=None, size=count)[0]


def lead_story(
    session: Session, *, now: datetime, visible: Sequence[int], section_ids: Sequence[int] | None = None
) -> Article | None:
    """The newest public article with a picture in a visible section, preferring the given
    sections (要聞)."""
    query = select(Article).where(
        is_public(now), Article.cover_id.is_not(None), Article.section_id.in_(visible)
    )
    if section_ids:
        found = session.scalars(
            _with_list_parts(query.where(Article.section_id.in_(section_ids)))
            .order_by(Article.published_at.desc(), Article.id.desc())
            .limit(1)
        ).first()
        if found is not None:
            return found
    return session.scalars(
        _with_list_parts(query).order_by(Article.published_at.desc(), Article.id.desc()).limit(1)
    ).first()


@cache
def _public_article_statement(media: bool) -> Select:
    """public_article's statement, built once per shape (building it costs more than running it)."""
    query = select(Article).where(
        Article.id == bindparam("article_id"), is_public(bindparam("now", type_=DateTime))
    )
    if media:
        return query.options(
            selectinload(Article.cover), selectinload(Article.player), selectinload(Article.gallery)
        )
    # Nor any of its text: a post would read the body three times over (Markdown, HTML, plain).
    return query.options(
        joinedload(Article.section),
        *(defer(text) for text in (Article.body_md, Article.body_html, Article.body_text)),
    )


def public_article(session: Session, article_id: int, *, now: datetime, media: bool = True) -> Article | None:
    """A published, due article (is_public). `media=False` is for callers that show none of its
    pictures (posting a comment): they get its section in the same query instead, and what is not
    loaded still loads when read."""
    values = {"article_id": article_id, "now": now}
    return session.scalars(_public_article_statement(media), values).first()


def neighbours(session: Session, article: Article, *, now: datetime) -> tuple[Row | None, Row | None]:
    """上一篇 and 下一篇: the public articles of the same section just before (older) and just
    after (newer) this one, by publication time (then id, as the section list orders them); their
    id and title only, not their bodies (every article view reads these two)."""
    here = tuple_(Article.published_at, Article.id)
    mark = (article.published_at, article.id)
    query = select(Article.id, Article.title).where(is_public(now), Article.section_id == article.section_id)
    older = session.execute(
        query.where(here < mark).order_by(Article.published_at.desc(), Article.id.desc()).limit(1)
    ).first()
    newer = session.execute(
        query.where(here > mark).order_by(Article.published_at.asc(), Article.id.asc()).limit(1)
    ).first()
    return older, newer


def related_articles(
    session: Session, article: Article, *, now: datetime, count: int, visible: Sequence[int]
) -> list[Article]:
    """相關推薦: the editor's choice first (public ones in visible sections, in order), then the
    section's newest."""
    chosen_ids = (
        [int(i) for i in article.related_ids.split(",") if i.strip().isdigit()] if article.related_ids else []
    )
    chosen: list[Article] = []
    if chosen_ids:
        found = {
            a.id: a
            for a in session.scalars(
                select(Article).where(
                    Article.id.in_(chosen_ids), is_public(now), Article.section_id.in_(visible)
                )
            )
        }
        chosen = [found[i] for i in chosen_ids if i in found and i != article.id][:count]
    if len(chosen) >= count:
        return chosen
    skip = [article.id, *(a.id for a in chosen)]
    newest = session.scalars(
        select(Article)
        .where(is_public(now), Article.section_id == article.section_id, Article.id.not_in(skip))
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(count - len(chosen))
    )
    return chosen + list(newest)


def _day_bounds_utc(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=zone).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    return start, start + timedelta(days=1)


def paper_editions(
    session: Session, *, section_ids: Sequence[int], now: datetime, zone: ZoneInfo, limit: int = 30
) -> list[date]:
    """The dates of the newest editions of 數字報 (local days with at least one article)."""
    rows = session.scalars(
        select(Article.published_at)
        .where(is_public(now), Article.section_id.in_(section_ids))
        .order_by(Article.published_at.desc())
        .limit(2000)
    )
    days: list[date] = []
    for stamp in rows:
        day = stamp.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).date()
        if day not in days:
            days.append(day)
            if len(days) == limit:
                break
    return days


def paper_edition(
    session: Session, *, section_ids: Sequence[int], day: date, now: datetime, zone: ZoneInfo
) -> list[Article]:
    try:
        start, end = _day_bounds_utc(day, zone)
    except OverflowError:  # 0001-01-01 local is before year 1 in UTC: no edition there
        return []
    return list(
        session.scalars(
            _with_list_parts(
                select(Article).where(
                    is_public(now),
                    Article.section_id.in_(section_ids),
                    Article.published_at >= start,
                    Article.published_at < end,
                )
            ).order_by(Article.published_at.asc(), Article.id.asc())
        )
    )


def adjacent_editions(
    session: Session, *, section_ids: Sequence[int], day: date, now: datetime, zone: ZoneInfo
) -> tuple[date | None, date | None]:
    """上一期 and 下一期: the local days of the nearest editions before and after `day`."""
    start, end = _day_bounds_utc(day, zone)
    query = select(Article.published_at).where(is_public(now), Article.section_id.in_(section_ids))
    before = session.scalar(query.where(Article.published_at < start).order_by(Article.published_at.desc()))
    after = session.scalar(query.where(Article.published_at >= end).order_by(Article.published_at.asc()))

    def local(stamp: datetime | None) -> date | None:
        return stamp.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).date() if stamp else None

    return local(before), local(after)


def sitemap_articles(
    session: Session, *, now: datetime, visible: Sequence[int], limit: int = 50_000
) -> list[tuple[int, datetime]]:
    """Public articles of visible sections: a hidden section's pages are 404, so never listed."""
    return list(
        session.execute(
            select(Article.id, Article.updated_at)
            .where(is_public(now), Article.section_id.in_(visible))
            .order_by(Article.published_at.desc())
            .limit(limit)
        ).all()
    )


def section_last_changes(session: Session, *, now: datetime, visible: Sequence[int]) -> dict[int, datetime]:
    """Section id → when its list last changed: its newest publication or edit of a public article."""
    rows = session.execute(
        select(Article.section_id, func.max(Article.published_at), func.max(Article.updated_at))
        .where(is_public(now), Article.section_id.in_(visible))
        .group_by(Article.section_id)
    ).all()
    return {section_id: max(published, updated) for section_id, published, updated in rows}


def count_public(session: Session, *, now: datetime) -> int:
    return session.scalar(select(func.count()).select_from(Article).where(is_public(now))) or 0


ARTICLE_FTS = table("article_fts", column("article_fts"), column("rowid"))


SEARCH_QUERY_MAX = 50


def search_query(raw: str) -> str:
    """The query as searched and shown again: the form's input normalisation, and without
    invisible characters, as nicknames are (a zero-width space pasted with 東昌湖 found nothing)."""
    return unicodedata.normalize("NFC", drop_invisible(input_normalise(raw)))[:SEARCH_QUERY_MAX].strip()


# What separates words in a query as a space does: quotes and brackets of every kind (「」《》“”
# （）…) and the sentence marks readers type between or after words (，、。！？；：). Marks inside a
# word stay: 100%, a_b, 3.5, C++, 10:30, 馬克·吐溫.
_SEARCH_SEPARATORS = frozenset("，、。！？；：,;!?\"'…")
_BRACKETS_AND_QUOTES = frozenset(("Ps", "Pe", "Pi", "Pf"))


def _search_words(query: str) -> list[str]:
    spaced = "".join(
        " " if char in _SEARCH_SEPARATORS or unicodedata.category(char) in _BRACKETS_AND_QUOTES else char
        for char in query
    )
    return spaced.split()


def search_terms(
    query: str, *, converters: Iterable[Callable[[str], str | list[str]]] = ()
) -> list[list[str]]:
    """Split a query into at most five terms; each is the list of its forms (as typed, its
    full-width letters and digits as ASCII, 繁 (a converter may give several), 简). 「東昌湖」 and
    東昌湖，冬季 search the words, not the marks around them, which no article has in that place."""
    terms = []
    for word in _search_words(query)[:5]:
        forms = [word, unicodedata.normalize("NFKC", word)]
        converted = []
        for form in forms:
            for convert in converters:
                result = convert(form)
                converted += [result] if isinstance(result, str) else result
        terms.append(list(dict.fromkeys([*forms, *converted])))
    return terms


def _like(column_: ColumnElement[str], form: str) -> ColumnElement[bool]:
    escaped = form.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column_.ilike(f"%{escaped}%", escape="\\")


def _term_condition(session: Session, forms: list[str]) -> ColumnElement[bool]:
    """Articles containing any form of the term, in the title or the body."""
    parts = []
    for form in forms:
        if len(form) >= 3 and session.get_bind().dialect.name == "sqlite":
            # FTS5's trigram tokenizer finds Chinese substrings of 3+ characters through the
            # index; shorter terms cannot use it and fall back to a scan.
            quoted = '"' + form.replace('"', '""') + '"'
            matches = select(ARTICLE_FTS.c.rowid).where(ARTICLE_FTS.c.article_fts.op("MATCH")(quoted))
            parts.append(Article.id.in_(matches))
        else:
            parts.append(or_(_like(Article.title, form), _like(Article.body_text, form)))
    return or_(*parts)


def search_articles(
    session: Session,
    *,
    terms: list[list[str]],
    now: datetime,
    cursor: Cursor | None,
    size: int,
    visible: Sequence[int],
) -> tuple[list[Article], Cursor | None]:
    """Articles of visible sections containing every term, newest first, one keyset page."""
    if not terms:
        return [], None
    query = _search_query(session, terms, now, visible)
    rows = session.scalars(_with_list_parts(_newest_first(query, cursor, size))).all()
    return _page(rows, size)


def _search_query(session: Session, terms: list[list[str]], now: datetime, visible: Sequence[int]) -> Select:
    return select(Article).where(
        is_public(now), Article.section_id.in_(visible), *(_term_condition(session, forms) for forms in terms)
    )


def search_previous_cursor(
    session: Session,
    *,
    terms: list[list[str]],
    now: datetime,
    cursor: Cursor,
    size: int,
    visible: Sequence[int],
) -> Cursor | None:
    """Where the page before search_articles(cursor) starts (None: the first page)."""
    if not terms:
        return None
    return _previous_cursor(session, _search_query(session, terms, now, visible), cursor, size)


def highlight_segments(text: str, words: Iterable[str]) -> list[tuple[str, bool]]:
    """Split `text` into (segment, is_hit) pieces so a template can mark the hits without |safe."""
    needles = sorted({w for w in words if w}, key=len, reverse=True)
    if not needles:
        return [(text, False)]
    segments: list[tuple[str, bool]] = []
    position = plain_start = 0
    while position < len(text):
        hit = next((n for n in needles if text.startswith(n, position)), None)
        if hit is None:
            position += 1
            continue
        if plain_start < position:
            segments.append((text[plain_start:position], False))
        segments.append((hit, True))
        position += len(hit)
        plain_start = position
    if plain_start < len(text):
        segments.append((text[plain_start:], False))
    return segments


def excerpt(text: str, words: Iterable[str], width: int = 90) -> str:
    """A window of the text around the first hit (or its start)."""
    first = min((i for w in words if w and (i := text.find(w)) >= 0), default=0)
    start = max(0, first - width // 3)
    snippet = text[start : start + width].replace("\n", " ")
    return ("…" if start else "") + snippet + ("…" if start + width < len(text) else "")
