"""Accounts: real identity back-end only (後台實名), the nickname in front (前台自願)."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, DateTime, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

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


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    nickname: Mapped[str] = mapped_column(String(32), unique=True)
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

    # What Flask-Login asks of a user object (without importing it here).
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.state != UserState.CLOSED

    def get_id(self) -> str:
        # The alternative id: rotating session_token revokes every session of the account.
        return self.session_token

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.MODERATOR, Role.ADMIN)
