"""Moderators' work: the queue, decisions, reports, the sanctions ladder, appeals, patrol and
emergency switches. Every change appends its ModerationAction in the caller's transaction."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, insert, or_, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session, selectinload

from portal.domain import audit, content_version, notifications
from portal.domain.comments import (
    EVASION_PENALTY,
    apply_edit,
    close_reports,
    drop_edit,
    priority_of,
    set_status,
    tier_from,
    upheld_violation,
    violated_recently,
)
from portal.domain.errors import NotAllowed, Rejected
from portal.domain.news import section_paths
from portal.domain.pagination import Cursor, capped_count
from portal.domain.pledge import REASON_LABELS, check_text, drop_invisible
from portal.domain.records import MEASURE_LABELS, to_local
from portal.domain.wordlist import WordList
from portal.models import (
    EVER_REPORTED,
    PENDING_EDIT,
    Appeal,
    Article,
    BlockedPhone,
    BulkHideComment,
    Comment,
    CommentStatus,
    ModerationAction,
    ModeratorScope,
    Report,
    ReportStatus,
    Role,
    Sanction,
    Section,
    User,
    UserState,
)
from portal.models.users import new_session_token

ALREADY_DECIDED = "已由其他審核員處理"
DECIDED_BY_YOU = "您已處理過此評論"
# The author took it back (刪除, or 註銷 withdrawing what was in review) while the desk showed it.
WITHDRAWN_BY_AUTHOR = "作者已撤回此評論或修改"
APPEAL_WITHDRAWN = "申訴人已註銷賬號，申訴已撤回"
CANNOT_DECIDE = "此評論目前的狀態不能這樣處理"
# A bulk id that is unknown, or outside the moderator's sections: the same words for both, so the
# answer does not tell a scoped moderator which comments exist elsewhere.
NOT_IN_REACH = "不存在或不在您的審核範圍內"
CHANGED_MEANWHILE = "作者剛修改了這條評論：請先看修改後的內容再處理"
DECISION_REASONS = tuple(f"R{n:02d}" for n in range(1, 19))
REPORT_RULINGS = ("upheld", "not_upheld", "malicious")
MEASURES = MEASURE_LABELS  # the ladder's steps (P24), in the words the record uses too
MUTE_DAYS = (1, 7, 30)
HIGH_PRIORITY_FLAGS = {"coordinated", "evasion", "privacy"}
MAX_PINNED = 3
MAX_APPEALS = 3
# A rename or a new number is kept as long as the registration that named the account (P28).
SUBMISSION_ACTIONS = (
    "comment.submitted",
    "comment.rejected",
    "comment.edited",
    "account.registered",
    "account.nickname_changed",
    "account.phone_changed",
)
# 停用 is the ladder's "close" measure, given by an admin with this reason (not one of the pledge's
# R-codes; records.SYSTEM_REASON_LABELS names it). Only an admin ends it (staff.enable_account).
ADMIN_CLOSURE = "admin"
ADMIN_CLOSURE_LIFT = "這是管理員停用賬號的措施，只有管理員可以解除"
STAFF_MEASURE_LIFT = "工作人員賬號的措施只有管理員可以解除"
STAFF_MEASURE_APPLY = "工作人員賬號只有管理員可以處置"
ADMIN_CLOSURE_APPEAL = "針對管理員停用賬號的申訴只能由管理員處理"
STAFF_MEASURE_APPEAL = "針對工作人員賬號措施的申訴只能由管理員處理"
DECIDER_APPEAL = "此申訴針對您的決定，須由其他審核員處理"
OWN_APPEAL = "這是您本人的申訴，須由其他管理員處理"
# 本人覆核: the decider rules an appeal against their own decision only when no one else could.
SELF_REVIEW_ADMINS = "本人覆核：沒有其他管理員可以處理此申訴"
SELF_REVIEW_STAFF = "本人覆核：沒有其他審核員或管理員可以處理此申訴"


class AlreadyDecided(Exception):
    """Another moderator decided first: nothing is decided twice."""


class InvalidTransition(Exception):
    """A decision the comment's state does not allow (PLEDGE_RULES §4)."""


class ChangedMeanwhile(Exception):
    """The author edited the comment after the desk showed it: 通過 would publish unseen text."""


def review_stamp(comment: Comment) -> str:
    """Which of the author's texts the desk shows: the time of their last edit ("" for none). A
    decision form carries it, and a decision on a comment edited since is refused."""
    return comment.edited_at.strftime("%Y%m%d%H%M%S%f") if comment.edited_at else ""


# --- who may decide what ---------------------------------------------------------------------


def is_moderator(user: User | None) -> bool:
    return user is not None and user.role in (Role.MODERATOR, Role.ADMIN)


def scope_section_ids(session: Session, moderator: User, subtree) -> set[int] | None:
    """The sections a moderator may act in (sub-sections included); None means all of them."""
    if moderator.role == Role.ADMIN:
        return None
    roots = list(
        session.scalars(select(ModeratorScope.section_id).where(ModeratorScope.user_id == moderator.id))
    )
    if not roots:
        return None
    ids: set[int] = set()
    for root in roots:
        ids.update(subtree(root))
    return ids


def scope_labels(session: Session, moderator: User) -> list[str]:
    """The sections a moderator is scoped to, each named by its path (「要聞 › 山東」), in the
    sections' order; empty for a moderator of every section."""
    roots = set(
        session.scalars(select(ModeratorScope.section_id).where(ModeratorScope.user_id == moderator.id))
    )
    if not roots:
        return []
    return [
        label for section, label in section_paths(session.scalars(select(Section))) if section.id in roots
    ]


def in_scope(comment: Comment, scope: set[int] | None) -> bool:
    return scope is None or comment.article.section_id in scope


def ensure_in_scope(comment: Comment, scope: set[int] | None) -> None:
    if not in_scope(comment, scope):
        raise NotAllowed("outside the moderator's sections")


# --- the queue -----------------------------------------------------------------------------------

TABS = ("pending", "reported", "patrol", "appeals", "approved", "rejected", "hidden")
TAB_LABELS = {
    "pending": "待審",
    "reported": "舉報",
    "patrol": "巡查",
    "appeals": "申訴",
    "approved": "已通過",
    "rejected": "未通過",
    "hidden": "已隱藏",
}


@dataclass
class QueueFilters:
    section_ids: Sequence[int] | None = None
    article_id: int | None = None
    author_id: int | None = None  # one user's items, as their page on the desk links to them
    flag: str = ""
    new_users: bool = False
    since: datetime | None = None
    until: datetime | None = None
    text: str = ""
    nickname: str = ""
    ip_prefix: str = ""

    def conditions(self, now: datetime) -> list:
        found = []
        if self.section_ids is not None:
            found.append(
                Comment.article_id.in_(select(Article.id).where(Article.section_id.in_(self.section_ids)))
            )
        if self.article_id:
            found.append(Comment.article_id == self.article_id)
        if self.author_id:
            found.append(Comment.author_id == self.author_id)
        if self.flag:
            found.append(
                or_(
                    Comment.flags.contains(self.flag, autoescape=True),
                    Comment.pending_flags.contains(self.flag, autoescape=True),
                )
            )
        if self.new_users:
            found.append(
                Comment.author_id.in_(select(User.id).where(User.created_at > now - timedelta(days=30)))
            )
        if self.since:
            found.append(Comment.created_at >= self.since)
        if self.until:
            found.append(Comment.created_at < self.until)
        if self.text:
            found.append(  # % and _ as typed; an edit waiting for review is found by its text too
                or_(
                    Comment.body.contains(self.text, autoescape=True),
                    Comment.pending_body.contains(self.text, autoescape=True),
                )
            )
        if self.nickname:
            found.append(
                Comment.author_id.in_(
                    select(User.id).where(User.nickname.contains(self.nickname, autoescape=True))
                )
            )
        if self.ip_prefix:
            found.append(Comment.ip.startswith(self.ip_prefix, autoescape=True))
        return found


def _scoped(scope: set[int] | None) -> list:
    if scope is None:
        return []
    return [Comment.article_id.in_(select(Article.id).where(Article.section_id.in_(scope)))]


