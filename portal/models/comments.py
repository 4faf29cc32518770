"""網友評論: comments, their edit history, likes and reports."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utc_now
from portal.models.news import Article
from portal.models.users import User


class CommentStatus(StrEnum):
    PENDING = "pending"  # 先審後發: every new or edited comment waits for a moderator
    APPROVED = "approved"  # the only public state
    REJECTED = "rejected"
    HIDDEN = "hidden"  # three reports, patrol or emergency: waits for a ruling
    DELETED = "deleted"


# P11's flood check loads the rows of a network's window that are not flagged yet; the partial index
# holds only those, so a post during a flood reads the new rows, not the whole window. A query uses it
# only when its condition repeats this text exactly (portal.domain.comments._UNFLAGGED_IN_NETWORK).
NOT_COORDINATED = "flags NOT LIKE '%coordinated%'"
# The queue's 舉報 tab reads only comments some reader reported: a handful among every approved one.
# Its query repeats this text for the partial index below (portal.domain.moderation._tab_condition).
EVER_REPORTED = "report_count > 0"
# An author's edit of a published comment waits here for review while the published text stays up:
# the 待審 tab reads these few among every approved comment (portal.domain.moderation._tab_condition).
PENDING_EDIT = "pending_body IS NOT NULL"


class Comment(Base):
    __tablename__ = "comment"
    __table_args__ = (
        # 最新 and 熱門 keyset pages of an article's top-level comments, and its replies.
        Index("ix_comment_thread_newest", "article_id", "parent_id", "listed", "created_at", "id"),
        Index("ix_comment_thread_hot", "article_id", "parent_id", "listed", "like_count", "created_at", "id"),
        Index("ix_comment_replies", "parent_id", "listed", "created_at", "id"),
        Index("ix_comment_ip_prefix", "ip_prefix", "created_at"),
        Index(
            "ix_comment_network_unflagged",
            "ip_prefix",
            "created_at",
            sqlite_where=text(NOT_COORDINATED),
            postgresql_where=text(NOT_COORDINATED),
        ),
        Index("ix_comment_author", "author_id", "created_at", "id"),
        # The ladder's violations of the last 30 days (suggest_measures), without the author's history.
        Index("ix_comment_author_decided", "author_id", "status", "decided_at"),
        Index("ix_comment_ip", "ip", "created_at"),
        Index("ix_comment_skeleton", "skeleton_hash", "created_at"),
        Index("ix_comment_status", "status", "created_at", "id"),
        # The moderation queue: highest priority first, then oldest first.
        Index("ix_comment_queue", "status", "priority", "created_at", "id"),
        # 置頂 comments of an article: a handful among thousands, found without a scan.
        Index(
            "ix_comment_pinned",
            "article_id",
            "pinned_at",
            sqlite_where=text("pinned_at IS NOT NULL"),
            postgresql_where=text("pinned_at IS NOT NULL"),
        ),
        # The queue's 舉報 tab, in its order's columns (hidden first, most reporters, oldest): only
        # comments ever reported, instead of every approved one through ix_comment_status.
        Index(
            "ix_comment_reported",
            "status",
            "report_count",
            "created_at",
            "id",
            sqlite_where=text(EVER_REPORTED),
            postgresql_where=text(EVER_REPORTED),
        ),
        # The 待審 tab's edits of published comments, in the tab's order.
        Index(
            "ix_comment_pending_edit",
            "status",
            "priority",
            "created_at",
            "id",
            sqlite_where=text(PENDING_EDIT),
            postgresql_where=text(PENDING_EDIT),
        ),
        # The queue's 巡查 tab: the few patrol hits among every approved comment.
        Index(
            "ix_comment_patrol",
            "status",
            "patrol_hit_at",
            sqlite_where=text("patrol_hit_at IS NOT NULL"),
            postgresql_where=text("patrol_hit_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    # One level of replies: a reply's parent is always a top-level comment.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comment.id"))
    # Replying to a reply keeps the thread flat and quotes 回覆 @暱稱.
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("comment.id"))
    reply_to_nickname: Mapped[str] = mapped_column(String(32), default="")
    body: Mapped[str] = mapped_column(Text)  # exactly as typed (after input normalisation)
    # The author's edit of a published comment, waiting for review; `body` stays the public text
    # until a moderator approves it. None: no edit waiting. The flags and rule hits are the edit's,
    # kept apart so that a refused edit leaves the published text's own.
    pending_body: Mapped[str | None] = mapped_column(Text)
    pending_flags: Mapped[str | None] = mapped_column(String(200))
    pending_rule_hits: Mapped[str | None] = mapped_column(Text)
    status: Mapped[CommentStatus] = mapped_column(String(16), default=CommentStatus.PENDING)
    # Shown in the public thread: approved, or a deleted top-level comment whose replies still
    # show (as 此評論已刪除). Kept by the domain so list pages use one index range.
    listed: Mapped[bool] = mapped_column(Boolean, default=False)
    flags: Mapped[str] = mapped_column(String(200), default="")  # comma-separated, e.g. "evasion,privacy"
    rule_hits: Mapped[str] = mapped_column(Text, default="[]")  # JSON: rule, categories, start, end
    skeleton_hash: Mapped[str] = mapped_column(String(64), default="")
    ip: Mapped[str] = mapped_column(String(45), default="")
    ip_prefix: Mapped[str] = mapped_column(String(45), default="")  # /24 or /64, for P11
    ip_region: Mapped[str] = mapped_column(String(32), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    like_count: Mapped[int] = mapped_column(Integer, default=0)
    reply_count: Mapped[int] = mapped_column(Integer, default=0)  # approved replies
    report_count: Mapped[int] = mapped_column(Integer, default=0)  # distinct reporters
    reason_code: Mapped[str] = mapped_column(String(8), default="")  # the last decision's R-code
    # Queue order: 2 reported or coordinated, 1 other flags or patrol hits, 0 the rest.
    priority: Mapped[int] = mapped_column(Integer, default=0)
    patrol_hit_at: Mapped[datetime | None] = mapped_column(DateTime)
    pinned_at: Mapped[datetime | None] = mapped_column(DateTime)  # 置頂, at most 3 per article
    featured: Mapped[bool] = mapped_column(Boolean, default=False)  # 精選
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    hidden_at: Mapped[datetime | None] = mapped_column(DateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)

    article: Mapped[Article] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    parent: Mapped[Comment | None] = relationship(remote_side=[id], foreign_keys=[parent_id])

    @property
    def flag_list(self) -> list[str]:
        return [f for f in self.flags.split(",") if f]

    @property
    def pending_flag_list(self) -> list[str]:
        return [f for f in (self.pending_flags or "").split(",") if f]

    @property
    def edit_in_review(self) -> bool:
        """A published comment whose author's edit waits for review (its public text unchanged)."""
        return self.pending_body is not None


class CommentRevision(Base):
    """The text before an author's edit: nobody else ever edits a body (P31)."""

    __tablename__ = "comment_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)


class Like(Base):
    __tablename__ = "comment_like"
    __table_args__ = (UniqueConstraint("comment_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)


class ReportStatus(StrEnum):
    OPEN = "open"
    UPHELD = "upheld"
    NOT_UPHELD = "not_upheld"  # R90
    MALICIOUS = "malicious"  # R91
    WITHDRAWN = "withdrawn"  # the author deleted the comment before a ruling


class Report(Base):
    __tablename__ = "comment_report"
    __table_args__ = (
        UniqueConstraint("comment_id", "reporter_id"),
        # The queue's 舉報 tab starts from the open reports, not from every approved comment.
        Index("ix_report_open", "status", "comment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    reason_code: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[ReportStatus] = mapped_column(String(16), default=ReportStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)

    comment: Mapped[Comment] = relationship()
