"""Moderators' decisions on comments; each writes its ModerationAction in the same transaction."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from portal.domain import audit, notifications
from portal.domain.comments import set_status
from portal.domain.pledge import REASON_LABELS
from portal.models import Comment, CommentStatus, User

ALREADY_DECIDED = "已由其他審核員處理"


class AlreadyDecided(Exception):
    """Another moderator decided first: nothing is decided twice."""


def _article_link(comment: Comment) -> str:
    return f"/articles/{comment.article_id}#comment-{comment.id}"


def approve(session: Session, *, comment: Comment, moderator: User, now: datetime, today: date) -> Comment:
    if comment.status not in (CommentStatus.PENDING, CommentStatus.HIDDEN):
        raise AlreadyDecided(ALREADY_DECIDED)
    before = {"status": str(comment.status)}
    set_status(session, comment, CommentStatus.APPROVED, now=now)
    comment.decided_at, comment.decided_by_id, comment.reason_code = now, moderator.id, ""
    author = comment.author
    if author.last_credit_on != today:  # P25: approvals earn at most +1 a day
        author.credit += 1
        author.last_credit_on = today
    for target_id in {comment.parent_id, comment.reply_to_id} - {None}:
        target = session.get(Comment, target_id)
        if target is not None and target.author_id != comment.author_id:
            notifications.notify(
                session,
                user_id=target.author_id,
                kind="reply",
                text=f"{author.nickname} 回覆了您的評論：{comment.body[:60]}",
                link=_article_link(comment),
                now=now,
            )
    audit.record(
        session,
        actor=moderator,
        action="moderation.approve",
        target_type="comment",
        target_id=comment.id,
        before=before,
        after={"status": "approved"},
        now=now,
    )
    return comment


def reject(
    session: Session, *, comment: Comment, moderator: User, reason_code: str, note: str = "", now: datetime
) -> Comment:
    if reason_code not in REASON_LABELS:
        raise ValueError(f"unknown reason {reason_code}")
    if comment.status != CommentStatus.PENDING:
        raise AlreadyDecided(ALREADY_DECIDED)
    set_status(session, comment, CommentStatus.REJECTED, now=now)
    comment.decided_at, comment.decided_by_id, comment.reason_code = now, moderator.id, reason_code
    comment.author.credit -= 3
    notifications.notify(
        session,
        user_id=comment.author_id,
        kind="decision",
        text=f"您的評論未通過審核：{REASON_LABELS[reason_code]}",
        link="/accounts/comments",
        now=now,
    )
    audit.record(
        session,
        actor=moderator,
        action="moderation.reject",
        target_type="comment",
        target_id=comment.id,
        reason_code=reason_code,
        note=note,
        before={"status": "pending"},
        after={"status": "rejected"},
        now=now,
    )
    return comment
