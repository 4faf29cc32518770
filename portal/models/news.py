"""Sections, articles, media, static pages and site settings."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utc_now


class SectionLayout(StrEnum):
    LIST = "list"  # newest first, keyset pages
    PAPER = "paper"  # 數字報: one edition (day) at a time


class ArticleKind(StrEnum):
    TEXT = "text"
    GALLERY = "gallery"  # 圖說: an ordered photo set
    VIDEO = "video"
    AUDIO = "audio"


class ArticleState(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class CommentsState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # old comments stay, new ones are refused
    HIDDEN = "hidden"  # no comment area at all


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"


class Section(Base):
    __tablename__ = "section"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("section.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(String(200), default="")
    layout: Mapped[SectionLayout] = mapped_column(String(16), default=SectionLayout.LIST)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    # Comment policy. Every comment on this site is pre-reviewed (先審後發, PLEDGE_RULES P21), so a
    # section has no choice here: pre_review is no longer read nor offered. The column stays (NOT
    # NULL since 0001, written by raw INSERTs in bench/ and older tests); dropping it would rebuild
    # the table on SQLite for nothing. Always true.
    pre_review: Mapped[bool] = mapped_column(Boolean, default=True)
    comments_closed: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_close_days: Mapped[int | None] = mapped_column(Integer)

    parent: Mapped[Section | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Section]] = relationship(back_populates="parent", order_by="Section.position")


class Media(Base):
    """An uploaded or generated file under the instance's media folder."""

    __tablename__ = "media"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MediaKind] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(String(255), unique=True)  # relative to the media folder
    mime: Mapped[str] = mapped_column(String(64))
    caption: Mapped[str] = mapped_column(Text, default="")
    credit: Mapped[str] = mapped_column(String(120), default="")
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer, default=0)
    # Widths of the resized copies of a picture, e.g. "320,640,960": `path` is the largest.
    variants: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)

    def variant_widths(self) -> list[int]:
        return sorted(int(w) for w in self.variants.split(",") if w)

    def variant_path(self, width: int) -> str:
        stem, _, ext = self.path.rpartition(".")
        return f"{stem}-{width}.{ext}"

    def captions_path(self) -> str:
        """Where a video's WebVTT captions sit, if it has any: beside it, same name."""
        return self.path.rpartition(".")[0] + ".vtt"


class Article(Base):
    __tablename__ = "article"
    __table_args__ = (
        # Keyset pages: newest first, within a section and overall.
        Index("ix_article_section_published", "section_id", "published_at", "id"),
        Index("ix_article_published", "published_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"))
    title: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(64), default="")  # 來源
    published_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)  # UTC
    reporters: Mapped[str] = mapped_column(String(200), default="")  # byline
    editor: Mapped[str] = mapped_column(String(32), default="")  # 編輯
    editor_note: Mapped[str] = mapped_column(Text, default="")  # 編者按
    summary: Mapped[str] = mapped_column(String(300), default="")
    body_md: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")  # bleach-cleaned render of body_md
    body_text: Mapped[str] = mapped_column(Text, default="")  # plain text, for search and excerpts
    kind: Mapped[ArticleKind] = mapped_column(String(16), default=ArticleKind.TEXT)
    state: Mapped[ArticleState] = mapped_column(String(16), default=ArticleState.DRAFT)
    comments_state: Mapped[CommentsState] = mapped_column(String(16), default=CommentsState.OPEN)
    cover_id: Mapped[int | None] = mapped_column(ForeignKey("media.id"))
    player_id: Mapped[int | None] = mapped_column(ForeignKey("media.id"))  # video or audio
    comment_count: Mapped[int] = mapped_column(Integer, default=0)  # approved comments only
    # 相關推薦 chosen by the editor: article ids, comma-separated; empty means the section's newest.
    related_ids: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now, onupdate=utc_now)

    section: Mapped[Section] = relationship()
    cover: Mapped[Media | None] = relationship(foreign_keys=[cover_id])
    player: Mapped[Media | None] = relationship(foreign_keys=[player_id])
    # A 圖說 photo set: pictures in order. One picture may serve in several sets.
    gallery_pictures: Mapped[list[GalleryPicture]] = relationship(
        order_by="GalleryPicture.position", cascade="all, delete-orphan"
    )
    gallery: Mapped[list[Media]] = relationship(
        secondary="gallery_picture", order_by="GalleryPicture.position", viewonly=True
    )

    def set_gallery(self, pictures: list[Media]) -> None:
        self.gallery_pictures = [
            GalleryPicture(media=picture, position=position) for position, picture in enumerate(pictures)
        ]


class GalleryPicture(Base):
    """One picture's place in one article's photo set."""

    __tablename__ = "gallery_picture"

    article_id: Mapped[int] = mapped_column(ForeignKey("article.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id"), index=True)
    media: Mapped[Media] = relationship()


class Page(Base):
    """A static page of the footer (關於我們, 跟帖評論自律管理承諾書, ...)."""

    __tablename__ = "page"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(100))
    body_md: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    in_footer: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now, onupdate=utc_now)


class SiteSetting(Base):
    __tablename__ = "site_setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now, onupdate=utc_now)


class ContentVersion(Base):
    """One row: a stamp replaced in the same transaction as any change public pages show.

    Cached anonymous pages are keyed by it (portal.domain.content_version).
    """

    __tablename__ = "content_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    stamp: Mapped[str] = mapped_column(String(32))
    # Replaced by every write at all: staff pages (the queue) show everything, so they key on it.
    activity: Mapped[str] = mapped_column(String(32), default="0", server_default="0")
