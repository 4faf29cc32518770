"""Accounts: real identity back-end only (後台實名), the nickname in front (前台自願)."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, DateTime, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, validates

from portal.domain.script import reading
from portal.models.base import Base, utc_now


class Role(StrEnum):
    READER = "reader"
    MODERATOR = "moderator"
    ADMIN = "admin"


class UserState(StrEnum):
    ACTIVE = "active"
    RESTRICTED = "restricted"
    CLOSED = "closed"


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


# What pages show for the author of a deregistered account (註銷) instead of the nickname.
DEREGISTERED_NAME = "已註銷用戶"
# A deregistered account's phone_hmac: unique like a real one, and no number hashes to it, so the
# number is free to register again while the real hash waits in retired_phone_hmac.
RETIRED_HMAC_PREFIX = "deregistered:"


class User(Base):
    __tablename__ = "user_account"
    # A deregistered account by its number (a mute that outlives it, staff tracing a number).
    __table_args__ = (
        Index("ix_user_account_retired_phone_hmac", "retired_phone_hmac"),
        # P4's look-alike check: one equality on it. Not unique: older accounts may read alike
        # (`flask check-accounts` lists them for a person).
        Index("ix_user_account_nickname_reading", "nickname_reading"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nickname: Mapped[str] = mapped_column(String(32), unique=True)
    # How the nickname reads in the 简体 view (script.reading), kept by `_read_nickname`. Text: NFKC
    # may make one character eighteen (U+FDFA).
    nickname_reading: Mapped[str] = mapped_column(Text)
    phone_cipher: Mapped[bytes] = mapped_column(LargeBinary)  # Fernet token of the number
    phone_hmac: Mapped[str] = mapped_column(String(64), unique=True)  # keyed hash for look-up
    phone_verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(String(16), default=Role.READER)
    can_view_pii: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[UserState] = mapped_column(String(16), default=UserState.ACTIVE)
    muted_until: Mapped[datetime | None] = mapped_column(DateTime)
    muted_reason: Mapped[str] = mapped_column(String(200), default="")
    credit: Mapped[int] = mapped_column(Integer, default=0)
    last_credit_on: Mapped[date | None] = mapped_column(Date)  # approvals earn at most +1 a day
    # The author's record, kept by portal.domain.comments as comments change state: tiers (P25) and
    # the queue's author lines read these instead of counting everything the author ever wrote.
    approved_comments: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rejected_comments: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0"
    )  # rejected or deleted
    reports_received: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Replaced whenever a row of this user's changes (their comments, likes, reports, notices,
    # measures): with the content version it keys the pages cached for them (portal.page_cache).
    page_stamp: Mapped[str] = mapped_column(String(32), default="0", server_default="0")
    terms_version: Mapped[str] = mapped_column(String(32), default="")
    terms_accepted_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Flask-Login's alternative id: rotating it revokes every session of the account.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)
    nickname_changed_at: Mapped[datetime | None] = mapped_column(
        DateTime
    )  # 修改暱稱, at most once in 30 days
    # 註銷: the reader withdrew; the row keeps who they were (nickname reserved, phone in the cipher
    # and retired_phone_hmac) until `flask purge` anonymises it after the retention period.
    deregistered_at: Mapped[datetime | None] = mapped_column(DateTime)
    retired_phone_hmac: Mapped[str | None] = mapped_column(String(64))
    anonymised_at: Mapped[datetime | None] = mapped_column(DateTime)

    @validates("nickname")
    def _read_nickname(self, _key: str, nickname: str) -> str:
        # Every way a name is set (registration, rename, staff and CLI accounts, the demo, purge,
        # a test's factory) assigns it here, so the reading cannot be forgotten or fall behind.
        self.nickname_reading = reading(nickname)
        return nickname

    # What Flask-Login asks of a user object (without importing it here).
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.state != UserState.CLOSED and self.deregistered_at is None

    @property
    def public_name(self) -> str:
        """The name readers see: the nickname, or 已註銷用戶 once the account is deregistered."""
        return DEREGISTERED_NAME if self.deregistered_at is not None else self.nickname

    def get_id(self) -> str:
        # The alternative id: rotating session_token revokes every session of the account.
        return self.session_token

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.MODERATOR, Role.ADMIN)
