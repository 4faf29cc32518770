"""網友評論: submit, reply, edit, delete, like and report, with the pledge rules in order.

Every function takes the session and plain values, raises `Rejected` before adding anything,
and never commits: the view commits once, so a comment and its log row land together.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache

from sqlalchemy import (
    DateTime,
    Integer,
    Row,
    Select,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy import text as sql_text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached, selectinload

from portal.domain import audit, content_version, notifications
from portal.domain.errors import NotAllowed, Rejected
from portal.domain.pagination import Cursor, capped_count
from portal.domain.pledge import (
    DEFAULT_TLDS,
    REASON_LABELS,
    check_text,
    drop_invisible,
    normalise,
    skeleton_hash,
)
from portal.domain.wordlist import WordList
from portal.models import (
    NOT_COORDINATED,
    Article,
    Comment,
    CommentRevision,
    CommentsState,
    CommentStatus,
    Like,
    Report,
    ReportStatus,
    Role,
    User,
    UserState,
)

UNVERIFIED = "根據《互聯網跟帖評論服務管理規定》，請先綁定並驗證手機號後再發表評論"
CLOSED = "本文評論已關閉"
ACCOUNT_CLOSED = "賬號已關閉"
TOO_FAST = "發言過於頻繁，請{n}秒後再試"
DAILY_LIMIT = "今日評論次數已達上限"
DUPLICATE = "請勿重複發布相同內容"
BAD_PARENT = "您回覆的評論不存在或已不可見，請重新整理頁面"
REPLIES_OFF = "您的賬號功能已被限制，暫時不能回覆評論。如有異議可申訴。"
EDIT_WINDOW = "評論發布超過{n}分鐘，已不能編輯"
EDIT_STATE = "這條評論已不能編輯"
EDIT_UNCHANGED = "評論內容沒有修改"
REPORT_OWN = "不能舉報自己的評論"
REPORT_TWICE = "您已舉報過這條評論"
REPORT_REASON = "請選擇舉報理由"

TIER_NEW, TIER_NORMAL, TIER_GOOD, TIER_RESTRICTED = "new", "normal", "good", "restricted"
TIER_LABELS = {TIER_NEW: "新用戶", TIER_NORMAL: "普通", TIER_GOOD: "良好", TIER_RESTRICTED: "受限"}
# The reasons a reader may give for a report: the moderators' codes that a reader can judge.
REPORT_REASONS = ("R01", "R03", "R05", "R06", "R07", "R08", "R09", "R10", "R11", "R13", "R16", "R18")


@dataclass(frozen=True)
class CommentRules:
    """The site's settings for comments (PLEDGE_RULES *defaults*)."""

    min_length: int = 2
    max_length: int = 500
    cooldown_seconds: int = 15
    ip_hourly: int = 30
    quotas: dict[str, int] = field(
        default_factory=lambda: {TIER_NEW: 5, TIER_NORMAL: 20, TIER_GOOD: 50, TIER_RESTRICTED: 3}
    )
    edit_minutes: int = 5
    report_hide_threshold: int = 3
    retry_minutes: int = 10
    duplicate_hours: int = 24
    coordinated_accounts: int = 3
    coordinated_network_posts: int = 10
    coordinated_minutes: int = 10
    tlds: frozenset[str] = DEFAULT_TLDS  # P17's listed TLDs (the url_tlds setting)


@dataclass(frozen=True)
class Origin:
    """Where a submission came from, recorded with it (P28)."""

    ip: str = ""
    ip_prefix: str = ""
    region: str = ""
    user_agent: str = ""


# --- who may post --------------------------------------------------------------------------


def wait_in_words(seconds: int) -> str:
    """A wait as a reader can use it: seconds, or whole minutes past a minute and a half (the
    hourly limits' waits, 「2874秒」, are no figure anyone counts down)."""
    return f"{seconds}秒" if seconds <= 90 else f"{math.ceil(seconds / 60)}分鐘"


def too_fast(seconds: int) -> str:
    return f"發言過於頻繁，請{wait_in_words(seconds)}後再試"


def too_many_reports(seconds: int) -> str:
    return f"舉報過於頻繁，請{wait_in_words(seconds)}後再試"


def check_can_post(author: User, *, now: datetime, zone: tzinfo = UTC) -> None:
    """P5 then P2: the account's state before any other rule; dates in the site's zone."""
    if author.state == UserState.CLOSED:
        raise Rejected("body", ACCOUNT_CLOSED, 403, reason="account_state")
    if author.muted_until is not None and author.muted_until > now:
        raise Rejected("body", mute_notice(author, zone=zone), 403, reason="account_state")
    if author.phone_verified_at is None:
        raise Rejected("body", UNVERIFIED, 403, reason="unverified")


def mute_notice(author: User, *, zone: tzinfo = UTC) -> str:
    """What a muted reader is told, on the form's place and when a post is refused: until when, why."""
    assert author.muted_until is not None
    until = author.muted_until.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")
    reason = author.muted_reason or "違反評論規則"
    return f"您已被禁止發言至{until}，原因：{reason}。如有異議可申訴。"


def comments_closed(article: Article, *, now: datetime, site_closed: bool = False) -> bool:
    """本文評論已關閉: by the article, its section, the whole site (P32) or the section's auto-close."""
    section = article.section
    if site_closed or article.comments_state == CommentsState.CLOSED or section.comments_closed:
        return True
    closes = closes_at(article)
    return closes is not None and closes < now


def closes_at(article: Article) -> datetime | None:
    """When the section's auto-close shuts the article's comments; None if time never does."""
    days = article.section.auto_close_days
    return article.published_at + timedelta(days=days) if days else None


