"""Demo readers and their comments, approved by a demo moderator, so the 網友評論 area shows life."""

from __future__ import annotations

from datetime import datetime, timedelta

from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain.accounts import create_verified_user
from portal.domain.comments import set_status
from portal.domain.pii import PhoneVault
from portal.models import Article, Comment, CommentStatus, Like, Role, User

DEMO_PASSWORD = "demo-password-2026"
READERS = [
    ("13900000001", "東昌湖邊人", Role.READER),
    ("13900000002", "運河晨跑", Role.READER),
    ("13900000003", "光岳樓下", Role.READER),
    ("13900000004", "水城老李", Role.READER),
    ("13900000005", "值班審核員", Role.MODERATOR),
    ("13900000006", "網站管理員", Role.ADMIN),
]
REGIONS = ["山東", "山東", "山東", "北京", "河北", "江蘇"]
# (reader index, text, replies as (reader index, text))
THREADS = [
    (
        0,
        "家門口就能找到工作，這樣的現場推進會多開幾場！",
        [(1, "支持，希望招聘信息也能在網上公開。"), (2, "我表弟就是這樣找到工作的。")],
    ),
    (1, "節後第一天就這麼有幹勁，給各地點個贊。", []),
    (2, "政務服務中心的效率確實提高了，上次辦證半小時就好。", [(3, "同感，窗口的工作人員很耐心。")]),
    (3, "希望招商引資的同時也要注意環保。", []),
    (0, "報道很詳細，期待後續跟進。", []),
]

PENDING = [
    (1, "希望公交線路也能同步調整，方便上班族。"),
    (2, "哈哈哈哈哈哈哈哈哈哈哈"),
    (3, "這個項目什麼時候能完工？"),
]


def load_demo_comments(session: Session, *, vault: PhoneVault, hasher: PasswordHasher, now: datetime) -> int:
    """Adds the demo readers and comments once; returns the number of comments added."""
    if session.scalar(select(func.count()).select_from(Comment)):
        return 0
    users: list[User] = []
    for phone, nickname, role in READERS:
        existing = session.scalar(select(User).where(User.nickname == nickname))
        users.append(
            existing
            or create_verified_user(
                session,
                phone=phone,
                nickname=nickname,
                password=DEMO_PASSWORD,
                role=role,
                vault=vault,
                hasher=hasher,
                now=now - timedelta(days=90),
            )
        )
    articles = list(session.scalars(select(Article).order_by(Article.published_at.desc()).limit(6)))
    added = 0
    for article_index, article in enumerate(articles):
        moment = max(article.published_at, now - timedelta(days=3)) + timedelta(minutes=5)
        for thread_index, (author, text, replies) in enumerate(THREADS[: 5 - article_index % 3]):
            moment += timedelta(minutes=7 + thread_index)
            top = _approved(session, article, users[author], text, moment, REGIONS[author])
            added += 1
            for reply_author, reply_text in replies:
                moment += timedelta(minutes=3)
                _approved(
                    session, article, users[reply_author], reply_text, moment, REGIONS[reply_author], top
                )
                added += 1
            for liker in users[: (thread_index * 2 + article_index) % 5]:
                if liker.id != top.author_id:
                    session.add(Like(comment_id=top.id, user_id=liker.id, created_at=moment))
                    top.like_count += 1
    # A few comments waiting for the moderators, one of them flagged by the word list.
    newest = articles[0] if articles else None
    if newest is not None:
        for offset, (author, text) in enumerate(PENDING):
            session.add(
                Comment(
                    article_id=newest.id,
                    author_id=users[author].id,
                    body=text,
                    status=CommentStatus.PENDING,
                    flags="low_quality" if "哈哈哈" in text else "",
                    priority=1 if "哈哈哈" in text else 0,
                    ip_region=REGIONS[author],
                    created_at=now - timedelta(minutes=30 - offset),
                )
            )
            added += 1
    return added


def _approved(session, article, author, text, moment, region, parent=None) -> Comment:
    comment = Comment(
        article_id=article.id,
        author_id=author.id,
        parent_id=parent.id if parent else None,
        body=text,
        ip="",
        ip_region=region,
        created_at=moment,
    )
    session.add(comment)
    session.flush()
    set_status(session, comment, CommentStatus.APPROVED, now=moment)
    return comment
