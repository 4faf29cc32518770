"""What the newsroom changes through /admin: sections, articles, static pages and settings.

Plain functions: they validate, change the rows, append the audit record and never commit.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain import audit
from portal.domain.errors import Rejected
from portal.domain.sanitize import MAX_SOURCE_CHARS, html_to_text, markdown_to_html, outside_images
from portal.models import (
    Article,
    ArticleKind,
    ArticleState,
    CommentsState,
    Media,
    MediaKind,
    ModeratorScope,
    Page,
    Section,
    SectionLayout,
    SiteSetting,
    User,
)

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
NEWS_SECTIONS = ("yaowen",)  # the home page finds its lead story in 要聞 by this slug
# Pages the site links by name: the comment notice, registration and the rules.
LINKED_PAGES = ("pledge", "rules", "terms", "privacy")


def _snapshot(row: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in fields}


def _delete(
    session: Session, row: Any, kind: str, fields: tuple[str, ...], *, actor: User, now: datetime
) -> None:
    """Deletes the row, recording what it was (`admin.<kind>_deleted`)."""
    audit.record(
        session,
        actor=actor,
        action=f"admin.{kind}_deleted",
        target_type=kind,
        target_id=row.id,
        before=_snapshot(row, fields),
        now=now,
    )
    session.delete(row)


# The words the back office's forms and the record (P28) use for the stored codes.
SECTION_LAYOUT_LABELS = {"list": "文章列表", "paper": "數字報（按期）"}
ARTICLE_KIND_LABELS = {"text": "文字", "gallery": "圖集（圖說）", "video": "視頻", "audio": "音頻"}
ARTICLE_STATE_LABELS = {"draft": "草稿（不公開）", "published": "發布（到時公開）"}
COMMENTS_STATE_LABELS = {"open": "開放評論", "closed": "關閉評論（保留已有評論）", "hidden": "隱藏評論區"}
MEDIA_KIND_LABELS = {"image": "圖片", "video": "視頻", "audio": "音頻"}


# --- sections ---------------------------------------------------------------------------------

SECTION_FIELDS = (
    "slug",
    "name",
    "parent_id",
    "position",
    "description",
    "layout",
    "hidden",
    "comments_closed",
    "auto_close_days",
)


@dataclass
class SectionInput:
    slug: str
    name: str
    parent_id: int | None
    position: int
    description: str
    layout: str
    hidden: bool
    comments_closed: bool
    auto_close_days: int | None


def save_section(
    session: Session, *, section: Section | None, data: SectionInput, actor: User, now: datetime
) -> Section:
    slug = data.slug.strip().lower()
    if not SLUG.fullmatch(slug):
        raise Rejected("slug", "網址代號只能用小寫英文字母、數字和連字號")
    clash = session.scalar(select(Section.id).where(Section.slug == slug))
    if clash is not None and (section is None or clash != section.id):
        raise Rejected("slug", "這個網址代號已被其他欄目使用")
    if section is not None and section.slug in NEWS_SECTIONS and slug != section.slug:
        # The home page's lead story finds 要聞 by this name.
        raise Rejected("slug", "要聞欄目的網址代號不能修改：首頁頭條以它為準")
    name = data.name.strip()
    if not name:
        raise Rejected("name", "請填寫欄目名稱")
    twin = session.scalar(
        select(Section.id).where(
            Section.name == name,
            Section.parent_id.is_(None) if data.parent_id is None else Section.parent_id == data.parent_id,
        )
    )
    if twin is not None and (section is None or twin != section.id):
        # Two 「要聞」 side by side in the menu: a reader cannot tell which is which.
        raise Rejected("name", f"同一上級欄目下已有名為「{name}」的欄目")
    if data.parent_id is not None:
        parent = session.get(Section, data.parent_id)
        if parent is None:
            raise Rejected("parent_id", "上級欄目不存在")
        ancestor: Section | None = parent
        while ancestor is not None:  # no section may become its own descendant
            if section is not None and ancestor.id == section.id:
                raise Rejected("parent_id", "不能把欄目移到它自己或它的子欄目之下")
            ancestor = session.get(Section, ancestor.parent_id) if ancestor.parent_id else None
    if data.auto_close_days is not None and not 1 <= data.auto_close_days <= 3650:
        raise Rejected("auto_close_days", "自動關閉天數需為1至3650天")
    before = _snapshot(section, SECTION_FIELDS) if section is not None else {}
    if section is None:
        section = Section()
        session.add(section)
    section.slug, section.name = slug, name
    section.parent_id, section.position = data.parent_id, data.position
    section.description = data.description.strip()
    section.layout = SectionLayout(data.layout)
    section.hidden = data.hidden
    section.comments_closed, section.auto_close_days = data.comments_closed, data.auto_close_days
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="admin.section_saved",
        target_type="section",
        target_id=section.id,
        before=before,
        after=_snapshot(section, SECTION_FIELDS),
        now=now,
    )
    return section


def delete_section(session: Session, *, section: Section, actor: User, now: datetime) -> None:
    """Only an empty section goes; one with articles or children can only be hidden."""
    if session.scalar(select(func.count()).select_from(Article).where(Article.section_id == section.id)):
        raise Rejected("delete", "欄目中還有文章，不能刪除，只能隱藏")
    if session.scalar(select(func.count()).select_from(Section).where(Section.parent_id == section.id)):
        raise Rejected("delete", "欄目下還有子欄目，請先移走或刪除子欄目")
    # Dropping the scope instead could leave a moderator with none, which reads as every section.
    if session.scalar(
        select(func.count()).select_from(ModeratorScope).where(ModeratorScope.section_id == section.id)
    ):
        raise Rejected("delete", "欄目是審核員的負責範圍，請先在用戶管理中調整其負責欄目")
    _delete(session, section, "section", SECTION_FIELDS, actor=actor, now=now)


# --- articles ---------------------------------------------------------------------------------

ARTICLE_FIELDS = (
    "title",
    "section_id",
    "source",
    "published_at",
    "reporters",
    "editor",
    "editor_note",
    "summary",
    "body_md",
    "kind",
    "state",
    "comments_state",
    "cover_id",
    "player_id",
    "related_ids",
)


@dataclass
class ArticleInput:
    title: str
    section_id: int
    source: str
    published_at: datetime  # UTC
    reporters: str
    editor: str
    editor_note: str
    summary: str
    body_md: str
    kind: str
    state: str
    comments_state: str
    cover_id: int | None
    player_id: int | None
    gallery_ids: list[int]
    related_ids: list[int]
    edit_stamp: str = ""  # the article as the editor opened it (edit_stamp); "" for a new one


# A second editor's save must not silently undo the first's (a lost update): the form carries the
# stamp of what it was opened on, and a save over a changed article is refused once.
EDITED_MEANWHILE = (
    "這篇文章在您打開後已被其他編輯修改並保存。您的內容仍在下方；核對後再次保存將覆蓋對方的修改。"
)


def edit_stamp(article: Article) -> str:
    """A digest of the fields an editor writes: comment counts and other bookkeeping never clash."""
    fields = _snapshot(article, ARTICLE_FIELDS)
    fields["gallery"] = [m.id for m in article.gallery]
    return hashlib.blake2b(
        json.dumps(fields, default=str, sort_keys=True).encode(), digest_size=12
    ).hexdigest()


def render_body(body_md: str) -> tuple[str, str]:
    """Markdown → cleaned HTML and its plain text; too long is a field error, not a crash."""
    try:
        html = markdown_to_html(body_md)
    except ValueError as too_long:
        raise Rejected("body_md", f"正文不能超過{MAX_SOURCE_CHARS}字") from too_long
    if outside := outside_images(html):
        shown = outside[0] if len(outside[0]) <= 60 else outside[0][:59] + "…"
        raise Rejected("body_md", f"外部圖片不能顯示（{shown}）：請先上傳到媒體庫，再用本站的圖片地址")
    return html, html_to_text(html)


def _media_of_kind(
    session: Session, media_id: int | None, kinds: tuple[MediaKind, ...], field: str
) -> Media | None:
    if media_id is None:
        return None
    media = session.get(Media, media_id)
    if media is None or media.kind not in kinds:
        raise Rejected(field, "所選的媒體不存在或類型不符")
    return media


def save_article(
    session: Session, *, article: Article | None, data: ArticleInput, actor: User, now: datetime
) -> Article:
    if article is not None and data.edit_stamp and data.edit_stamp != edit_stamp(article):
        raise Rejected("edit_stamp", EDITED_MEANWHILE, 409)
    if not data.title.strip():
        raise Rejected("title", "請填寫標題")
    if session.get(Section, data.section_id) is None:
        raise Rejected("section_id", "請選擇欄目")
    kind = ArticleKind(data.kind)
    cover = _media_of_kind(session, data.cover_id, (MediaKind.IMAGE,), "cover_id")
    player = _media_of_kind(session, data.player_id, (MediaKind.VIDEO, MediaKind.AUDIO), "player_id")
    if kind in (ArticleKind.VIDEO, ArticleKind.AUDIO) and player is None:
        raise Rejected("player_id", "視頻或音頻文章需選擇播放的媒體")
    gallery = [
        _media_of_kind(session, media_id, (MediaKind.IMAGE,), "gallery_ids") for media_id in data.gallery_ids
    ]
    if kind == ArticleKind.GALLERY and len(gallery) < 2:
        raise Rejected("gallery_ids", "圖集至少需要兩張圖片")
    related = [rid for rid in dict.fromkeys(data.related_ids) if article is None or rid != article.id][:10]
    for rid in related:
        if session.get(Article, rid) is None:
            raise Rejected("related_ids", f"相關文章 {rid} 不存在")
    body_html, body_text = render_body(data.body_md)
    before = _snapshot(article, ARTICLE_FIELDS) if article is not None else {}
    if article is None:
        article = Article(created_at=now)
        session.add(article)
    article.title, article.section_id, article.source = (
        data.title.strip(),
        data.section_id,
        data.source.strip(),
    )
    # The form shows minutes: an unchanged minute keeps the stored seconds (and the feeds' order).
    if article.published_at is None or data.published_at != article.published_at.replace(
        second=0, microsecond=0
    ):
        article.published_at = data.published_at
    article.reporters, article.editor = data.reporters.strip(), data.editor.strip()
    article.editor_note, article.summary = data.editor_note.strip(), data.summary.strip()
    article.body_md, article.body_html, article.body_text = data.body_md, body_html, body_text
    article.kind = kind
    article.state = ArticleState(data.state)
    article.comments_state = CommentsState(data.comments_state)
    article.cover_id = cover.id if cover else None
    article.player_id = player.id if player else None
    article.related_ids = ",".join(str(r) for r in related)
    article.updated_at = now
    article.set_gallery(gallery)  # a picture in another article's set stays there too
    session.flush()
    session.expire(article, ["gallery"])  # read again from the rows just written
    audit.record(
        session,
        actor=actor,
        action="admin.article_saved",
        target_type="article",
        target_id=article.id,
        before=before,
        after=_snapshot(article, ARTICLE_FIELDS),
        now=now,
    )
    return article


# --- static pages -----------------------------------------------------------------------------

PAGE_FIELDS = ("slug", "title", "body_md")


def save_page(
    session: Session,
    *,
    page: Page | None,
    slug: str,
    title: str,
    body_md: str,
    in_footer: bool,
    position: int,
    actor: User,
    now: datetime,
) -> Page:
    slug = slug.strip().lower()
    if not SLUG.fullmatch(slug):
        raise Rejected("slug", "網址代號只能用小寫英文字母、數字和連字號")
    clash = session.scalar(select(Page.id).where(Page.slug == slug))
    if clash is not None and (page is None or clash != page.id):
        raise Rejected("slug", "這個網址代號已被其他頁面使用")
    if page is not None and page.slug in LINKED_PAGES and slug != page.slug:
        raise Rejected("slug", "這個頁面的網址代號不能修改：評論區和註冊頁都鏈接到它")
    if not title.strip():
        raise Rejected("title", "請填寫標題")
    body_html, _ = render_body(body_md)
    before = _snapshot(page, PAGE_FIELDS) if page is not None else {}
    if page is None:
        page = Page()
        session.add(page)
    page.slug, page.title, page.body_md, page.body_html = slug, title.strip(), body_md, body_html
    page.in_footer, page.position, page.updated_at = in_footer, position, now
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="admin.page_saved",
        target_type="page",
        target_id=page.id,
        before=before,
        after=_snapshot(page, PAGE_FIELDS),
        now=now,
    )
    return page


def delete_page(session: Session, *, page: Page, actor: User, now: datetime) -> None:
    """A page the site links by name stays (only its text changes); any other page goes."""
    if page.slug in LINKED_PAGES:
        raise Rejected(
            "delete", f"頁面「{page.title}」不能刪除：評論區和註冊頁都按網址鏈接到它，只能修改內容"
        )
    _delete(session, page, "page", PAGE_FIELDS, actor=actor, now=now)


# --- site settings ----------------------------------------------------------------------------


def save_settings(session: Session, *, values: dict[str, str], actor: User, now: datetime) -> dict[str, str]:
    """Store changed settings (already validated by the form) and log what changed."""
    changed: dict[str, tuple[str, str]] = {}
    for key, value in values.items():
        row = session.get(SiteSetting, key)
        old = row.value if row is not None else None
        if old == value:
            continue
        if row is None:
            session.add(SiteSetting(key=key, value=value, updated_at=now))
        else:
            row.value, row.updated_at = value, now
        changed[key] = (old or "", value)
    if changed:
        audit.record(
            session,
            actor=actor,
            action="admin.settings_saved",
            target_type="settings",
            before={k: old for k, (old, _) in changed.items()},
            after={k: new for k, (_, new) in changed.items()},
            now=now,
        )
    return {k: new for k, (_, new) in changed.items()}