def upheld_violation(now: datetime) -> list:
    """A violation the ladder (P24) and 良好 (P25) count: a comment a moderator rejected or deleted
    in the last 30 days."""
    return [
        Comment.status.in_([CommentStatus.REJECTED, CommentStatus.DELETED]),
        Comment.decided_by_id.is_not(None),
        Comment.decided_by_id != Comment.author_id,
        Comment.decided_at > now - timedelta(days=30),
    ]


def violated_recently(session: Session, user_ids: Iterable[int], *, now: datetime) -> set[int]:
    """Of these authors, those with an upheld violation in the last 30 days."""
    ids = set(user_ids)
    if not ids:
        return set()
    found = select(Comment.author_id).where(Comment.author_id.in_(ids), *upheld_violation(now)).distinct()
    return set(session.scalars(found))


def tier_of(session: Session, user: User, *, now: datetime) -> str:
    """P25's tiers, first match: 受限, 新用戶, 良好, 普通. Only a reader who would be 良好 costs
    the look for a recent violation."""
    tier = tier_from(user, user.approved_comments, now=now)
    if tier == TIER_GOOD and violated_recently(session, [user.id], now=now):
        return TIER_NORMAL
    return tier


def tier_from(user: User, approved: int, *, now: datetime, violated: bool = False) -> str:
    """The tier from an approved count already at hand (the queue counts a page's authors at once);
    `violated`: an upheld violation in the last 30 days, which keeps a reader out of 良好."""
    if user.credit <= -6 or user.state == UserState.RESTRICTED:
        return TIER_RESTRICTED
    if user.created_at > now - timedelta(days=30) or approved < 10:
        return TIER_NEW
    return TIER_GOOD if user.credit >= 30 and not violated else TIER_NORMAL


@dataclass(frozen=True)
class Standing:
    """What 我的賬號 shows a reader (P25): the tier and its limits, never the credit score."""

    tier: str
    quota: int  # comments a day
    used_today: int  # up to the quota
    cooldown_seconds: int
    replies_allowed: bool


def standing(
    session: Session, user: User, rules: CommentRules, *, now: datetime, day_start: datetime
) -> Standing:
    tier = tier_of(session, user, now=now)
    quota = rules.quotas[tier]
    used = session.scalar(
        select(
            capped_count(
                select(Comment.id).where(Comment.author_id == user.id, Comment.created_at >= day_start), quota
            )
        )
    )
    return Standing(
        tier=TIER_LABELS[tier],
        quota=quota,
        used_today=used or 0,
        cooldown_seconds=rules.cooldown_seconds,
        replies_allowed=user.state != UserState.RESTRICTED,
    )


@dataclass(frozen=True)
class Activity:
    """What P9 and P11 count of the recent past, each count stopped at its limit."""

    last_post: datetime | None  # the author's newest comment
    address_posts: int = 0  # from this IP in the last hour, up to `ip_hourly`
    address_oldest: datetime | None = None  # the oldest of those
    posts_today: int = 0  # the author's since the site's midnight, up to the tier's quota
    network_posts: int = 0  # from this /24 (/64) in the coordination window, up to its threshold


@cache
def _activity_statement(address: bool, network: bool) -> Select:
    """recent_activity's statement, built once per shape with its values as parameters: building
    five nested selects costs more than running them."""
    author, day_start = bindparam("author", type_=Integer), bindparam("day_start", type_=DateTime)
    columns = [
        select(func.max(Comment.created_at))
        .where(Comment.author_id == author)
        .scalar_subquery()
        .label("last_post"),
        capped_count(
            select(Comment.id).where(Comment.author_id == author, Comment.created_at >= day_start),
            bindparam("quota", type_=Integer),
        ).label("posts_today"),
    ]
    tables = []
    if address:
        # The oldest of the hour's posts (up to the budget) dates the wait.
        hour = (
            select(Comment.created_at)
            .where(Comment.ip == bindparam("ip"), Comment.created_at > bindparam("hour_ago", type_=DateTime))
            .order_by(Comment.created_at)
            .limit(bindparam("ip_hourly", type_=Integer))
            .subquery()
        )
        posts = select(
            func.count().label("address_posts"), func.min(hour.c.created_at).label("address_oldest")
        ).subquery()
        columns += [posts.c.address_posts, posts.c.address_oldest]
        tables.append(posts)
    if network:
        window = select(Comment.id).where(
            Comment.ip_prefix == bindparam("prefix"),
            Comment.created_at > bindparam("network_since", type_=DateTime),
        )
        columns.append(capped_count(window, bindparam("network_limit", type_=Integer)).label("network_posts"))
    query = select(*columns)
    return query.select_from(*tables) if tables else query


def recent_activity(
    session: Session,
    author: User,
    origin: Origin,
    rules: CommentRules,
    *,
    now: datetime,
    day_start: datetime,
    quota: int,
) -> Activity:
    """One statement for every count P9 and P11 need. Each count stops at its limit, so it reads at
    most that many index entries however much the author, the address or the network posted."""
    values = {
        "author": author.id,
        "day_start": day_start,
        "quota": quota,
        "ip": origin.ip,
        "hour_ago": now - timedelta(hours=1),
        "ip_hourly": rules.ip_hourly,
        "prefix": origin.ip_prefix,
        "network_since": now - timedelta(minutes=rules.coordinated_minutes),
        "network_limit": rules.coordinated_network_posts,
    }
    statement = _activity_statement(bool(origin.ip), bool(origin.ip_prefix))
    # Plain counts: on the session's connection, without the ORM's execution steps.
    return Activity(**session.connection().execute(statement, values).one()._asdict())