def _tab_condition(tab: str):
    return {
        # New comments, and edits of published ones (the condition repeats ix_comment_pending_edit's).
        "pending": or_(
            Comment.status == CommentStatus.PENDING,
            and_(Comment.status == CommentStatus.APPROVED, sql_text(PENDING_EDIT)),
        ),
        "reported": and_(
            Comment.status.in_([CommentStatus.APPROVED, CommentStatus.HIDDEN]),
            sql_text(EVER_REPORTED),  # true of every reported comment; lets ix_comment_reported serve
            Comment.id.in_(select(Report.comment_id).where(Report.status == ReportStatus.OPEN)),
        ),
        "patrol": and_(Comment.status == CommentStatus.APPROVED, Comment.patrol_hit_at.is_not(None)),
        "approved": Comment.status == CommentStatus.APPROVED,
        "rejected": Comment.status == CommentStatus.REJECTED,
        "hidden": Comment.status == CommentStatus.HIDDEN,
    }[tab]


COUNT_CAP = 1000  # a badge shows 999+ beyond this: counting further would grow with the queue


def recent_comments(session: Session, author: User, scope: set[int] | None, limit: int = 30) -> list[Comment]:
    """A user's latest comments, any state, for their page on the desk: only those in the
    moderator's sections (the account's measures and counts stay whole, a measure being
    account-wide)."""
    return list(
        session.scalars(
            select(Comment)
            .where(Comment.author_id == author.id, *_scoped(scope))
            .order_by(Comment.created_at.desc())
            .limit(limit)
        )
    )


def waiting_edits(session: Session, author: User, scope: set[int] | None, limit: int = 30) -> list[Comment]:
    """A user's edits of published comments waiting for review (通過修改/不通過修改, in the 待審
    tab), in the order they were made; only those in the moderator's sections, like
    recent_comments. The published text stays public beside each until it is decided."""
    return list(
        session.scalars(
            select(Comment)
            .where(
                Comment.author_id == author.id,
                Comment.status == CommentStatus.APPROVED,
                sql_text(PENDING_EDIT),  # lets ix_comment_pending_edit serve, as in the tab
                *_scoped(scope),
            )
            .options(selectinload(Comment.article))
            .order_by(Comment.edited_at, Comment.id)
            .limit(limit)
        )
    )


def tab_counts(session: Session, scope: set[int] | None) -> dict[str, int]:
    def count(query: Select) -> int:
        return session.scalar(select(capped_count(query, COUNT_CAP))) or 0

    counts = {
        tab: count(select(Comment.id).where(_tab_condition(tab), *_scoped(scope)))
        for tab in ("pending", "reported", "patrol", "hidden")
    }
    counts["appeals"] = count(select(Appeal.id).where(*_appeals_in(scope)))
    return counts


def _appeals_in(scope: set[int] | None) -> list:
    """Open appeals a moderator may rule on: about comments in their sections; measures are
    account-wide, so only moderators without a section limit see those."""
    conditions = [Appeal.status == "open"]
    if scope is not None:
        in_sections = (
            select(Comment.id)
            .join(Article, Article.id == Comment.article_id)
            .where(Article.section_id.in_(scope))
        )
        conditions += [Appeal.target_type == "comment", Appeal.target_id.in_(in_sections)]
    return conditions


def open_appeals(session: Session, scope: set[int] | None, limit: int = 100) -> list[Appeal]:
    return list(
        session.scalars(select(Appeal).where(*_appeals_in(scope)).order_by(Appeal.created_at).limit(limit))
    )


def appeal_in_scope(session: Session, appeal: Appeal, scope: set[int] | None) -> bool:
    if scope is None:
        return True
    if appeal.target_type != "comment":
        return False
    comment = session.get(Comment, appeal.target_id)
    return comment is not None and in_scope(comment, scope)


def queue_page(
    session: Session,
    *,
    tab: str,
    filters: QueueFilters,
    scope: set[int] | None,
    cursor: Cursor | None,
    now: datetime,
    size: int = 50,
) -> tuple[list[Comment], Cursor | None]:
    """One keyset page of a tab. 待審, 巡查: highest priority first, then oldest first; 舉報: what
    needs a moderator most first (_reported_order); decided lists: newest decision first."""
    query: Select = select(Comment).where(_tab_condition(tab), *_scoped(scope), *filters.conditions(now))
    if tab == "reported":
        query, rank = _reported_order(query, cursor), True
    elif tab in ("pending", "patrol"):
        if cursor is not None and cursor.rank is not None:
            query = query.where(
                or_(
                    Comment.priority < cursor.rank,
                    and_(
                        Comment.priority == cursor.rank,
                        or_(
                            Comment.created_at > cursor.at,
                            and_(Comment.created_at == cursor.at, Comment.id > cursor.id),
                        ),
                    ),
                )
            )
        query = query.order_by(Comment.priority.desc(), Comment.created_at, Comment.id)
        rank = True
    else:
        if cursor is not None:
            query = query.where(
                or_(
                    Comment.created_at < cursor.at,
                    and_(Comment.created_at == cursor.at, Comment.id < cursor.id),
                )
            )
        query = query.order_by(Comment.created_at.desc(), Comment.id.desc())
        rank = False
    rows = list(
        session.scalars(
            query.options(selectinload(Comment.author), selectinload(Comment.article)).limit(size + 1)
        )
    )
    more = len(rows) > size
    rows = rows[:size]
    if not more or not rows:
        return rows, None
    last = rows[-1]
    if tab == "reported":
        return rows, Cursor(last.created_at, last.id, reported_rank(last))
    return rows, Cursor(last.created_at, last.id, last.priority if rank else None)


# The 舉報 tab's sort key in one cursor rank: hidden (by readers' reports, or otherwise pulled from
# view) above published, then more reporters above fewer. Distinct reporters stay far below this.
HIDDEN_RANK = 10**9


def reported_rank(comment: Comment) -> int:
    return (HIDDEN_RANK if comment.status == CommentStatus.HIDDEN else 0) + comment.report_count


def _reported_order(query: Select, cursor: Cursor | None) -> Select:
    """舉報: comments hidden by reports first (off the site until someone rules), then by how many
    readers reported them, then oldest first. Keyset on (hidden, report_count, created_at, id); the
    rows are the open reports' comments (ix_report_open), read through ix_comment_reported."""
    hidden = Comment.status == CommentStatus.HIDDEN
    if cursor is not None and cursor.rank is not None:
        was_hidden, count = cursor.rank >= HIDDEN_RANK, cursor.rank % HIDDEN_RANK
        later_in_group = or_(
            Comment.report_count < count,
            and_(
                Comment.report_count == count,
                or_(
                    Comment.created_at > cursor.at,
                    and_(Comment.created_at == cursor.at, Comment.id > cursor.id),
                ),
            ),
        )
        if was_hidden:
            query = query.where(or_(~hidden, and_(hidden, later_in_group)))
        else:
            query = query.where(~hidden, later_in_group)
    return query.order_by(
        case((hidden, 0), else_=1), Comment.report_count.desc(), Comment.created_at, Comment.id
    )


@dataclass
class AuthorRecord:
    approved: int = 0
    rejected: int = 0
    reported: int = 0
    tier: str = "new"
    account_days: int = 0
    sanction: Sanction | None = None


def author_records(session: Session, authors: Iterable[User], *, now: datetime) -> dict[int, AuthorRecord]:
    """Each author's history, for the rows of a queue page (a few grouped queries)."""
    ids = {a.id for a in authors}
    if not ids:
        return {}
    records = {
        a.id: AuthorRecord(
            approved=a.approved_comments,
            rejected=a.rejected_comments,
            reported=a.reports_received,
            account_days=(now - a.created_at).days,
        )
        for a in authors
    }
    for sanction in session.scalars(
        select(Sanction)
        .where(
            Sanction.user_id.in_(ids),
            Sanction.lifted_at.is_(None),
            or_(Sanction.ends_at.is_(None), Sanction.ends_at > now),
            Sanction.measure != "warning",
        )
        .order_by(Sanction.created_at)
    ):
        records[sanction.user_id].sanction = sanction
    violated = violated_recently(session, ids, now=now)
    for author in authors:
        records[author.id].tier = tier_from(
            author, records[author.id].approved, now=now, violated=author.id in violated
        )
    return records


