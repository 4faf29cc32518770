"""Accounts: creation with a verified phone (operators and tests), password hashing."""

from __future__ import annotations

from datetime import datetime

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain.errors import Rejected
from portal.domain.pii import PhoneVault, normalise_phone
from portal.models import Role, User

NICKNAME_MAX = 20


def create_verified_user(
    session: Session,
    *,
    phone: str,
    nickname: str,
    password: str,
    role: Role,
    vault: PhoneVault,
    hasher: PasswordHasher,
    now: datetime,
) -> User:
    """An account whose phone counts as verified: for operators (`flask create-user`) and tests."""
    number = normalise_phone(phone)
    nickname = nickname.strip()
    if not 2 <= len(nickname) <= NICKNAME_MAX:
        raise Rejected("nickname", f"暱稱需為2至{NICKNAME_MAX}個字")
    if len(password) < 8:
        raise Rejected("password", "密碼至少需要8個字符")
    phone_hmac = vault.lookup_hash(number)
    if session.scalar(select(User.id).where(User.phone_hmac == phone_hmac)) is not None:
        raise Rejected("phone", "該手機號已註冊")
    if session.scalar(select(User.id).where(User.nickname == nickname)) is not None:
        raise Rejected("nickname", "該暱稱已被使用")
    user = User(
        nickname=nickname,
        phone_cipher=vault.encrypt(number),
        phone_hmac=phone_hmac,
        phone_verified_at=now,
        password_hash=hasher.hash(password),
        role=Role(role),
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user