def _check_rate(
    activity: Activity, rules: CommentRules, *, now: datetime, day_start: datetime, quota: int
) -> None:
    """P9: time between posts, the address's hourly budget, the tier's daily quota."""
    last = activity.last_post
    # A post committed by a concurrent request can carry a later time than this request's `now`:
    # that is no time at all since the last post, not negative time (which would refuse a 0 s pause).
    elapsed = max(0.0, (now - last).total_seconds()) if last is not None else None
    if elapsed is not None and (wait := rules.cooldown_seconds - elapsed) > 0:
        refusal = Rejected("body", TOO_FAST.format(n=max(1, round(wait))), 429, reason="rate")
        refusal.retry_after = max(1, round(wait))
        raise refusal
    if activity.address_posts >= rules.ip_hourly and activity.address_oldest is not None:
        hour_ago = now - timedelta(hours=1)
        wait = max(1, round((activity.address_oldest - hour_ago).total_seconds()))
        refusal = Rejected("body", TOO_FAST.format(n=wait), 429, reason="rate")
        refusal.retry_after = wait
        raise refusal
    if activity.posts_today >= quota:
        refusal = Rejected("body", DAILY_LIMIT, 429, reason="quota")
        refusal.retry_after = max(1, round((day_start + timedelta(days=1) - now).total_seconds()))
        raise refusal


def _thread_parent(
    session: Session, article: Article, reply_to_id: int | None
) -> tuple[Comment | None, Comment | None]:
    """The top-level comment a reply hangs under, and the comment it answers."""
    if reply_to_id is None:
        return None, None
    target = session.get(Comment, reply_to_id)
    if target is None or target.article_id != article.id or target.status != CommentStatus.APPROVED:
        raise Rejected("body", BAD_PARENT, 422, reason="parent")
    parent = target if target.parent_id is None else session.get(Comment, target.parent_id)
    if parent is None or parent.status not in (CommentStatus.APPROVED, CommentStatus.DELETED):
        raise Rejected("body", BAD_PARENT, 422, reason="parent")
    return parent, target


def _check_length(body: str, rules: CommentRules) -> None:
    """P8 first of all (SECURITY.md §9): cheap, and it caps what every later check reads."""
    length = len(unicodedata.normalize("NFC", body))
    if length == 0:
        raise Rejected("body", "評論內容不能為空", 422, reason="length")
    if length < rules.min_length:
        raise Rejected("body", f"評論至少需要{rules.min_length}個字", 422, reason="length")
    if length > rules.max_length:
        raise Rejected("body", f"評論不能超過{rules.max_length}字", 422, reason="length")


def _verdict_or_refuse(text: str, words: WordList, rules: CommentRules):
    verdict = check_text(
        text, words, min_length=rules.min_length, max_length=rules.max_length, tlds=rules.tlds
    )
    if verdict.action == "block":
        reason = {"P8": "length", "P12": "meaningless", "P17": "url", "P18": "contact", "P19": "pii"}
        refusal = Rejected(
            "body", verdict.message or "評論內容不符合規則", 422, reason=reason.get(verdict.rules[0], "words")
        )
        refusal.evasion = "evasion" in verdict.flags
        raise refusal
    return verdict


def _hits_json(verdict) -> str:
    return json.dumps(
        [
            {"rule": h.rule, "categories": list(h.categories), "start": h.start, "end": h.end, "flag": h.flag}
            for h in verdict.hits
        ],
        ensure_ascii=False,
    )


@cache
def _same_skeleton_statement(watched: bool) -> Select:
    """_same_skeleton's statement, built once per shape with its values as parameters."""
    whose = Comment.author_id == bindparam("author")
    if watched:
        whose = or_(whose, Comment.created_at > bindparam("anyone_since", type_=DateTime))
    return (
        select(Comment)
        .where(
            Comment.skeleton_hash == bindparam("fingerprint"),
            Comment.created_at > bindparam("since", type_=DateTime),
            whose,
        )
        # Without statistics SQLite would walk the author's whole day; the text's index finds it.
        .with_hint(Comment, "INDEXED BY ix_comment_skeleton", "sqlite")
    )


def _same_skeleton(
    session: Session, *, author: User, fingerprint: str, watched: bool, rules: CommentRules, now: datetime
) -> list[Comment]:
    """The comments with this text's skeleton that the retry, P10 and P11 look at, in one lookup of
    the text's index: the author's own of the last 24 hours (and of the retry window), and, for a
    text long enough to be `watched` (P11), everyone's of the coordination window."""
    since = now - max(timedelta(hours=rules.duplicate_hours), timedelta(minutes=rules.retry_minutes))
    anyone_since = now - timedelta(minutes=rules.coordinated_minutes)
    values = {
        "fingerprint": fingerprint,
        "author": author.id,
        "since": min(since, anyone_since) if watched else since,
        "anyone_since": anyone_since,
    }
    return list(session.scalars(_same_skeleton_statement(watched), values))


# The condition is the partial index's own text, not a bound pattern: SQLite and PostgreSQL use a
# partial index only for a query whose condition is seen to imply the index's.
_UNFLAGGED_IN_NETWORK = (
    select(Comment)
    .where(
        Comment.ip_prefix == bindparam("prefix"),
        Comment.created_at > bindparam("since", type_=DateTime),
        sql_text(NOT_COORDINATED),
    )
    .with_hint(Comment, "INDEXED BY ix_comment_network_unflagged", "sqlite")
)


def _flag_coordinated(
    session: Session,
    comment: Comment,
    rules: CommentRules,
    *,
    now: datetime,
    same_skeleton: Sequence[Comment],
    watched: bool,
    network_posts: int,
) -> None:
    """P11: one text from several accounts, or a flood from one network, in a short window.

    `same_skeleton` holds at least every comment with this text's skeleton in the window,
    `watched` says whether the text is long enough (6 characters of skeleton) to count, and
    `network_posts` is the network's posts in the window, counted up to the threshold."""
    since = now - timedelta(minutes=rules.coordinated_minutes)
    same_text: list[Comment] = []
    if comment.skeleton_hash and watched:
        same_text = [c for c in same_skeleton if c.created_at > since]
        if len({c.author_id for c in [*same_text, comment]}) < rules.coordinated_accounts:
            same_text = []
    same_network: list[Comment] = []
    # Counted up to the threshold only (recent_activity), and only the not yet flagged are read: the
    # partial index holds no flagged row, so a post during a flood reads the rows new since the last.
    if comment.ip_prefix and network_posts + 1 >= rules.coordinated_network_posts:
        values = {"prefix": comment.ip_prefix, "since": since}
        same_network = list(session.scalars(_UNFLAGGED_IN_NETWORK, values))
        _add_flag(comment, "coordinated")
    for flagged in {c.id: c for c in [*same_text, *same_network]}.values():
        _add_flag(flagged, "coordinated")
    if same_text or same_network:
        _add_flag(comment, "coordinated")


