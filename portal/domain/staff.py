"""Accounts as admins manage them: roles, section scopes, the `pii` permission."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from portal.domain import audit, notifications
from portal.domain.errors import Rejected
from portal.domain.moderation import ADMIN_CLOSURE, settle_account
from portal.domain.pagination import Cursor
from portal.models import ModeratorScope, Role, Sanction, Section, User, UserState
from portal.models.users import new_session_token

# 停用 is the ladder's "close" measure with reason ADMIN_CLOSURE: one account state for the desk
# and the back office, settled by moderation.settle_account; only an admin lifts it.
CLOSING_MEASURES = ("close", "blacklist")


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


def _other_active_admins(session: Session, user: User) -> int:
    return session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN, User.state != UserState.CLOSED, User.id != user.id)
    )


def _settle(
    session: Session,
    *,
    user: User,
    actor: User,
    action: str,
    tell: str,
    note: str,
    before: dict[str, str],
    now: datetime,
    reason_code: str = "",
    **after: object,
) -> None:
    """The account as its measures now make it, the owner told, and the one record of the change."""
    settle_account(session, user, now=now)
    notifications.notify(
        session, user_id=user.id, kind="measure", text=tell, link="/accounts/comments", now=now
    )
    audit.record(
        session,
        actor=actor,
        action=action,
        target_type="user",
        target_id=user.id,
        reason_code=reason_code,
        note=note,
        before=before,
        after={"state": str(user.state), **after},
        now=now,
    )


def disable_account(session: Session, *, user: User, actor: User, note: str, now: datetime) -> Sanction:
    """停用: the account is closed as a moderator's "close" measure closes it, so it cannot sign in
    and every session of it ends at once; never the admin's own account, nor the last admin."""
    note = note.strip()
    if user.id == actor.id:
        raise Rejected("account", "不能停用自己的賬號", 403)
    if user.state == UserState.CLOSED:
        raise Rejected("account", "這個賬號已經停用", 409)
    if user.role == Role.ADMIN and not _other_active_admins(session, user):
        raise Rejected("account", "不能停用最後一位管理員", 403)
    if not note:
        raise Rejected("note", "請填寫停用原因")
    before = {"state": str(user.state)}
    sanction = Sanction(
        user_id=user.id,
        measure="close",
        reason_code=ADMIN_CLOSURE,
        note=note,
        starts_at=now,
        created_by_id=actor.id,
        created_at=now,
    )
    session.add(sanction)
    session.flush()
    user.session_token = new_session_token()  # ends every session of the account
    _settle(
        session,
        user=user,
        actor=actor,
        action="admin.account_disabled",
        tell="您的賬號已被管理員停用。",
        note=note,
        before=before,
        reason_code=ADMIN_CLOSURE,
        now=now,
        sanction=sanction.id,
    )
    return sanction


def enable_account(session: Session, *, user: User, actor: User, note: str, now: datetime) -> User:
    """啟用: every measure that keeps the account closed is lifted, whoever gave it (an admin's
    停用, a moderator's close or blacklist); the others (a mute, a restriction) still hold."""
    if user.state != UserState.CLOSED:
        raise Rejected("account", "這個賬號沒有停用", 409)
    closing = session.scalars(
        select(Sanction).where(
            Sanction.user_id == user.id,
            Sanction.lifted_at.is_(None),
            Sanction.measure.in_(CLOSING_MEASURES),
        )
    ).all()
    before = {"state": str(user.state)}
    for sanction in closing:
        sanction.lifted_at = now
    _settle(
        session,
        user=user,
        actor=actor,
        action="admin.account_enabled",
        tell="您的賬號已恢復使用。",
        note=note.strip(),
        before=before,
        now=now,
        lifted=[s.id for s in closing],
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