# --- decisions ------------------------------------------------------------------------------------

# decision: (states it may start from, the state it leads to, whether a reason is required)
DECISIONS = {
    "approve": ((CommentStatus.PENDING,), CommentStatus.APPROVED, False),
    "restore": ((CommentStatus.HIDDEN,), CommentStatus.APPROVED, False),
    "reject": ((CommentStatus.PENDING,), CommentStatus.REJECTED, True),
    "hide": ((CommentStatus.APPROVED,), CommentStatus.HIDDEN, True),
    "delete": (
        (CommentStatus.PENDING, CommentStatus.APPROVED, CommentStatus.HIDDEN),
        CommentStatus.DELETED,
        True,
    ),
}
DECISION_LABELS = {
    "approve": "通過",
    "restore": "恢復",
    "reject": "不通過",
    "hide": "隱藏",
    "delete": "刪除",
    "keep": "保留",  # a patrol hit that was a false alarm: the comment stays up, off the 巡查 tab
}


def _claim(
    session: Session, comment: Comment, allowed: Sequence[CommentStatus], moderator: User, now: datetime
) -> str:
    """Mark the comment as decided only if it is still in an allowed state: of two moderators
    deciding at once, exactly one wins (a conditional UPDATE works on SQLite and PostgreSQL)."""
    # Both, read together: a decision committed since this request loaded the comment shows in both.
    session.refresh(comment, ["status", "decided_by_id"])
    before = str(comment.status)
    if comment.status not in allowed:
        if comment.decided_by_id is not None and comment.status != CommentStatus.PENDING:
            if comment.decided_by_id == comment.author_id:
                raise AlreadyDecided(WITHDRAWN_BY_AUTHOR)
            # A second click of one's own (two tabs, a slow answer) is not someone else's doing.
            raise AlreadyDecided(DECIDED_BY_YOU if comment.decided_by_id == moderator.id else ALREADY_DECIDED)
        raise InvalidTransition(before)
    claimed = session.execute(
        update(Comment)
        .where(Comment.id == comment.id, Comment.status == comment.status)
        .values(decided_at=now, decided_by_id=moderator.id)
        .execution_options(synchronize_session=False, **content_version.STAMPED_BY_FLUSH)
    ).rowcount
    if not claimed:
        raise AlreadyDecided(ALREADY_DECIDED)
    comment.decided_at, comment.decided_by_id = now, moderator.id
    return before


def decide(
    session: Session,
    *,
    comment: Comment,
    moderator: User,
    decision: str,
    reason_code: str = "",
    note: str = "",
    scope: set[int] | None = None,
    seen: str | None = None,
    now: datetime,
    today: date,
) -> Comment:
    """One decision on one comment; the transitions of PLEDGE_RULES §4 only. 通過 and 不通過 on a
    published comment decide the edit waiting beside it. `seen`: the review_stamp of the text the
    moderator was shown, when the form carried it."""
    if seen is not None:
        session.flush()
        session.refresh(comment, ["edited_at"])  # an edit committed since this request began shows
        if review_stamp(comment) != seen:
            raise ChangedMeanwhile(CHANGED_MEANWHILE)
    if decision in EDIT_DECISIONS:
        session.flush()  # what this session changed stays; what others committed shows
        session.refresh(comment, ["status", "pending_body"])
        if comment.status == CommentStatus.APPROVED and comment.pending_body is not None:
            return _decide_edit(
                session,
                comment=comment,
                moderator=moderator,
                decision=decision,
                reason_code=reason_code,
                note=note,
                scope=scope,
                now=now,
                today=today,
            )
        if comment.status == CommentStatus.APPROVED and comment.author.deregistered_at is not None:
            raise AlreadyDecided(WITHDRAWN_BY_AUTHOR)  # the edit went with the account
    if decision == "keep":
        return _keep_after_patrol(
            session, comment=comment, moderator=moderator, note=note, scope=scope, now=now
        )
    if decision not in DECISIONS:
        raise Rejected("decision", "未知的處理方式")
    allowed, target, needs_reason = DECISIONS[decision]
    _check_reason(reason_code, note, required=needs_reason)
    ensure_in_scope(comment, scope)
    before = _claim(session, comment, allowed, moderator, now)
    set_status(session, comment, target, now=now)
    comment.reason_code = reason_code if target != CommentStatus.APPROVED else ""
    penalty = 0
    if target == CommentStatus.APPROVED:
        comment.patrol_hit_at = None
        _credit_approval(comment.author, today)
        if before == CommentStatus.PENDING:
            _notify_reply_targets(session, comment, now)
    else:
        penalty = _penalise(session, comment, reason_code, now)
    if target == CommentStatus.DELETED:
        # Deleted from 已通過 or 已隱藏 instead of by the 舉報 ruling: its reports are upheld all
        # the same, and the reporters learn it (P26), or they would stay open for good.
        close_reports(session, comment, status=ReportStatus.UPHELD, result=REPORT_RESULTS["upheld"], now=now)
    audit.record(
        session,
        actor=moderator,
        action=f"moderation.{decision}",
        target_type="comment",
        target_id=comment.id,
        reason_code=reason_code,
        note=note,
        before={"status": before},
        # The credit charged is recorded so an upheld appeal gives back exactly that.
        after={"status": str(target), "penalty": penalty},
        now=now,
    )
    return comment


EDIT_DECISIONS = ("approve", "reject")
EDIT_REFUSED = "您對評論的修改未通過審核：{label}。評論仍顯示修改前的內容。"
# What the desk says of a decision on an edit: 「已不通過」 would tell the moderator (and the ear,
# from #queue-status) that the comment itself was refused, when it stays published.
EDIT_OUTCOMES = {"approve": "修改已通過", "reject": "修改未通過，評論保留原文"}


def decides_edit(comment: Comment, decision: str) -> bool:
    """Whether `decision` decides the author's edit waiting beside the published text."""
    return (
        decision in EDIT_DECISIONS
        and comment.status == CommentStatus.APPROVED
        and comment.pending_body is not None
    )


def outcome(decision: str, *, on_edit: bool = False) -> str:
    """A decision done, in the desk's words (「已通過」, or 「修改已通過」 for an edit)."""
    return EDIT_OUTCOMES[decision] if on_edit else f"已{DECISION_LABELS[decision]}"


def _decide_edit(
    session: Session,
    *,
    comment: Comment,
    moderator: User,
    decision: str,
    reason_code: str,
    note: str,
    scope: set[int] | None,
    now: datetime,
    today: date,
) -> Comment:
    """An author's edit of a published comment: approved, it replaces the public text; refused, the
    public text stays and the author is told why. The record keeps both texts. A refused edit
    never went public and costs no credit: there is no appeal against it, and the author can
    still write it again within the edit window."""
    _check_reason(reason_code, note, required=decision == "reject")
    ensure_in_scope(comment, scope)
    # Of two moderators at once, one wins; and the edit decided is the one just read, not one the
    # author saved since.
    claimed = session.execute(
        update(Comment)
        .where(
            Comment.id == comment.id,
            Comment.status == CommentStatus.APPROVED,
            Comment.pending_body == comment.pending_body,
        )
        .values(decided_at=now, decided_by_id=moderator.id)
        .execution_options(synchronize_session=False, **content_version.STAMPED_BY_FLUSH)
    ).rowcount
    if not claimed:
        raise AlreadyDecided(ALREADY_DECIDED)
    comment.decided_at, comment.decided_by_id = now, moderator.id
    public, edited = comment.body, comment.pending_body
    if decision == "approve":
        apply_edit(session, comment, now=now)
        _credit_approval(comment.author, today)
    else:
        drop_edit(comment)
        notifications.notify(
            session,
            user_id=comment.author_id,
            kind="decision",
            text=EDIT_REFUSED.format(label=REASON_LABELS.get(reason_code, "")),
            link="/accounts/comments",
            now=now,
        )
    audit.record(
        session,
        actor=moderator,
        action=f"moderation.{decision}",
        target_type="comment",
        target_id=comment.id,
        reason_code=reason_code,
        note=note,
        before={"status": "approved", "body": public, "edit": edited},
        after={
            "status": "approved",
            "body": edited if decision == "approve" else public,
            "edit": "approved" if decision == "approve" else "rejected",
            "penalty": 0,
        },
        now=now,
    )
    return comment