EVASION_PENALTY = 5  # P25, for an evasion refused at submission (the moderator's charge is moderation's)

# Flags set on a comment by what happened around it, not by its text: an edit does not clear them.
FLAGS_OF_THE_COMMENT = frozenset({"coordinated"})


def _add_flag(comment: Comment, flag: str) -> None:
    if flag not in comment.flag_list:
        comment.flags = ",".join([*comment.flag_list, flag])
    comment.priority = priority_of(comment)


def priority_of(comment: Comment) -> int:
    """Queue order: reports and coordinated posting first, then evasion and privacy, then others."""
    flags = set(comment.flag_list) | set(comment.pending_flag_list)
    if comment.report_count or "coordinated" in flags:
        return 3
    if flags & {"evasion", "privacy"}:
        return 2
    return 1 if flags or comment.patrol_hit_at else 0


def submit(
    session: Session,
    *,
    article: Article,
    author: User,
    body: str,
    reply_to_id: int | None = None,
    origin: Origin,
    words: WordList,
    rules: CommentRules,
    now: datetime,
    day_start: datetime,
    site_closed: bool = False,
    zone: tzinfo = UTC,
) -> Comment:
    """A new comment or reply, `pending` (先審後發), or Rejected with the reader's message."""
    _check_length(body, rules)
    check_can_post(author, now=now, zone=zone)
    if closed_to_comments(article, now=now, site_closed=site_closed):
        raise Rejected("body", CLOSED, 403, reason="closed")
    if reply_to_id is not None and author.state == UserState.RESTRICTED:  # P24: 限制 = replies off
        raise Rejected("body", REPLIES_OFF, 403, reason="account_state")
    parent, target = _thread_parent(session, article, reply_to_id)
    # One look-up by the text's skeleton serves the retry, P10 and P11: the same text has the
    # same skeleton, so the author's earlier copies are among these rows.
    fingerprint = skeleton_hash(body)
    watched = len(normalise(body).skeleton) >= 6
    same_skeleton = _same_skeleton(
        session, author=author, fingerprint=fingerprint, watched=watched, rules=rules, now=now
    )
    own = [c for c in same_skeleton if c.author_id == author.id]
    # A retry of the same text (a double click, a lost answer) returns the stored comment.
    retry_since = now - timedelta(minutes=rules.retry_minutes)
    for earlier in own:
        if (
            earlier.article_id == article.id
            and earlier.parent_id == (parent.id if parent else None)
            and earlier.body == body
            and earlier.created_at > retry_since
            and earlier.status in (CommentStatus.PENDING, CommentStatus.APPROVED)
        ):
            return earlier
    # P9–P11 before the text checks (PLEDGE_RULES §7), so a flood costs no matching work.
    quota = rules.quotas[tier_of(session, author, now=now)]
    activity = recent_activity(session, author, origin, rules, now=now, day_start=day_start, quota=quota)
    _check_rate(activity, rules, now=now, day_start=day_start, quota=quota)
    duplicate_since = now - timedelta(hours=rules.duplicate_hours)
    if any(c.created_at > duplicate_since for c in own):
        raise Rejected("body", DUPLICATE, 422, reason="duplicate")
    verdict = _verdict_or_refuse(body, words, rules)
    comment = Comment(
        article_id=article.id,
        author_id=author.id,
        parent_id=parent.id if parent else None,
        reply_to_id=target.id
        if target is not None and target.id != (parent.id if parent else None)
        else None,
        reply_to_nickname=target.author.public_name if target is not None and target is not parent else "",
        body=body,
        status=CommentStatus.PENDING,
        listed=False,
        flags=",".join(verdict.flags),
        rule_hits=_hits_json(verdict),
        skeleton_hash=fingerprint,
        ip=origin.ip,
        ip_prefix=origin.ip_prefix,
        ip_region=origin.region,
        user_agent=origin.user_agent[:300],
        created_at=now,
    )
    _flag_coordinated(
        session,
        comment,
        rules,
        now=now,
        same_skeleton=same_skeleton,
        watched=watched,
        network_posts=activity.network_posts,
    )
    comment.priority = priority_of(comment)
    _store_pending(session, comment)
    audit.record(
        session,
        at_once=True,
        actor=author,
        action="comment.submitted",
        target_type="comment",
        target_id=comment.id,
        after={
            "article": article.id,
            "body": body,
            "skeleton": fingerprint,
            "flags": comment.flag_list,
            "verdict": verdict.action,
            "region": origin.region,
            "user_agent": origin.user_agent[:300],
        },
        ip=origin.ip,
        now=now,
    )
    return comment


# Built once: posting writes this row, and only its values change.
_INSERT_COMMENT = insert(Comment).returning(Comment.id)


def _store_pending(session: Session, comment: Comment) -> None:
    """Writes a new pending comment by one prebuilt statement and hands it to the session as a
    stored row (what the statement's defaults filled in loads when read). On posting's hot path
    the unit of work cost about three times as much. A pending comment is on no public page: the
    pages it changes are staff pages and its author's own (content_version.private_change)."""
    values = {attribute.key: getattr(comment, attribute.key) for attribute in _SET_ON_SUBMIT}
    comment.id = session.connection().execute(_INSERT_COMMENT, values).scalar_one()
    make_transient_to_detached(comment)
    session.add(comment)
    content_version.private_change(session, {comment.author_id})


