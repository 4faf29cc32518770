"""消息: what a reader is told about replies to their comments and decisions about them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain.pagination import Cursor
from portal.models import Notification

REPLIED = "回覆了您的評論："  # after the replying reader's name, shown with the notice


def notify(
    session: Session,
    *,
    user_id: int,
    kind: str,
    text: str,
    link: str,
    now: datetime,
    actor_id: int | None = None,
) -> Notification:
    """A 消息 for `user_id`. When it tells of another reader's doing, `actor_id` names them and
    `text` leaves their name out: the page puts the name they have when it is read."""
    notice = Notification(user_id=user_id, kind=kind, text=text, link=link, created_at=now, actor_id=actor_id)
    session.add(notice)
    return notice


def unread_count(session: Session, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        or 0
    )


def notices_page(
    session: Session, user_id: int, *, cursor: Cursor | None, size: int = 20
) -> tuple[list[Notification], Cursor | None]:
    query = select(Notification).where(Notification.user_id == user_id)
    if cursor is not None:
        query = query.where(Notification.id < cursor.id)
    rows = list(session.scalars(query.order_by(Notification.id.desc()).limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    return rows, (Cursor(rows[-1].created_at, rows[-1].id) if more else None)


def mark_all_read(session: Session, user_id: int, *, now: datetime) -> None:
    # Row by row (a reader has few unread), so the flush names whose pages this changes.
    unread = select(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    for notice in session.scalars(unread):
        notice.read_at = now