def _check_reason(reason_code: str, note: str, *, required: bool) -> None:
    if required and reason_code not in DECISION_REASONS:
        raise Rejected("reason", "請選擇處理理由")
    if reason_code == "R18" and not note.strip():
        raise Rejected("note", "選擇「其他違法違規信息」時請填寫說明")


def _keep_after_patrol(
    session: Session, *, comment: Comment, moderator: User, note: str, scope: set[int] | None, now: datetime
) -> Comment:
    """P22's third answer: the new word matched, but the comment breaks no rule. It stays public,
    leaves 巡查, and its author loses nothing (hiding it to clear the hit would cost them credit)."""
    ensure_in_scope(comment, scope)
    hit_at = comment.patrol_hit_at
    claimed = session.execute(
        update(Comment)
        .where(
            Comment.id == comment.id,
            Comment.status == CommentStatus.APPROVED,
            Comment.patrol_hit_at.is_not(None),
        )
        .values(patrol_hit_at=None, decided_at=now, decided_by_id=moderator.id)
        .execution_options(synchronize_session=False, **content_version.STAMPED_BY_FLUSH)
    ).rowcount
    if not claimed:
        session.refresh(comment, ["status", "patrol_hit_at", "decided_by_id"])
        if comment.status == CommentStatus.APPROVED and comment.patrol_hit_at is None and hit_at is not None:
            raise AlreadyDecided(ALREADY_DECIDED)
        raise InvalidTransition(str(comment.status))
    # The same values through the ORM: the flush names the row, so the right pages are refreshed.
    comment.patrol_hit_at, comment.decided_at, comment.decided_by_id = None, now, moderator.id
    audit.record(
        session,
        actor=moderator,
        action="moderation.keep",
        target_type="comment",
        target_id=comment.id,
        note=note,
        before={"patrol_hit_at": hit_at},
        after={"patrol_hit_at": None},
        now=now,
    )
    return comment


def _credit_approval(author: User, today: date) -> None:
    if author.last_credit_on != today:  # P25: approvals earn at most +1 a day
        author.credit += 1
        author.last_credit_on = today


def _penalise(session: Session, comment: Comment, reason_code: str, now: datetime) -> int:
    """P25: −3 for a moderator's rejection; evasion −5; R15 costs nothing the first time."""
    author = comment.author
    if reason_code == "R15" and not _has_violation(session, author.id, now, exclude=comment.id):
        penalty = 0
    else:
        penalty = EVASION_PENALTY if "evasion" in comment.flag_list else 3
    author.credit -= penalty
    label = REASON_LABELS.get(reason_code, "")
    text = {
        CommentStatus.REJECTED: f"您的評論未通過審核：{label}",
        CommentStatus.HIDDEN: f"您的評論已被暫時隱藏，原因：{label}",
        CommentStatus.DELETED: f"您的評論已被刪除，原因：{label}",
    }.get(comment.status, f"您的評論已被處理：{label}")
    notifications.notify(
        session,
        user_id=author.id,
        kind="decision",
        text=f"{text}。如有異議可申訴。",
        link="/accounts/comments",
        now=now,
    )
    return penalty


def _notify_reply_targets(session: Session, comment: Comment, now: datetime) -> None:
    for target_id in {comment.parent_id, comment.reply_to_id} - {None}:
        target = session.get(Comment, target_id)
        if target is not None and target.author_id != comment.author_id:
            notifications.notify(
                session,
                user_id=target.author_id,
                kind="reply",
                text=f"{notifications.REPLIED}{comment.body[:60]}",
                link=f"/articles/{comment.article_id}#comment-{comment.id}",
                now=now,
                actor_id=comment.author_id,
            )


def approve(session: Session, *, comment: Comment, moderator: User, now: datetime, today: date) -> Comment:
    return decide(session, comment=comment, moderator=moderator, decision="approve", now=now, today=today)


def reject(
    session: Session, *, comment: Comment, moderator: User, reason_code: str, note: str = "", now: datetime
) -> Comment:
    return decide(
        session,
        comment=comment,
        moderator=moderator,
        decision="reject",
        reason_code=reason_code,
        note=note,
        now=now,
        today=now.date(),
    )


def decide_many(
    session: Session,
    *,
    comment_ids: Sequence[int],
    moderator: User,
    decision: str,
    reason_code: str = "",
    note: str = "",
    scope: set[int] | None,
    seen: Mapping[int, str] | None = None,
    now: datetime,
    today: date,
) -> tuple[list[Comment], dict[int, str]]:
    """Bulk: the same decision on many. Those that cannot be decided are skipped and returned
    with why, in the desk's words (decided meanwhile, edited since shown, not in this state, or
    NOT_IN_REACH). `seen`: each ticked comment's review_stamp as the desk showed it."""
    done: list[Comment] = []
    skipped: dict[int, str] = {}
    for comment_id in dict.fromkeys(comment_ids):
        comment = session.get(Comment, comment_id)
        if comment is None or not in_scope(comment, scope):
            skipped[comment_id] = NOT_IN_REACH
            continue
        try:
            with session.begin_nested():
                decide(
                    session,
                    comment=comment,
                    moderator=moderator,
                    decision=decision,
                    reason_code=reason_code,
                    note=note,
                    scope=scope,
                    seen=(seen or {}).get(comment_id),
                    now=now,
                    today=today,
                )
        except AlreadyDecided as decided:
            skipped[comment_id] = str(decided)
        except ChangedMeanwhile:
            skipped[comment_id] = CHANGED_MEANWHILE
        except InvalidTransition:
            skipped[comment_id] = CANNOT_DECIDE
        else:
            done.append(comment)
    return done, skipped


def toggle_pin(session: Session, *, comment: Comment, moderator: User, now: datetime) -> Comment:
    """置頂: at most three per article, approved comments only; logged."""
    if comment.status != CommentStatus.APPROVED or comment.parent_id is not None:
        raise Rejected("decision", "只能置頂已發布的評論")
    if comment.pinned_at is None:
        pinned = session.scalar(
            select(func.count())
            .select_from(Comment)
            .where(
                Comment.article_id == comment.article_id,
                Comment.pinned_at.is_not(None),
                Comment.status == CommentStatus.APPROVED,
            )
        )
        if (pinned or 0) >= MAX_PINNED:
            raise Rejected("decision", f"每篇文章最多置頂{MAX_PINNED}條評論")
        comment.pinned_at, action = now, "moderation.pin"
    else:
        comment.pinned_at, action = None, "moderation.unpin"
    audit.record(
        session, actor=moderator, action=action, target_type="comment", target_id=comment.id, now=now
    )
    return comment


def toggle_feature(session: Session, *, comment: Comment, moderator: User, now: datetime) -> Comment:
    """精選: a mark readers see; approved comments only; logged."""
    if comment.status != CommentStatus.APPROVED:
        raise Rejected("decision", "只能精選已發布的評論")
    comment.featured = not comment.featured
    action = "moderation.feature" if comment.featured else "moderation.unfeature"
    audit.record(
        session, actor=moderator, action=action, target_type="comment", target_id=comment.id, now=now
    )
    return comment


# --- reports --------------------------------------------------------------------------------------

REPORT_RESULTS = {"upheld": "已刪除", "not_upheld": "舉報不成立", "malicious": "舉報不成立"}


def open_reports(session: Session, comment_ids: Sequence[int]) -> dict[int, list[Report]]:
    grouped: dict[int, list[Report]] = {}
    if not comment_ids:
        return grouped
    for report in session.scalars(
        select(Report)
        .where(Report.comment_id.in_(comment_ids), Report.status == ReportStatus.OPEN)
        .order_by(Report.created_at)
    ):
        grouped.setdefault(report.comment_id, []).append(report)
    return grouped