# The columns submit gives a new comment; the others take their defaults.
_SET_ON_SUBMIT = (
    Comment.article_id,
    Comment.author_id,
    Comment.parent_id,
    Comment.reply_to_id,
    Comment.reply_to_nickname,
    Comment.body,
    Comment.status,
    Comment.listed,
    Comment.flags,
    Comment.rule_hits,
    Comment.skeleton_hash,
    Comment.ip,
    Comment.ip_prefix,
    Comment.ip_region,
    Comment.user_agent,
    Comment.priority,
    Comment.created_at,
)


def record_refusal(
    session: Session,
    *,
    author: User | None,
    article: Article,
    body: str,
    refusal: Rejected,
    origin: Origin,
    now: datetime,
) -> None:
    """A refused submission is logged too (P28). A word-list block costs 1 credit, and a refusal
    that caught a disguise (規避審核: 赌.博, 微 信) 5 (P25): a review hit costs that only when a
    moderator rejects it, a block is decided here."""
    if author is not None:
        author.credit -= EVASION_PENALTY if refusal.evasion else 1 if refusal.reason == "words" else 0
    audit.record(
        session,
        actor=author,
        action="comment.rejected",
        target_type="article",
        target_id=article.id,
        reason_code=refusal.reason,
        after={"body": body, "message": refusal.message, "region": origin.region},
        ip=origin.ip,
        now=now,
    )


# --- counters and visibility ---------------------------------------------------------------


def _set_listed(comment: Comment) -> None:
    """In the thread: an approved comment; and, as a placeholder, a top-level comment with approved
    replies that was deleted, or that its author edited and is back in review (the replies are
    other readers' approved words, and would vanish with it)."""
    placeholder = comment.status == CommentStatus.DELETED or (
        comment.status == CommentStatus.PENDING and comment.approved_at is not None
    )
    comment.listed = comment.status == CommentStatus.APPROVED or (
        placeholder and comment.parent_id is None and comment.reply_count > 0
    )


# Which of the author's counters a state belongs to (pending and hidden: none).
AUTHOR_COUNTERS = {
    CommentStatus.APPROVED: "approved_comments",
    CommentStatus.REJECTED: "rejected_comments",
    CommentStatus.DELETED: "rejected_comments",
}


def _count_for_author(
    session: Session, comment: Comment, *, before: CommentStatus, after: CommentStatus, by_author: bool
) -> None:
    # What authors take down themselves is no rejection: it leaves their record, joins nothing.
    leaving, joining = AUTHOR_COUNTERS.get(before), None if by_author else AUTHOR_COUNTERS.get(after)
    if leaving == joining:
        return
    # Through the author's row, not a bare UPDATE statement, so the flush names whose pages this
    # changes (portal.domain.content_version); in SQL (x = x + 1), so concurrent decisions add up.
    author = session.get(User, comment.author_id)
    for counter, step in ((leaving, -1), (joining, 1)):
        if counter:
            setattr(author, counter, getattr(User, counter) + step)
    session.flush()


def _count_change(session: Session, comment: Comment, step: int) -> None:
    """Keep the stored counts right in the same transaction as the change (in SQL, race-free)."""
    session.execute(
        update(Article)
        .where(Article.id == comment.article_id)
        .values(comment_count=Article.comment_count + step)
    )
    if comment.parent_id is not None:
        session.execute(
            update(Comment)
            .where(Comment.id == comment.parent_id)
            .values(reply_count=Comment.reply_count + step)
        )
        parent = session.get(Comment, comment.parent_id)
        if parent is not None:
            session.refresh(parent, ["reply_count"])
            _set_listed(parent)


def set_status(
    session: Session, comment: Comment, status: CommentStatus, *, now: datetime, by_author: bool = False
) -> None:
    """Move a comment to a new state, keeping the public counts and the thread listing right."""
    was_public = comment.status == CommentStatus.APPROVED
    _count_for_author(
        session, comment, before=CommentStatus(comment.status), after=status, by_author=by_author
    )
    comment.status = status
    if status == CommentStatus.APPROVED:
        comment.approved_at = comment.approved_at or now
    elif status == CommentStatus.HIDDEN:
        comment.hidden_at = now
    elif status == CommentStatus.DELETED:
        comment.deleted_at = now
    is_public = status == CommentStatus.APPROVED
    if not is_public:
        comment.pinned_at = None  # a pin belongs to a public comment; its slot is free again
    if status in (CommentStatus.REJECTED, CommentStatus.DELETED) and comment.pending_body is not None:
        drop_edit(comment)  # nothing left for it to replace (hidden keeps it, for a restore)
    if was_public != is_public:
        _count_change(session, comment, 1 if is_public else -1)
    _set_listed(comment)


# --- the author's own actions --------------------------------------------------------------


def _own(comment: Comment, user: User) -> None:
    if comment.author_id != user.id:
        raise NotAllowed("someone else's comment")


