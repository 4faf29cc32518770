"""The content version (portal.domain.content_version) with a bare session: which changes replace
the stamp public pages are cached under, and which leave it, in the same transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from sqlalchemy import select, update

from portal.domain import comments, content_version, moderation, notifications
from portal.domain.accounts import create_verified_user
from portal.domain.pii import PhoneVault
from portal.models import (
    ArticleState,
    Comment,
    CommentStatus,
    Notification,
    Role,
    SensitiveWord,
    SiteSetting,
    User,
    utc_now,
)
from tests.conftest import TEST_PII_KEY
from tests.factories import make_article, make_section

NOW = utc_now()


@pytest.fixture
def arranged(session):
    content_version.watch()
    section = make_section(session)
    article = make_article(session, section, published_at=NOW - timedelta(hours=1))
    author = make_reader(session, phone="13700000001", nickname="作者")
    return session, article, author


def make_reader(session, *, phone: str, nickname: str) -> User:
    user = create_verified_user(
        session,
        phone=phone,
        nickname=nickname,
        password="correct-horse-battery",
        role=Role.READER,
        vault=PhoneVault.from_secret(TEST_PII_KEY),
        hasher=PasswordHasher.from_parameters(CHEAPEST),
        now=NOW,
    )
    session.commit()
    return user


def stamp(session) -> str:
    return content_version.current(session, now=NOW).public


def new_comment(session, article, author, status=CommentStatus.PENDING) -> Comment:
    comment = Comment(article_id=article.id, author_id=author.id, body="一條評論")
    session.add(comment)
    session.flush()
    if status != CommentStatus.PENDING:
        comments.set_status(session, comment, status, now=NOW)
    session.commit()
    return comment


def test_a_pending_comment_leaves_the_stamp_and_its_approval_replaces_it(arranged):
    session, article, author = arranged
    before = stamp(session)
    comment = new_comment(session, article, author)
    assert stamp(session) == before
    comment.priority = 5  # queue bookkeeping on a comment nobody sees
    session.commit()
    assert stamp(session) == before
    comments.set_status(session, comment, CommentStatus.APPROVED, now=NOW)
    session.commit()
    approved = stamp(session)
    assert approved != before
    comments.set_status(session, comment, CommentStatus.HIDDEN, now=NOW)
    session.commit()
    assert stamp(session) != approved


def test_counters_written_by_plain_update_statements_replace_it(arranged):
    session, article, author = arranged
    comment = new_comment(session, article, author, CommentStatus.APPROVED)
    before = stamp(session)
    session.execute(update(Comment).where(Comment.id == comment.id).values(like_count=Comment.like_count + 1))
    session.commit()
    assert stamp(session) != before


def test_articles_settings_and_nicknames_replace_it_but_account_bookkeeping_does_not(arranged):
    session, article, author = arranged
    seen = {stamp(session)}
    article.title = "新標題"
    session.commit()
    seen.add(stamp(session))
    session.add(SiteSetting(key="site_name", value="新名字"))
    session.commit()
    seen.add(stamp(session))
    session.get(User, author.id).nickname = "新暱稱"
    session.commit()
    seen.add(stamp(session))
    assert len(seen) == 4
    author.credit += 1
    author.last_credit_on = NOW.date()
    session.commit()
    assert stamp(session) in seen and len(seen | {stamp(session)}) == 4


def test_a_rolled_back_change_leaves_the_stamp_as_it_was(arranged):
    session, article, _author = arranged
    before = stamp(session)
    article.title = "不會保存的標題"
    session.flush()
    assert stamp(session) != before  # inside the transaction, with the change
    session.rollback()
    assert stamp(session) == before


def test_the_next_scheduled_article_is_part_of_the_version(arranged):
    session, article, _author = arranged
    before = stamp(session)
    article.published_at = NOW + timedelta(minutes=5)
    article.state = ArticleState.PUBLISHED
    session.commit()
    scheduled = stamp(session)
    assert scheduled != before
    # When its time comes the version moves on by itself, with no write.
    assert content_version.current(session, now=NOW + timedelta(minutes=6)).public != scheduled


def page_stamp(session, user) -> str:
    return session.scalar(select(User.page_stamp).where(User.id == user.id))


def activity(session) -> str:
    return content_version.current(session, now=NOW).activity


def test_a_users_own_rows_replace_their_page_stamp_and_nobody_elses(arranged):
    session, article, author = arranged
    reader = make_reader(session, phone="13700000002", nickname="讀者")
    before = page_stamp(session, author), page_stamp(session, reader)
    comment = new_comment(session, article, author)  # pending: no public page changes
    assert page_stamp(session, author) != before[0]
    assert page_stamp(session, reader) == before[1]
    comments.set_status(session, comment, CommentStatus.APPROVED, now=NOW)
    session.commit()
    liked = page_stamp(session, reader)
    comments.toggle_like(session, comment=comment, user=reader, now=NOW)
    session.commit()
    assert page_stamp(session, reader) != liked
    notified = page_stamp(session, author)
    notifications.notify(session, user_id=author.id, kind="notice", text="通知", link="/", now=NOW)
    session.commit()
    assert page_stamp(session, author) != notified
    read = page_stamp(session, author)
    notifications.mark_all_read(session, author.id, now=NOW)
    session.commit()
    assert page_stamp(session, author) != read


def test_a_rejection_changes_only_the_authors_page_and_the_activity_stamp(arranged):
    session, article, author = arranged
    reader = make_reader(session, phone="13700000002", nickname="讀者")
    comment = new_comment(session, article, author)
    public, busy = stamp(session), activity(session)
    own, others = page_stamp(session, author), page_stamp(session, reader)
    comments.set_status(session, comment, CommentStatus.REJECTED, now=NOW)
    session.commit()
    assert stamp(session) == public
    assert activity(session) != busy
    assert page_stamp(session, author) != own
    assert page_stamp(session, reader) == others
    assert session.get(User, author.id).rejected_comments == 1


def test_any_write_replaces_the_activity_stamp_and_a_read_does_not(arranged):
    session, _article, _author = arranged
    before = activity(session)
    session.scalar(select(Comment.id).limit(1))
    session.commit()
    assert activity(session) == before
    session.add(SensitiveWord(term="測試詞", categories="C12", action="review", pinyin=False))
    session.commit()
    assert activity(session) != before


def test_a_bulk_statement_on_users_rows_replaces_the_content_version(arranged):
    """It names no rows, so no one user's stamp can stand for it."""
    session, _article, author = arranged
    notifications.notify(session, user_id=author.id, kind="notice", text="通知", link="/", now=NOW)
    session.commit()
    before = stamp(session)
    session.execute(update(Notification).values(read_at=NOW))
    session.commit()
    assert stamp(session) != before