def rule_reports(
    session: Session,
    *,
    comment: Comment,
    moderator: User,
    ruling: str,
    reason_code: str = "",
    note: str = "",
    scope: set[int] | None = None,
    now: datetime,
) -> list[Report]:
    """The ruling on every open report of a comment: upheld deletes it with a reason; R90 not
    upheld restores a hidden comment; R91 malicious also costs the reporters 3 credit."""
    if ruling not in REPORT_RULINGS:
        raise Rejected("ruling", "請選擇處理結果")
    ensure_in_scope(comment, scope)
    if ruling == "upheld":  # the deletion's reason, checked before any report is closed
        _check_reason(reason_code, note, required=True)
    status = {
        "upheld": ReportStatus.UPHELD,
        "not_upheld": ReportStatus.NOT_UPHELD,
        "malicious": ReportStatus.MALICIOUS,
    }[ruling]
    # The reports are claimed first, so the deletion below finds none left open to close again.
    reports = close_reports(session, comment, status=status, result=REPORT_RESULTS[ruling], now=now)
    if not reports:
        raise AlreadyDecided(ALREADY_DECIDED)
    if ruling == "upheld":
        decide(
            session,
            comment=comment,
            moderator=moderator,
            decision="delete",
            reason_code=reason_code,
            note=note,
            scope=scope,
            now=now,
            today=now.date(),
        )
        code = reason_code
    else:
        if comment.status == CommentStatus.HIDDEN:
            decide(
                session,
                comment=comment,
                moderator=moderator,
                decision="restore",
                scope=scope,
                now=now,
                today=now.date(),
            )
        code = "R90" if ruling == "not_upheld" else "R91"
    if ruling == "malicious":
        for report in reports:
            reporter = session.get(User, report.reporter_id)
            if reporter is not None:
                reporter.credit -= 3
    audit.record(
        session,
        actor=moderator,
        action="report.resolved",
        target_type="comment",
        target_id=comment.id,
        reason_code=code,
        note=note,
        after={"ruling": ruling, "reports": [r.id for r in reports]},
        now=now,
    )
    return reports


# --- the ladder (P24) -----------------------------------------------------------------------------


def _has_violation(session: Session, user_id: int, now: datetime, exclude: int | None = None) -> bool:
    return _violations(session, user_id, now, exclude=exclude) > 0


def _violations(session: Session, user_id: int, now: datetime, exclude: int | None = None) -> int:
    query = (
        select(func.count()).select_from(Comment).where(Comment.author_id == user_id, *upheld_violation(now))
    )
    if exclude is not None:
        query = query.where(Comment.id != exclude)
    return session.scalar(query) or 0


@dataclass(frozen=True)
class Suggestion:
    measure: str
    days: int | None = None

    @property
    def label(self) -> str:
        base = MEASURES[self.measure]
        return f"{base}{self.days}天" if self.days else base


def suggest_measure(session: Session, user: User, *, now: datetime) -> Suggestion | None:
    """The step of the ladder that the violations of the last 30 days call for; None without any."""
    return _ladder_step(_violations(session, user.id, now))


def suggest_measures(session: Session, user_ids: Iterable[int], *, now: datetime) -> dict[int, Suggestion]:
    """The ladder's step for every author of a queue page with a violation in the last 30 days, in
    one grouped query; an author without any has no entry, nor one who has deregistered (註銷):
    a warning or a mute would reach nobody."""
    ids = set(user_ids)
    counts = dict(
        session.execute(
            select(Comment.author_id, func.count())
            .join(User, User.id == Comment.author_id)
            .where(Comment.author_id.in_(ids), User.deregistered_at.is_(None), *upheld_violation(now))
            .group_by(Comment.author_id)
        ).all()
    )
    return {user_id: step for user_id, count in counts.items() if (step := _ladder_step(count))}


def _ladder_step(count: int) -> Suggestion | None:
    """A measure answers an upheld violation (P24): the first one earns 警示提醒, and a clean
    record nothing. The comment a moderator is looking at counts once rejected, not before."""
    if count <= 0:
        return None
    if count == 1:
        return Suggestion("warning")
    if count == 2:
        return Suggestion("mute", 1)
    if count == 3:
        return Suggestion("mute", 7)
    if count == 4:
        return Suggestion("mute", 30)
    return Suggestion("close")


def apply_measure(
    session: Session,
    *,
    user: User,
    moderator: User,
    measure: str,
    reason_code: str,
    note: str = "",
    days: int | None = None,
    now: datetime,
    zone: tzinfo,
) -> Sanction:
    """Warn, restrict, mute, close or blacklist; the user is told what, why, until when and how to appeal."""
    if measure not in MEASURES:
        raise Rejected("measure", "請選擇處置措施")
    if reason_code not in DECISION_REASONS:
        raise Rejected("reason", "請選擇處理理由")
    if measure == "mute" and days is None:
        raise Rejected("days", "請選擇禁言天數")
    if measure == "mute" and days not in MUTE_DAYS:
        raise Rejected("days", "禁言天數只能是1、7或30天")
    if measure_refusal(user, moderator):
        raise NotAllowed("only admins act on staff accounts")
    label = REASON_LABELS[reason_code]
    ends_at = now + timedelta(days=days) if measure == "mute" and days else None
    before = _account_state(user)
    if measure == "mute":
        until = to_local(ends_at, zone).strftime("%Y-%m-%d %H:%M")
        text = f"您的賬號已被禁言{days}天（至{until}），原因：{label}。如有異議可申訴。"
    elif measure == "restriction":
        text = f"您的賬號功能已被限制（回覆關閉、每日評論額度降低），原因：{label}。如有異議可申訴。"
    elif measure in ("close", "blacklist"):
        user.session_token = new_session_token()  # ends every session of the account
        if measure == "blacklist" and session.get(BlockedPhone, number_of(user)) is None:
            session.add(BlockedPhone(phone_hmac=number_of(user), reason=label, created_at=now))
        text = f"您的賬號已被關閉，原因：{label}。如有異議可申訴。"
    else:
        text = f"警示提醒：您的評論違反了評論規則（{label}），請遵守《跟帖評論自律管理承諾書》。"
    sanction = Sanction(
        user_id=user.id,
        measure=measure,
        reason_code=reason_code,
        note=note,
        starts_at=now,
        ends_at=ends_at,
        created_by_id=moderator.id,
        created_at=now,
    )
    session.add(sanction)
    session.flush()
    settle_account(session, user, now=now)
    notifications.notify(
        session, user_id=user.id, kind="measure", text=text, link="/accounts/comments", now=now
    )
    audit.record(
        session,
        actor=moderator,
        action="account.measure",
        target_type="user",
        target_id=user.id,
        reason_code=reason_code,
        note=note,
        before=before,
        after={"measure": measure, "days": days, "sanction": sanction.id, **_account_state(user)},
        now=now,
    )
    return sanction


def _account_state(user: User) -> dict[str, Any]:
    return {"state": str(user.state), "muted_until": user.muted_until}


def settle_account(session: Session, user: User, *, now: datetime) -> None:
    """The account as the measures still in force make it: the strictest of them holds, and the
    longest mute. A milder measure never reopens a closed account; lifting one measure leaves the
    others standing."""
    in_force = session.scalars(
        select(Sanction)
        .where(
            Sanction.user_id == user.id,
            Sanction.lifted_at.is_(None),
            or_(Sanction.ends_at.is_(None), Sanction.ends_at > now),
        )
        .order_by(Sanction.created_at, Sanction.id)
    ).all()
    measures = {s.measure for s in in_force}
    if measures & {"close", "blacklist"}:
        user.state = UserState.CLOSED
    elif "restriction" in measures:
        user.state = UserState.RESTRICTED
    else:
        user.state = UserState.ACTIVE
    mutes = [s for s in in_force if s.measure == "mute" and s.ends_at is not None]
    longest = max(mutes, key=lambda s: s.ends_at, default=None)
    user.muted_until = longest.ends_at if longest else None
    user.muted_reason = REASON_LABELS.get(longest.reason_code, "") if longest else ""
    if "blacklist" not in measures and (blocked := session.get(BlockedPhone, number_of(user))):
        session.delete(blocked)