def edit(
    session: Session,
    *,
    comment: Comment,
    author: User,
    body: str,
    words: WordList,
    rules: CommentRules,
    now: datetime,
    zone: tzinfo = UTC,
    site_closed: bool = False,
) -> Comment:
    """Within the edit window; every check runs again. A comment still in review takes the new text
    at once; a published one keeps its text public and the edit waits beside it for review."""
    _own(comment, author)
    _check_length(body, rules)
    closed = closed_to_comments(comment.article, now=now, site_closed=site_closed)
    if (refusal := edit_refusal(comment, rules=rules, now=now, closed=closed)) is not None:
        raise refusal
    if reads_the_same(body, latest_text(comment)):  # 保存修改 with nothing changed
        raise Rejected("body", EDIT_UNCHANGED, reason="unchanged")
    check_can_post(author, now=now, zone=zone)
    verdict = _verdict_or_refuse(body, words, rules)
    before = {"body": latest_text(comment), "status": str(comment.status)}
    if comment.status == CommentStatus.APPROVED:
        _wait_for_review(comment, body, verdict)
        after = {"body": body, "status": "approved"}
        if comment.pending_body is not None:
            after["edit"] = "pending"
    else:
        session.add(
            CommentRevision(
                comment_id=comment.id, body=comment.body, status=str(comment.status), created_at=now
            )
        )
        comment.body = body
        # The verdict's flags are the new text's; what the queue found about the comment itself
        # (P11's coordinated) stays, as does its place at the top of the queue.
        kept = [flag for flag in comment.flag_list if flag in FLAGS_OF_THE_COMMENT]
        comment.flags = ",".join(dict.fromkeys([*verdict.flags, *kept]))
        comment.rule_hits = _hits_json(verdict)
        comment.skeleton_hash = skeleton_hash(body)
        after = {"body": body, "status": "pending"}
    comment.edited_at = now
    comment.priority = priority_of(comment)
    audit.record(
        session,
        actor=author,
        action="comment.edited",
        target_type="comment",
        target_id=comment.id,
        before=before,
        after=after,
        now=now,
    )
    return comment


def _wait_for_review(comment: Comment, body: str, verdict) -> None:
    """The edit of a published comment waits beside its public text (a second edit replaces the
    first). Back to the public text itself, nothing is left to review."""
    if reads_the_same(body, comment.body):
        comment.pending_body = comment.pending_flags = comment.pending_rule_hits = None
        return
    comment.pending_body = body
    comment.pending_flags = ",".join(verdict.flags)
    comment.pending_rule_hits = _hits_json(verdict)


def reads_the_same(one: str, other: str) -> bool:
    """Two texts a reader cannot tell apart: the same but for what takes no room on the page (a
    zero-width space, a direction mark), which an edit must not send to review on its own."""
    return one == other or (
        unicodedata.normalize("NFC", drop_invisible(one))
        == unicodedata.normalize("NFC", drop_invisible(other))
    )


def latest_text(comment: Comment) -> str:
    """What the author last wrote: the edit waiting for review, else the comment's text."""
    return comment.pending_body if comment.pending_body is not None else comment.body


def apply_edit(session: Session, comment: Comment, *, now: datetime) -> tuple[str, str]:
    """A moderator approved the waiting edit: it becomes the public text; the text it replaces is
    kept as a revision (P31). Returns the texts before and after."""
    assert comment.pending_body is not None
    before, after = comment.body, comment.pending_body
    session.add(
        CommentRevision(comment_id=comment.id, body=before, status=str(comment.status), created_at=now)
    )
    comment.body = after
    comment.flags = comment.pending_flags or ""
    comment.rule_hits = comment.pending_rule_hits or "[]"
    comment.skeleton_hash = skeleton_hash(after)
    drop_edit(comment)
    return before, after


def drop_edit(comment: Comment) -> None:
    """The waiting edit goes (refused, or its comment leaves the site): the public text stays."""
    comment.pending_body = comment.pending_flags = comment.pending_rule_hits = None
    comment.priority = priority_of(comment)


def edit_refusal(
    comment: Comment | Row, *, rules: CommentRules, now: datetime, closed: bool = False
) -> Rejected | None:
    """Why the author can no longer edit their comment, or None while they can: a pending or
    published comment, within the edit window, under an article still open for comments (`closed`:
    a closing, P32, stops new words in edits too). The edit page asks before the reader types."""
    if closed:
        return Rejected("body", CLOSED, 403, reason="closed")
    if comment.status not in (CommentStatus.PENDING, CommentStatus.APPROVED):
        return Rejected("body", EDIT_STATE, 403, reason="state")
    # The window is open until its end, not at it: 0 minutes means no edits at all.
    if now - comment.created_at >= timedelta(minutes=rules.edit_minutes):
        return Rejected("body", EDIT_WINDOW.format(n=rules.edit_minutes), 403, reason="edit_window")
    return None


def edit_windows(
    rows: Iterable[Comment | Row], *, rules: CommentRules, now: datetime, closed: bool = False
) -> dict[int, datetime]:
    """Of the author's own comments, those they can still edit, each with when its window closes
    (their 編輯 goes then, with no write)."""
    window = timedelta(minutes=rules.edit_minutes)
    return {
        row.id: row.created_at + window
        for row in rows
        if edit_refusal(row, rules=rules, now=now, closed=closed) is None
    }


def closed_to_comments(article: Article, *, now: datetime, site_closed: bool = False) -> bool:
    """No new words under this article: comments closed (P32) or its comment area hidden."""
    return (
        comments_closed(article, now=now, site_closed=site_closed)
        or article.comments_state == CommentsState.HIDDEN
    )


def withdrawable(comment: Comment | Row) -> bool:
    """The author's 刪除 is offered on their pending and published comments (PLEDGE_RULES §4). A
    moderator's rejection, hiding or deletion stays as decided: it is the record, and what an
    appeal is about."""
    return comment.status in (CommentStatus.PENDING, CommentStatus.APPROVED)


