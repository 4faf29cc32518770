"""Records and rules around comments: the audit log, notices, SMS codes, blocked phones, words."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utc_now
from portal.models.users import User


class ModerationAction(Base):
    """Append-only record of every decision and every logged event (P28).

    Nothing in the app updates or deletes a row; the moderation issue adds database triggers.
    """

    __tablename__ = "moderation_action"
    __table_args__ = (
        Index("ix_moderation_action_target", "target_type", "target_id"),
        Index("ix_moderation_action_created", "created_at", "id"),
        Index("ix_moderation_action_actor", "actor_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))  # None: the system
    actor_role: Mapped[str] = mapped_column(String(16), default="")
    action: Mapped[str] = mapped_column(String(48))  # e.g. comment.submitted, comment.rejected
    target_type: Mapped[str] = mapped_column(String(24), default="")
    target_id: Mapped[int | None] = mapped_column(Integer)
    reason_code: Mapped[str] = mapped_column(String(16), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    after: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    ip: Mapped[str] = mapped_column(String(45), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)


class BulkHideComment(Base):
    """A comment an emergency.bulk_hide hid, with its article: the act's reach by section
    (records.in_reach) without reading the record's JSON. Written with the act, never changed."""

    __tablename__ = "bulk_hide_comment"
    # "Acts touching sections X": the articles of X (ix_article_section_published), then these rows.
    __table_args__ = (Index("ix_bulk_hide_comment_article", "article_id", "action_id"),)

    action_id: Mapped[int] = mapped_column(ForeignKey("moderation_action.id"), primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id"), primary_key=True)
    # A comment never changes article; its section is read through the article, as everywhere else
    # in a moderator's scope, so an article moved to another section takes its hides with it.
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id"))


class Notification(Base):
    """消息: replies to a reader's comments and decisions about them."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_user", "user_id", "read_at", "id"),
        Index("ix_notification_actor", "actor_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(24))  # reply, decision, report_result, measure
    text: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The reader whose doing it tells of (a reply's author). Their name is not in `text`: it is
    # shown as it is now, so a rename, a 註銷 or a freed name never leaves a stale one behind.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="joined")

    @property
    def shown_text(self) -> str:
        return f"{self.actor.public_name} {self.text}" if self.actor is not None else self.text


class SmsCode(Base):
    """A one-time code sent to a phone: stored hashed, single-use, expiring."""

    __tablename__ = "sms_code"
    __table_args__ = (Index("ix_sms_code_phone", "phone_hmac", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_hmac: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(16), default="register")
    ip: Mapped[str] = mapped_column(String(45), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class BlockedPhone(Base):
    """P6: a blacklisted phone cannot register or bind again."""

    __tablename__ = "blocked_phone"

    phone_hmac: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)


class SensitiveWord(Base):
    """One entry of the word list (PLEDGE_RULES §6.2)."""

    __tablename__ = "sensitive_word"

    id: Mapped[int] = mapped_column(primary_key=True)
    term: Mapped[str] = mapped_column(String(200), unique=True)
    categories: Mapped[str] = mapped_column(String(64), default="")  # "C9/C12"
    action: Mapped[str] = mapped_column(String(8))  # block, review, allow
    pinyin: Mapped[bool] = mapped_column(Boolean, default=False)
    # The term's pinyin form (§6.3), computed when the list is published, so that workers building the
    # automaton never load pypinyin's phrase dictionaries; None: not computed yet.
    pinyin_reading: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now, onupdate=utc_now)


class ModeratorScope(Base):
    """A moderator limited to some sections sees and decides only those (sub-sections included)."""

    __tablename__ = "moderator_scope"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"), primary_key=True)


class Sanction(Base):
    """One step of the ladder (P24): warning, restriction, mute, close, blacklist."""

    __tablename__ = "sanction"
    __table_args__ = (Index("ix_sanction_user", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    measure: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime)  # None: until lifted
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)


class Appeal(Base):
    """申訴 (P27): against a rejection, a deletion or a measure; at most 3 per item."""

    __tablename__ = "appeal"
    __table_args__ = (
        Index("ix_appeal_target", "target_type", "target_id"),
        Index("ix_appeal_status", "status", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target_type: Mapped[str] = mapped_column(String(16))  # comment, sanction
    target_id: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, upheld, overturned
    # The moderator who made the decision appealed against may not rule on the appeal.
    original_decider_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    ruling_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)


class EvidenceHold(Base):
    """保存在案: a record kept past the retention period. Separate, because the log never changes."""

    __tablename__ = "evidence_hold"

    action_id: Mapped[int] = mapped_column(ForeignKey("moderation_action.id"), primary_key=True)
    held_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)