def admins_only(sanction: Sanction, user: User | None) -> bool:
    """A measure only an admin may end or rule on: an admin's 停用, or any measure on a staff
    account (only an admin gives those: apply_measure)."""
    return sanction.reason_code == ADMIN_CLOSURE or (user is not None and user.role != Role.READER)


def measure_refusal(user: User, actor: User) -> str:
    """Why `actor` may not apply a measure to this account, in the desk's words; "" when they may."""
    return STAFF_MEASURE_APPLY if user.role != Role.READER and actor.role != Role.ADMIN else ""


def lift_refusal(sanction: Sanction, user: User | None, actor: User) -> str:
    """Why `actor` may not lift this measure, in the desk's words; "" when they may."""
    if actor.role == Role.ADMIN or not admins_only(sanction, user):
        return ""
    return ADMIN_CLOSURE_LIFT if sanction.reason_code == ADMIN_CLOSURE else STAFF_MEASURE_LIFT


# Said to whoever presses 解除 on a measure already ended: by this moderator in another tab, by an
# appeal's ruling, or by someone else; 已由其他審核員處理 told the one who had lifted it a falsehood.
ALREADY_LIFTED = "這項措施已經解除"


def lift_measure(
    session: Session, *, sanction: Sanction, moderator: User, note: str, now: datetime, tell: bool = True
) -> Sanction:
    """Ends a measure early; the user is told (`tell=False`: an appeal's ruling tells them itself).
    A moderator may not end an admin's 停用 nor a measure on a staff account (403)."""
    user = session.get(User, sanction.user_id)
    if refusal := lift_refusal(sanction, user, moderator):
        raise Rejected("sanction", refusal, 403)
    if sanction.lifted_at is not None:
        raise AlreadyDecided(ALREADY_LIFTED)
    sanction.lifted_at = now
    before = _account_state(user) if user is not None else {}
    if user is not None:
        settle_account(session, user, now=now)
        if tell:
            text = f"您的賬號措施「{MEASURES[sanction.measure]}」已解除。"
            notifications.notify(
                session, user_id=user.id, kind="measure", text=text, link="/accounts/comments", now=now
            )
    audit.record(
        session,
        actor=moderator,
        action="account.measure_lifted",
        target_type="user",
        target_id=sanction.user_id,
        note=note,
        before=before,
        after={"sanction": sanction.id, **(_account_state(user) if user is not None else {})},
        now=now,
    )
    return sanction


# --- appeals (P27) --------------------------------------------------------------------------------


def appealable(comment: Comment) -> bool:
    """A moderator's rejection, hiding or deletion of the author's comment can be appealed: each
    costs the author credit, and the notice says so (a hide by readers' reports is no decision)."""
    return comment.status in (
        CommentStatus.REJECTED,
        CommentStatus.HIDDEN,
        CommentStatus.DELETED,
    ) and comment.decided_by_id not in (
        None,
        comment.author_id,
    )


APPEAL_OPEN = "open"
APPEALS_USED_UP = "used_up"


def appeal_states(
    session: Session, *, author_id: int, target_type: str, target_ids: Iterable[int]
) -> dict[int, str]:
    """Where the author's appeals against these items stand, for 我的評論 to offer 申訴 only where
    file_appeal would take one: APPEAL_OPEN while one waits for its ruling, APPEALS_USED_UP after
    MAX_APPEALS; an item with neither is absent."""
    ids = list(target_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Appeal.target_id, func.count(), func.sum(case((Appeal.status == "open", 1), else_=0)))
        .where(Appeal.author_id == author_id, Appeal.target_type == target_type, Appeal.target_id.in_(ids))
        .group_by(Appeal.target_id)
    )
    states = {}
    for target_id, filed, waiting in rows:
        if waiting:
            states[target_id] = APPEAL_OPEN
        elif filed >= MAX_APPEALS:
            states[target_id] = APPEALS_USED_UP
    return states


def appeal_target(session: Session, *, author: User, target_type: str, target_id: int) -> Comment | Sanction:
    """The author's own comment or measure an appeal is about; anything else is NotAllowed (a 404:
    someone else's item is not said to exist)."""
    model = {"comment": Comment, "sanction": Sanction}.get(target_type)
    target = session.get(model, target_id) if model is not None else None
    owner = target.author_id if isinstance(target, Comment) else getattr(target, "user_id", None)
    if target is None or owner != author.id:
        raise NotAllowed(f"not the author's {target_type}")
    return target


def cannot_appeal(session: Session, *, author: User, target: Comment | Sanction) -> str:
    """Why the author can no longer appeal this comment or measure, in their words; "" when they
    can. The appeal page says so before the reader writes, and file_appeal refuses alike."""
    if isinstance(target, Comment):
        if not appealable(target):
            return "只能對審核員的不通過、隱藏或刪除決定提出申訴"
        target_type = "comment"
    else:
        if target.lifted_at is not None:
            return "該處置已解除，無需申訴"
        target_type = "sanction"
    state = appeal_states(session, author_id=author.id, target_type=target_type, target_ids=[target.id])
    if state.get(target.id) == APPEAL_OPEN:
        return "您的申訴正在處理中，請耐心等待"
    if state.get(target.id) == APPEALS_USED_UP:
        return f"每項決定最多可申訴{MAX_APPEALS}次"
    return ""


def file_appeal(
    session: Session, *, author: User, target_type: str, target_id: int, text: str, now: datetime
) -> Appeal:
    """申訴 a rejection, a deletion or a measure: the author only, at most three times per item."""
    text = text.strip()
    # Counted as it shows: five zero-width spaces are an empty appeal, not a five-character one.
    if len("".join(drop_invisible(text).split())) < 5 or len(text) > 500:
        raise Rejected("text", "申訴理由需為5至500字")
    target = appeal_target(session, author=author, target_type=target_type, target_id=target_id)
    if refusal := cannot_appeal(session, author=author, target=target):
        raise Rejected("text", refusal)
    appeal = Appeal(
        target_type=target_type,
        target_id=target_id,
        author_id=author.id,
        text=text,
        original_decider_id=decider_of(target),
        created_at=now,
    )
    session.add(appeal)
    session.flush()
    audit.record(
        session,
        actor=author,
        action="appeal.created",
        target_type="appeal",
        target_id=appeal.id,
        note=text,
        now=now,
    )
    return appeal


def _charged_penalty(session: Session, comment_id: int) -> int:
    """The credit the last moderator decision on a comment cost its author (0 if none)."""
    last = session.scalars(
        select(ModerationAction)
        .where(
            ModerationAction.target_type == "comment",
            ModerationAction.target_id == comment_id,
            ModerationAction.action.in_(["moderation.reject", "moderation.hide", "moderation.delete"]),
        )
        .order_by(ModerationAction.id.desc())
        .limit(1)
    ).first()
    if last is None:
        return 0
    try:
        return int(json.loads(last.after).get("penalty", 0))
    except (ValueError, TypeError):
        return 0


def decider_of(target: Comment | Sanction) -> int | None:
    """Who made the decision an appeal is about: the comment's decider, or who gave the measure."""
    return target.decided_by_id if isinstance(target, Comment) else target.created_by_id


def appeal_subject(session: Session, appeal: Appeal) -> Comment | Sanction | None:
    model = Comment if appeal.target_type == "comment" else Sanction
    return session.get(model, appeal.target_id)


def _admins_rule(session: Session, target: Comment | Sanction) -> bool:
    """An appeal against this is an admin's to rule: a measure only an admin may lift."""
    return isinstance(target, Sanction) and admins_only(target, session.get(User, target.user_id))


def _section_and_parents(session: Session, section_id: int | None) -> set[int]:
    """The section and every section above it: a scope rooted at any of them covers its comments."""
    found: set[int] = set()
    while section_id is not None and section_id not in found:
        found.add(section_id)
        section_id = session.scalar(select(Section.parent_id).where(Section.id == section_id))
    return found