def delete_own(session: Session, *, comment: Comment, author: User, now: datetime) -> Comment:
    _own(comment, author)
    if comment.status == CommentStatus.DELETED:
        return comment
    if not withdrawable(comment):  # a moderator's rejection or hiding, and its appeal, stand
        raise NotAllowed("a moderator's decision")
    before = {"status": str(comment.status)}
    set_status(session, comment, CommentStatus.DELETED, now=now, by_author=True)
    # The author decided this, not a moderator: no violation, nothing to appeal.
    comment.decided_by_id, comment.decided_at, comment.reason_code = author.id, now, ""
    comment.pinned_at = None
    # Its reports have nothing left to rule on, and no tab would list them: they close, and the
    # readers who reported it are told (P26) rather than left waiting.
    closed = close_reports(session, comment, status=ReportStatus.WITHDRAWN, result=REPORT_GONE, now=now)
    after: dict[str, object] = {"status": "deleted"}
    if closed:
        after["reports_closed"] = [report.id for report in closed]
    audit.record(
        session,
        actor=author,
        action="comment.deleted_by_author",
        target_type="comment",
        target_id=comment.id,
        before=before,
        after=after,
        now=now,
    )
    return comment


REPORT_GONE = "評論已被作者刪除"


def close_reports(
    session: Session, comment: Comment, *, status: ReportStatus, result: str, now: datetime
) -> list[Report]:
    """Closes the comment's open reports with `status` and tells each reporter the `result`; the
    reports closed, none if another ruling got there first."""
    reports = list(
        session.scalars(
            select(Report).where(Report.comment_id == comment.id, Report.status == ReportStatus.OPEN)
        )
    )
    if not reports:
        return []
    updated = session.execute(
        update(Report)
        .where(Report.comment_id == comment.id, Report.status == ReportStatus.OPEN)
        .values(status=status, resolved_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not updated:
        return []
    for report in reports:
        notifications.notify(
            session,
            user_id=report.reporter_id,
            kind="report_result",
            text=f"您舉報的評論已處理：{result}",
            link=f"/articles/{comment.article_id}",
            now=now,
        )
    return reports


# --- readers on others' comments -----------------------------------------------------------


def visible_comment(session: Session, comment_id: int) -> Comment | None:
    comment = session.get(Comment, comment_id)
    return comment if comment is not None and comment.status == CommentStatus.APPROVED else None


def toggle_like(session: Session, *, comment: Comment, user: User, now: datetime) -> bool:
    """點贊: one per reader per comment; a second press takes it back. Returns liked or not."""
    removed = session.execute(
        delete(Like).where(Like.comment_id == comment.id, Like.user_id == user.id)
    ).rowcount
    if removed:
        step, liked = -1, False
    else:
        try:
            with session.begin_nested():
                session.add(Like(comment_id=comment.id, user_id=user.id, created_at=now))
        except IntegrityError:  # a concurrent press got there first: it counts once
            return True
        step, liked = 1, True
    session.execute(
        update(Comment).where(Comment.id == comment.id).values(like_count=Comment.like_count + step)
    )
    session.refresh(comment, ["like_count"])
    return liked


def report(
    session: Session,
    *,
    comment: Comment,
    reporter: User,
    reason_code: str,
    note: str,
    rules: CommentRules,
    now: datetime,
    ip: str = "",
) -> Report:
    """舉報: one per reader per comment; the third distinct reporter hides it until a ruling."""
    if reason_code not in REPORT_REASONS:
        raise Rejected("reason", REPORT_REASON, 422, reason="report_reason")
    if comment.author_id == reporter.id:
        raise Rejected("reason", REPORT_OWN, 422, reason="report_own")
    existing = session.scalar(
        select(Report.id).where(Report.comment_id == comment.id, Report.reporter_id == reporter.id)
    )
    if existing is not None:
        raise Rejected("reason", REPORT_TWICE, 409, reason="report_twice")
    filed = Report(
        comment_id=comment.id, reporter_id=reporter.id, reason_code=reason_code, note=note, created_at=now
    )
    try:
        with session.begin_nested():
            session.add(filed)
    except IntegrityError as race:
        raise Rejected("reason", REPORT_TWICE, 409, reason="report_twice") from race
    session.execute(
        update(Comment).where(Comment.id == comment.id).values(report_count=Comment.report_count + 1)
    )
    author = session.get(User, comment.author_id)
    author.reports_received = User.reports_received + 1  # in SQL, through the row (see above)
    session.flush()
    session.refresh(comment, ["report_count"])
    audit.record(
        session,
        actor=reporter,
        action="report.created",
        target_type="comment",
        target_id=comment.id,
        reason_code=reason_code,
        note=note,
        ip=ip,
        now=now,
    )
    if comment.report_count >= rules.report_hide_threshold and comment.status == CommentStatus.APPROVED:
        set_status(session, comment, CommentStatus.HIDDEN, now=now)
        audit.record(
            session,
            actor=None,
            action="comment.hidden",
            target_type="comment",
            target_id=comment.id,
            note=f"{comment.report_count}位讀者舉報，等待審核員處理",
            before={"status": "approved"},
            after={"status": "hidden"},
            now=now,
        )
    return filed


# --- what readers see ----------------------------------------------------------------------

ORDERS = ("newest", "hot")


def _thread_query(article_id: int, order: str, cursor: Cursor | None) -> Select:
    query = select(Comment).where(
        Comment.article_id == article_id, Comment.parent_id.is_(None), Comment.listed.is_(True)
    )
    if order == "hot":
        if cursor is not None and cursor.rank is not None:
            query = query.where(
                tuple_(Comment.like_count, Comment.created_at, Comment.id)
                < (cursor.rank, cursor.at, cursor.id)
            )
        return query.order_by(Comment.like_count.desc(), Comment.created_at.desc(), Comment.id.desc())
    if cursor is not None:
        query = query.where(tuple_(Comment.created_at, Comment.id) < (cursor.at, cursor.id))
    return query.order_by(Comment.created_at.desc(), Comment.id.desc())


def thread_page(
    session: Session, *, article_id: int, order: str, cursor: Cursor | None, size: int = 20
) -> tuple[list[Comment], Cursor | None]:
    """One keyset page of an article's top-level comments: page N costs what page 1 costs."""
    order = order if order in ORDERS else "newest"
    rows = list(
        session.scalars(
            _thread_query(article_id, order, cursor).options(selectinload(Comment.author)).limit(size + 1)
        )
    )
    more = len(rows) > size
    rows = rows[:size]
    if not more or not rows:
        return rows, None
    last = rows[-1]
    return rows, Cursor(last.created_at, last.id, last.like_count if order == "hot" else None)


def reply_previews(
    session: Session, parent_ids: Sequence[int], *, limit: int = 3
) -> dict[int, list[Comment]]:
    """The first replies of each comment on a page, in one query (oldest first)."""
    if not parent_ids:
        return {}
    position = (
        func.row_number()
        .over(partition_by=Comment.parent_id, order_by=(Comment.created_at, Comment.id))
        .label("position")
    )
    ranked = (
        select(Comment.id, position)
        .where(Comment.parent_id.in_(parent_ids), Comment.listed.is_(True))
        .subquery()
    )
    rows = session.scalars(
        select(Comment)
        .join(ranked, ranked.c.id == Comment.id)
        .where(ranked.c.position <= limit)
        .options(selectinload(Comment.author))
        .order_by(Comment.created_at, Comment.id)
    )
    previews: dict[int, list[Comment]] = {}
    for reply in rows:
        previews.setdefault(reply.parent_id, []).append(reply)  # type: ignore[arg-type]
    return previews


def replies_after(
    session: Session, *, parent: Comment, after: Cursor | None, size: int = 20
) -> tuple[list[Comment], Cursor | None]:
    """展開更多回覆: the replies after the ones shown, oldest first."""
    query = select(Comment).where(Comment.parent_id == parent.id, Comment.listed.is_(True))
    if after is not None:
        query = query.where(tuple_(Comment.created_at, Comment.id) > (after.at, after.id))
    rows = list(
        session.scalars(
            query.order_by(Comment.created_at, Comment.id)
            .options(selectinload(Comment.author))
            .limit(size + 1)
        )
    )
    more = len(rows) > size
    rows = rows[:size]
    return rows, (Cursor(rows[-1].created_at, rows[-1].id) if more and rows else None)


def pinned(session: Session, *, article_id: int) -> list[Comment]:
    """置頂 comments (at most three), shown above the list on the first page."""
    return list(
        session.scalars(
            select(Comment)
            .where(
                Comment.article_id == article_id,
                Comment.pinned_at.is_not(None),
                Comment.status == CommentStatus.APPROVED,
            )
            .options(selectinload(Comment.author))
            .order_by(Comment.pinned_at.desc())
            .limit(3)
        )
    )


# The author's own comments others cannot see yet (審核中) or any more (hidden), and their published
# ones with an edit waiting for review (修改待審核): the fields their list shows, as rows. The list
# is rendered again after every post, and rows cost half what objects do; the statement is built once.
_OWN_UNPUBLISHED = (
    select(
        Comment.id,
        Comment.status,
        Comment.created_at,
        Comment.reply_to_nickname,
        Comment.body,
        Comment.pending_body,
    )
    .where(
        Comment.article_id == bindparam("article_id"),
        Comment.author_id == bindparam("author_id"),
        or_(
            Comment.status.in_([CommentStatus.PENDING, CommentStatus.HIDDEN]),
            and_(Comment.status == CommentStatus.APPROVED, Comment.pending_body.is_not(None)),
        ),
    )
    .order_by(Comment.created_at.desc())
    .limit(20)
)


def own_unpublished(session: Session, *, article_id: int, author_id: int) -> list[Row]:
    """The author's own comments others cannot see yet (審核中) or any more (hidden), and their
    published ones with an edit waiting (修改待審核), newest first: `id`, `status`, `created_at`,
    `reply_to_nickname`, `body` and `pending_body` of each."""
    return list(session.execute(_OWN_UNPUBLISHED, {"article_id": article_id, "author_id": author_id}))


def liked_ids(session: Session, *, user_id: int, comment_ids: Iterable[int]) -> set[int]:
    ids = list(comment_ids)
    if not ids:
        return set()
    return set(
        session.scalars(select(Like.comment_id).where(Like.user_id == user_id, Like.comment_id.in_(ids)))
    )


def reported_ids(session: Session, *, user_id: int, comment_ids: Iterable[int]) -> set[int]:
    ids = list(comment_ids)
    if not ids:
        return set()
    return set(
        session.scalars(
            select(Report.comment_id).where(Report.reporter_id == user_id, Report.comment_id.in_(ids))
        )
    )


def my_comments(
    session: Session, *, author_id: int, cursor: Cursor | None, size: int = 20
) -> tuple[list[Comment], Cursor | None]:
    query = select(Comment).where(Comment.author_id == author_id)
    if cursor is not None:
        query = query.where(tuple_(Comment.created_at, Comment.id) < (cursor.at, cursor.id))
    rows = list(
        session.scalars(
            query.order_by(Comment.created_at.desc(), Comment.id.desc())
            .options(selectinload(Comment.article))
            .limit(size + 1)
        )
    )
    more = len(rows) > size
    rows = rows[:size]
    return rows, (Cursor(rows[-1].created_at, rows[-1].id) if more and rows else None)


def state_label(comment: Comment) -> str:
    """What the author sees of their own comment's state (PLEDGE_RULES §4)."""
    reason = REASON_LABELS.get(comment.reason_code, "")
    return {
        CommentStatus.PENDING: "審核中",
        CommentStatus.APPROVED: "已發布",
        CommentStatus.REJECTED: f"未通過審核：{reason}" if reason else "未通過審核",
        CommentStatus.HIDDEN: "已暫時隱藏，等待處理",
        CommentStatus.DELETED: f"已刪除：{reason}" if reason else "已刪除",
    }[CommentStatus(comment.status)]


def is_staff(user: User) -> bool:
    return user.role in (Role.MODERATOR, Role.ADMIN)