def test_a_change_after_a_rolled_back_savepoint_still_replaces_the_stamps(arranged):
    session, article, author = arranged
    before, own = stamp(session), page_stamp(session, author)
    savepoint = session.begin_nested()
    article.title = "撤回的標題"
    session.add(Comment(article_id=article.id, author_id=author.id, body="撤回的評論"))
    session.flush()
    savepoint.rollback()
    article.title = "保存的標題"
    session.add(Comment(article_id=article.id, author_id=author.id, body="保存的評論"))
    session.commit()
    assert stamp(session) != before
    assert page_stamp(session, author) != own


def test_an_edit_of_a_published_comment_replaces_the_stamp_only_when_approved(arranged):
    """Public pages show the published text until the edit is approved: the edit and its refusal
    change the author's own pages, the approval everyone's."""
    from tests.domain.test_comments import RULES, WORDS

    session, article, author = arranged
    moderator = make_reader(session, phone="13700000002", nickname="審核員")
    comment = new_comment(session, article, author, CommentStatus.APPROVED)
    comment.created_at = NOW
    session.commit()

    def edit(body: str) -> None:
        comments.edit(session, comment=comment, author=author, body=body, words=WORDS, rules=RULES, now=NOW)
        session.commit()

    def decide(decision: str) -> None:
        moderation.decide(
            session,
            comment=comment,
            moderator=moderator,
            decision=decision,
            reason_code="R08" if decision == "reject" else "",
            now=NOW,
            today=NOW.date(),
        )
        session.commit()

    public, own = stamp(session), page_stamp(session, author)
    edit("第一次修改的評論")
    assert (stamp(session), comment.body) == (public, "一條評論")
    assert page_stamp(session, author) != own  # the author's pages show the edit waiting
    own = page_stamp(session, author)
    decide("reject")
    assert stamp(session) == public and page_stamp(session, author) != own
    edit("第二次修改的評論")
    assert stamp(session) == public
    decide("approve")
    assert stamp(session) != public and comment.body == "第二次修改的評論"