def only_the_decider_can_rule(
    session: Session, *, target: Comment | Sanction, decider_id: int | None, appellant_id: int
) -> bool:
    """Whether no open staff account besides the decider and the appellant could rule an appeal
    against `target`: an admin, or for anything but an admin-only measure a moderator whose scope
    covers it (every section for a measure, which is account-wide). Then the decider rules it
    (本人覆核) rather than leave it open for ever; there is always an open admin (staff keeps the
    last one), so someone can."""
    if decider_id is None:
        return False
    if _admins_rule(session, target):
        may_rule = User.role == Role.ADMIN
    else:
        unscoped = ~select(ModeratorScope.user_id).where(ModeratorScope.user_id == User.id).exists()
        covered = unscoped
        if isinstance(target, Comment):
            sections = _section_and_parents(session, target.article.section_id)
            covering = (
                select(ModeratorScope.user_id)
                .where(ModeratorScope.user_id == User.id, ModeratorScope.section_id.in_(sections))
                .exists()
            )
            covered = or_(unscoped, covering)
        may_rule = or_(User.role == Role.ADMIN, and_(User.role == Role.MODERATOR, covered))
    others = select(User.id).where(
        may_rule, User.state != UserState.CLOSED, User.id.not_in({decider_id, appellant_id})
    )
    return not session.scalar(select(others.exists()))


def self_review(session: Session, appeal: Appeal, moderator: User) -> str:
    """本人覆核: why `moderator`, who made the decision appealed against, rules it all the same (no
    one else could), in the words the desk, the record and the appellant see; "" when they do not."""
    if moderator.id != appeal.original_decider_id or moderator.id == appeal.author_id:
        return ""
    target = appeal_subject(session, appeal)
    if target is None or not only_the_decider_can_rule(
        session, target=target, decider_id=moderator.id, appellant_id=appeal.author_id
    ):
        return ""
    if not _admins_rule(session, target):
        return SELF_REVIEW_STAFF
    return SELF_REVIEW_ADMINS if moderator.role == Role.ADMIN else ""


def appeal_refusal(session: Session, appeal: Appeal, moderator: User) -> str:
    """Why `moderator` may not rule on this appeal, in the desk's words; "" when they may.
    P27 has another person review the decision: never the appellant, and not the decider while
    someone else could (self_review). A review that could only ever 維持 is none, so an appeal
    against a measure only an admin may lift (an admin's 停用, a staff account's measure) is ruled
    by an admin, either way."""
    if appeal.author_id == moderator.id:
        return OWN_APPEAL
    if appeal.target_type == "sanction" and moderator.role != Role.ADMIN:
        sanction = session.get(Sanction, appeal.target_id)
        if sanction is not None and admins_only(sanction, session.get(User, sanction.user_id)):
            return ADMIN_CLOSURE_APPEAL if sanction.reason_code == ADMIN_CLOSURE else STAFF_MEASURE_APPEAL
    if appeal.original_decider_id == moderator.id and not self_review(session, appeal, moderator):
        return DECIDER_APPEAL
    return ""


