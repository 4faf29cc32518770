"""Accounts as admins manage them: roles, section scopes, the `pii` permission."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.domain import audit
from portal.domain.errors import Rejected
from portal.domain.pagination import Cursor
from portal.models import ModeratorScope, Role, Section, User, UserState
from portal.models.users import new_session_token


def scopes_of(session: Session, user_id: int) -> list[int]:
    return list(session.scalars(select(ModeratorScope.section_id).where(ModeratorScope.user_id == user_id)))


def set_access(
    session: Session,
    *,
    user: User,
    role: str,
    section_ids: Sequence[int],
    can_view_pii: bool,
    actor: User,
    now: datetime,
) -> User:
    """Role, scopes and `pii`; a change of role or `pii` ends the user's sessions (SECURITY.md §6)."""
    if role not in {r.value for r in Role}:
        raise Rejected("role", "未知的角色")
    if user.id == actor.id and role != Role.ADMIN:
        raise Rejected("role", "不能取消自己的管理員身份")
    for section_id in section_ids:
        if session.get(Section, section_id) is None:
            raise Rejected("sections", "所選欄目不存在")
    before = {"role": str(user.role), "sections": scopes_of(session, user.id), "pii": user.can_view_pii}
    if str(user.role) != role or user.can_view_pii != can_view_pii:
        user.session_token = new_session_token()
    user.role, user.can_view_pii = Role(role), can_view_pii and role != Role.READER
    session.execute(delete(ModeratorScope).where(ModeratorScope.user_id == user.id))
    if role == Role.MODERATOR:
        for section_id in dict.fromkeys(section_ids):
            session.add(ModeratorScope(user_id=user.id, section_id=section_id))
    audit.record(
        session,
        actor=actor,
        action="admin.user_access",
        target_type="user",
        target_id=user.id,
        before=before,
        after={
            "role": role,
            "sections": list(section_ids) if role == Role.MODERATOR else [],
            "pii": user.can_view_pii,
        },
        now=now,
    )
    return user


def find_users(
    session: Session,
    *,
    nickname: str = "",
    phone_hmac: str = "",
    state: str = "",
    role: str = "",
    cursor: Cursor | None,
    size: int = 50,
) -> tuple[list[User], Cursor | None]:
    query = select(User)
    if nickname:
        query = query.where(User.nickname.contains(nickname))
    if phone_hmac:
        query = query.where(User.phone_hmac == phone_hmac)
    if state in {s.value for s in UserState}:
        query = query.where(User.state == state)
    if role in {r.value for r in Role}:
        query = query.where(User.role == role)
    if cursor is not None:
        query = query.where(User.id < cursor.id)
    rows = list(session.scalars(query.order_by(User.id.desc()).limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    return rows, (Cursor(rows[-1].created_at, rows[-1].id) if more and rows else None)
