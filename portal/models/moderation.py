"""Records and rules around comments: the audit log, notices, SMS codes, blocked phones, words."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utc_now


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
    evidence_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)


class Notification(Base):
    """消息: replies to a reader's comments and decisions about them."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user", "user_id", "read_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(24))  # reply, decision, report_result, measure
    text: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)


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
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now, onupdate=utc_now)