def rule_appeal(
    session: Session, *, appeal: Appeal, moderator: User, overturn: bool, note: str, now: datetime
) -> Appeal:
    """A different moderator rules; an overturned rejection publishes the comment and returns the credit.
    The decider rules only when no one else could, and the ruling says so (本人覆核); an appeal
    against an admin's 停用 or a staff account's measure is an admin's to rule, and nobody rules
    their own appeal (403)."""
    review = self_review(session, appeal, moderator)
    if appeal.original_decider_id == moderator.id and not review:
        raise NotAllowed("the moderator who decided may not rule on the appeal while another may")
    if refusal := appeal_refusal(session, appeal, moderator):
        raise Rejected("overturn", refusal, 403)
    claimed = session.execute(
        update(Appeal)
        .where(Appeal.id == appeal.id, Appeal.status == "open")
        .values(
            status="overturned" if overturn else "upheld",
            decided_by_id=moderator.id,
            decided_at=now,
            ruling_note=note,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        session.refresh(appeal, ["status"])
        raise AlreadyDecided(APPEAL_WITHDRAWN if appeal.status == "withdrawn" else ALREADY_DECIDED)
    session.refresh(appeal)
    author = session.get(User, appeal.author_id)
    if overturn and appeal.target_type == "comment":
        comment = session.get(Comment, appeal.target_id)
        if comment is not None and comment.status in (
            CommentStatus.REJECTED,
            CommentStatus.HIDDEN,
            CommentStatus.DELETED,
        ):
            before = str(comment.status)
            set_status(session, comment, CommentStatus.APPROVED, now=now)
            comment.reason_code, comment.decided_by_id, comment.decided_at = "", moderator.id, now
            if author is not None:
                author.credit += _charged_penalty(session, comment.id)
            audit.record(
                session,
                actor=moderator,
                action="moderation.appeal_overturn",
                target_type="comment",
                target_id=comment.id,
                before={"status": before},
                after={"status": "approved", **({"self_review": True} if review else {})},
                now=now,
            )
    elif overturn and appeal.target_type == "sanction":
        sanction = session.get(Sanction, appeal.target_id)
        if sanction is not None and sanction.lifted_at is None:
            lift_measure(
                session,
                sanction=sanction,
                moderator=moderator,
                note=f"申訴撤銷{'（本人覆核）' if review else ''}：{note}",
                now=now,
                tell=False,
            )
    if author is not None:
        notifications.notify(
            session,
            user_id=author.id,
            kind="appeal_result",
            text=f"申訴結果：{'撤銷' if overturn else '維持'}{f'（{review}）' if review else ''}"
            f"{('。' + note) if note else ''}",
            link="/accounts/comments",
            now=now,
        )
    audit.record(
        session,
        actor=moderator,
        action="appeal.resolved",
        target_type="appeal",
        target_id=appeal.id,
        note=note,
        after={"overturned": overturn, **({"self_review": True} if review else {})},
        now=now,
    )
    return appeal


# --- patrol and emergencies -----------------------------------------------------------------------


def patrol(
    session: Session,
    *,
    words: WordList,
    now: datetime,
    days: int = 30,
    actor: User | None = None,
    scope: set[int] | None = None,
) -> list[int]:
    """實時巡查 (P22): recheck the approved comments of the last days (in the moderator's
    sections: `scope`) against the word list."""
    hits: list[int] = []
    since = now - timedelta(days=days)
    last_id = 0
    while True:
        batch = list(
            session.scalars(
                select(Comment)
                .where(
                    Comment.status == CommentStatus.APPROVED,
                    Comment.created_at > since,
                    Comment.id > last_id,
                    *_scoped(scope),
                )
                .order_by(Comment.id)
                .limit(500)
            )
        )
        if not batch:
            break
        for comment in batch:
            verdict = check_text(comment.body, words, max_length=10_000)
            if any(hit.rule == "P15" for hit in verdict.hits) and verdict.action != "pass":
                if comment.patrol_hit_at is None:
                    comment.patrol_hit_at = now
                    comment.priority = max(comment.priority, priority_of(comment))
                    audit.record(
                        session,
                        actor=actor,
                        action="comment.patrol_hit",
                        target_type="comment",
                        target_id=comment.id,
                        after={"verdict": verdict.action, "categories": verdict.categories},
                        now=now,
                    )
                hits.append(comment.id)
        last_id = batch[-1].id
    return hits


def close_comments(
    session: Session,
    *,
    moderator: User,
    target_type: str,
    target_id: int | None,
    closed: bool,
    now: datetime,
    scope: set[int] | None = None,
) -> None:
    """應急處置 (P32): close (or reopen) comments on an article, a section or the whole site."""
    from portal.models import CommentsState, Section, SiteSetting

    # An id that is no row, or one outside the moderator's sections, reads the same: said beside the
    # field (the typed number kept), and nothing tells which it was.
    if target_type == "article":
        article = session.get(Article, target_id) if target_id else None
        if article is None or (scope is not None and article.section_id not in scope):
            raise Rejected("target_id", f"找不到編號為{target_id}的文章，或它不在您負責的欄目內")
        article.comments_state = CommentsState.CLOSED if closed else CommentsState.OPEN
    elif target_type == "section":
        section = session.get(Section, target_id) if target_id else None
        if section is None or (scope is not None and section.id not in scope):
            raise Rejected("target_id", f"找不到編號為{target_id}的欄目，或它不在您負責的欄目內")
        section.comments_closed = closed
    elif target_type == "site":
        if scope is not None:
            raise NotAllowed("only moderators of every section close the whole site")
        setting = session.get(SiteSetting, "comments_closed_site")
        if setting is None:
            session.add(SiteSetting(key="comments_closed_site", value="1" if closed else "0"))
        else:
            setting.value = "1" if closed else "0"
    else:
        raise NotAllowed("unknown target")
    audit.record(
        session,
        actor=moderator,
        action="emergency.close" if closed else "emergency.reopen",
        target_type=target_type,
        target_id=target_id,
        now=now,
    )


NOTHING_TO_HIDE = "沒有符合條件的已發布評論，未隱藏任何評論"
BAD_IP_PREFIX = "IP前綴請填寫完整的段：如 10.8（即 10.8.*）、10.8.0.0/16，或一個完整的IP地址"
_IPV4_PART = re.compile(r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)")
_IPV4_PREFIX = re.compile(rf"{_IPV4_PART.pattern}(?:\.{_IPV4_PART.pattern}){{0,3}}\.?")
_IPV6_PREFIX = re.compile(r"[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*:?", re.IGNORECASE)


def ip_match(typed: str) -> ColumnElement[bool]:
    """The comments from an IP prefix as a moderator types it, by whole parts: 「10.0.2」 is
    10.0.2.*, never 10.0.25.* as well (it was a prefix of the text, and its % or _ were LIKE's
    wildcards); a CIDR of whole octets or groups; a full address is that address alone."""
    text = typed.strip().lower()
    if "/" in text:
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise Rejected("ip_prefix", BAD_IP_PREFIX) from None
        unit = 8 if network.version == 4 else 16
        if network.prefixlen % unit or network.prefixlen == 0:
            raise Rejected("ip_prefix", BAD_IP_PREFIX)
        if network.prefixlen == network.max_prefixlen:
            return Comment.ip == str(network.network_address)
        if network.version == 6:
            groups = network.network_address.exploded.split(":")[: network.prefixlen // 16]
            text = ":".join(group.lstrip("0") or "0" for group in groups) + ":"
        else:
            text = ".".join(str(network.network_address).split(".")[: network.prefixlen // 8])
    try:
        return Comment.ip == str(ipaddress.ip_address(text))
    except ValueError:
        pass
    if _IPV4_PREFIX.fullmatch(text):
        return Comment.ip.startswith(text.rstrip(".") + ".")
    if ":" in text and _IPV6_PREFIX.fullmatch(text):
        return Comment.ip.startswith(text.rstrip(":") + ":")
    raise Rejected("ip_prefix", BAD_IP_PREFIX)


def bulk_hide(
    session: Session,
    *,
    moderator: User,
    user_id: int | None = None,
    ip_prefix: str = "",
    term: str = "",
    reason_code: str,
    note: str = "",
    scope: set[int] | None = None,
    now: datetime,
) -> ModerationAction:
    """Hide at once every public comment of a user, an IP prefix or containing a term; undoable."""
    if reason_code not in DECISION_REASONS:
        raise Rejected("reason", "請選擇處理理由")
    conditions = []
    if user_id:
        conditions.append(Comment.author_id == user_id)
    if ip_prefix.strip():
        conditions.append(ip_match(ip_prefix))
    if term.strip():
        conditions.append(Comment.body.contains(term.strip(), autoescape=True))
    if not conditions:
        raise Rejected("term", "請指定用戶、IP前綴或關鍵詞")
    found = list(
        session.scalars(
            select(Comment).where(Comment.status == CommentStatus.APPROVED, *conditions, *_scoped(scope))
        )
    )
    if not found:  # nothing to hide is no emergency act: no record, no undo of nothing
        raise Rejected("term", NOTHING_TO_HIDE)
    hidden: list[int] = []
    for comment in found:
        set_status(session, comment, CommentStatus.HIDDEN, now=now)
        comment.reason_code, comment.decided_by_id, comment.decided_at = reason_code, moderator.id, now
        hidden.append(comment.id)
    record = audit.record(
        session,
        actor=moderator,
        action="emergency.bulk_hide",
        target_type="comments",
        reason_code=reason_code,
        note=note,
        after={"user_id": user_id, "ip_prefix": ip_prefix, "term": term, "hidden": hidden},
        now=now,
    )
    session.flush()  # the record's id, for its rows
    # The same comments as rows, so a scoped moderator's reach finds the act by its sections
    # (records.in_reach) without reading the JSON.
    session.execute(
        insert(BulkHideComment),
        [{"action_id": record.id, "comment_id": c.id, "article_id": c.article_id} for c in found],
    )
    return record


def undo_bulk_hide(
    session: Session,
    *,
    action: ModerationAction,
    moderator: User,
    now: datetime,
    scope: set[int] | None = None,
) -> list[int]:
    """Restore what a bulk hide hid and is still hidden (in the moderator's sections); the undo is
    logged, the original record stays."""
    if action.action != "emergency.bulk_hide":
        raise NotAllowed("not a bulk hide")
    already = session.scalar(
        select(func.count())
        .select_from(ModerationAction)
        .where(ModerationAction.action == "emergency.undo", ModerationAction.target_id == action.id)
    )
    if already:
        raise AlreadyDecided(ALREADY_DECIDED)
    restored = []
    for comment_id in json.loads(action.after).get("hidden", []):
        comment = session.get(Comment, comment_id)
        if comment is not None and comment.status == CommentStatus.HIDDEN and in_scope(comment, scope):
            set_status(session, comment, CommentStatus.APPROVED, now=now)
            comment.reason_code = ""
            restored.append(comment_id)
    audit.record(
        session,
        actor=moderator,
        action="emergency.undo",
        target_type="moderation_action",
        target_id=action.id,
        after={"restored": restored},
        now=now,
    )
    return restored


def reveal_phone(session: Session, *, viewer: User, user: User, vault, now: datetime, ip: str = "") -> str:
    """The unmasked phone, for holders of the `pii` permission only; every view is logged."""
    if not viewer.can_view_pii:
        raise NotAllowed("pii permission required")
    audit.record(
        session, actor=viewer, action="pii.view", target_type="user", target_id=user.id, ip=ip, now=now
    )
    return vault.decrypt(user.phone_cipher)


def purge(session: Session, *, now: datetime, retention_days: int, actor: User | None = None) -> int:
    """Delete submission records past retention (never under 184 days) that are not on hold."""
    from portal.models import EvidenceHold

    retention_days = max(retention_days, 184)
    held = select(EvidenceHold.action_id)
    old = list(
        session.scalars(
            select(ModerationAction.id).where(
                ModerationAction.action.in_(SUBMISSION_ACTIONS),
                ModerationAction.created_at < now - timedelta(days=retention_days),
                ModerationAction.id.not_in(held),
            )
        )
    )
    for start in range(0, len(old), 500):
        chunk = old[start : start + 500]
        session.execute(ModerationAction.__table__.delete().where(ModerationAction.id.in_(chunk)))
    audit.record(
        session,
        actor=actor,
        action="records.purged",
        target_type="moderation_action",
        note=f"刪除{len(old)}條超過{retention_days}天的提交記錄",
        after={"count": len(old), "retention_days": retention_days},
        now=now,
    )
    return len(old)


def number_of(user: User) -> str:
    """The hash of the account's phone: a deregistered account's real one waits in
    retired_phone_hmac (its phone_hmac names no number), so a blacklist still bars the number."""
    return user.retired_phone_hmac or user.phone_hmac


def comments_closed_site(site_settings: dict[str, str]) -> bool:
    return site_settings.get("comments_closed_site") == "1"
