"""網友評論 in the domain (PLEDGE_RULES §4–§5): submit, the account and rate rules, duplicates,
coordinated posting, verdicts, threads, counts, edit, delete, likes, reports and keyset pages.

Bare SQLAlchemy session, no Flask. Messages are written out here, not imported, so that a drifting
text fails a test."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from itertools import count

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from sqlalchemy import and_, event, func, insert, or_, select

from portal.domain import comments, moderation
from portal.domain.accounts import create_verified_user
from portal.domain.comments import CommentRules, Origin
from portal.domain.errors import NotAllowed, Rejected
from portal.domain.pagination import Cursor
from portal.domain.pii import PhoneVault
from portal.domain.region import network_prefix
from portal.domain.wordlist import WordList, parse_word_csv
from portal.models import (
    Comment,
    CommentRevision,
    CommentsState,
    CommentStatus,
    Like,
    ModerationAction,
    Notification,
    Report,
    Role,
    UserState,
)
from tests.conftest import TEST_PII_KEY
from tests.factories import make_article, make_section

TEST_DICTIONARY = """term,category,action,pinyin
赌博,C8,block,yes
代开发票,C14,block,no
casino,C8,block,no
蠢货,C9/C12,review,no
"re:(\\p{Han}{1,4})人都是(骗子|小偷)",C5,review,no
"""
WORDS = WordList.build(parse_word_csv(TEST_DICTIONARY), "domain-comments-test")
VAULT = PhoneVault.from_secret(TEST_PII_KEY)
HASHER = PasswordHasher.from_parameters(CHEAPEST)
RULES = CommentRules()
# No waiting and no quota in the way: for tests about something else than P9.
ROOMY = CommentRules(
    cooldown_seconds=0, quotas={"new": 1000, "normal": 1000, "good": 1000, "restricted": 1000}
)

NOW = datetime(2026, 5, 18, 2, 0, 0)  # naive UTC, 10:00 in 聊城
DAY_START = datetime(2026, 5, 17, 16, 0, 0)  # midnight of 2026-05-18 in Asia/Shanghai, in UTC
TODAY = date(2026, 5, 18)

UNVERIFIED = "根據《互聯網跟帖評論服務管理規定》，請先綁定並驗證手機號後再發表評論"
CLOSED = "本文評論已關閉"
DAILY_LIMIT = "今日評論次數已達上限"
DUPLICATE = "請勿重複發布相同內容"
BAD_PARENT = "您回覆的評論不存在或已不可見，請重新整理頁面"
C8_MESSAGE = (
    "您的評論含有違反《跟帖評論自律管理承諾書》的內容（淫穢色情、賭博、暴力、恐怖或教唆犯罪），"
    "請修改後再提交。"
)


# --- arranging ------------------------------------------------------------------------------------


@pytest.fixture
def article(session):
    section = make_section(session)
    return make_article(session, section, published_at=NOW - timedelta(hours=2))


@pytest.fixture
def other_article(session, article):
    return make_article(session, article.section, published_at=NOW - timedelta(hours=3))


_phones = count(13600000001)


@pytest.fixture
def make_reader(session):
    def make(nickname: str | None = None, role: Role = Role.READER, **fields):
        phone = str(next(_phones))
        user = create_verified_user(
            session,
            phone=phone,
            nickname=nickname or f"讀者{phone[-5:]}",
            password="correct-horse-battery",
            role=role,
            vault=VAULT,
            hasher=HASHER,
            now=NOW - timedelta(days=90),
        )
        for key, value in fields.items():
            setattr(user, key, value)
        session.flush()
        return user

    return make


@pytest.fixture
def moderator(make_reader):
    return make_reader("值班審核員", role=Role.MODERATOR)


def origin_for(ip: str) -> Origin:
    return Origin(ip=ip, ip_prefix=network_prefix(ip), region="山東", user_agent="pytest")


def post(session, article, author, body, *, at=NOW, ip=None, reply_to=None, rules=ROOMY, words=WORDS):
    return comments.submit(
        session,
        article=article,
        author=author,
        body=body,
        reply_to_id=reply_to,
        origin=origin_for(ip or f"60.210.{author.id % 250}.7"),
        words=words,
        rules=rules,
        now=at,
        day_start=DAY_START,
    )


def refused(session, *args, **kwargs) -> Rejected:
    with pytest.raises(Rejected) as caught:
        post(session, *args, **kwargs)
    return caught.value


def approved(session, article, author, body, moderator, *, at=NOW, reply_to=None):
    comment = post(session, article, author, body, at=at, reply_to=reply_to)
    moderation.approve(session, comment=comment, moderator=moderator, now=at, today=TODAY)
    session.flush()
    return comment


def comment_rows(session) -> int:
    return session.scalar(select(func.count()).select_from(Comment))


# --- submit: pending, stored as typed, not counted (P21, P14) -------------------------------------


def test_a_new_comment_is_pending_stored_exactly_as_typed_and_not_counted(session, article, make_reader):
    author = make_reader()
    typed = "  東昌湖的夜景<b>真美</b> 👍\n第二行\t{{7*7}} ' OR 1=1 -- "
    comment = post(session, article, author, typed)
    session.flush()
    session.refresh(article)
    stored = session.get(Comment, comment.id)
    assert stored.status == CommentStatus.PENDING
    assert stored.body == typed
    assert stored.listed is False
    assert stored.flags == ""
    assert article.comment_count == 0
    assert comments.thread_page(session, article_id=article.id, order="newest", cursor=None) == ([], None)
    assert stored.ip_region == "山東"
    logged = session.scalars(select(ModerationAction).where(ModerationAction.action == "comment.submitted"))
    assert [(row.target_id, json.loads(row.after)["body"]) for row in logged] == [(comment.id, typed)]


@pytest.mark.parametrize(
    ("body", "message"),
    [("", "評論內容不能為空"), ("好", "評論至少需要2個字"), ("好" * 501, "評論不能超過500字")],
)
def test_p8_length_refusals(session, article, make_reader, body, message):
    error = refused(session, article, make_reader(), body, rules=RULES)
    assert (error.status, error.message) == (422, message)
    assert comment_rows(session) == 0


def test_p8_two_and_five_hundred_characters_are_accepted(session, article, make_reader):
    assert post(session, article, make_reader(), "好文").status == CommentStatus.PENDING
    assert post(session, article, make_reader(), "好" * 499 + "文").status == CommentStatus.PENDING


# --- P5 and P2: the account first -----------------------------------------------------------------


def test_p5_a_muted_reader_is_refused_with_the_date_and_the_reason(session, article, make_reader):
    author = make_reader(muted_until=NOW + timedelta(days=1), muted_reason="辱罵他人")
    error = refused(session, article, author, "我想說兩句")
    assert error.status == 403
    assert error.message.startswith("您已被禁止發言至2026-05-19")
    assert error.message.endswith("，原因：辱罵他人。如有異議可申訴。")
    assert comment_rows(session) == 0


def test_p5_a_mute_that_has_ended_no_longer_refuses(session, article, make_reader):
    author = make_reader(muted_until=NOW - timedelta(minutes=1), muted_reason="辱罵他人")
    assert post(session, article, author, "我想說兩句").status == CommentStatus.PENDING


def test_p5_a_closed_account_is_refused(session, article, make_reader):
    error = refused(session, article, make_reader(state=UserState.CLOSED), "我想說兩句")
    assert (error.status, error.message) == (403, "賬號已關閉")
    assert comment_rows(session) == 0


def test_p2_an_unverified_phone_is_refused_with_the_exact_text(session, article, make_reader):
    error = refused(session, article, make_reader(phone_verified_at=None), "我想說兩句")
    assert (error.status, error.message, error.reason) == (403, UNVERIFIED, "unverified")
    assert comment_rows(session) == 0


# --- P32: closed comments -------------------------------------------------------------------------


def test_closed_article_refuses_new_comments(session, article, make_reader):
    article.comments_state = CommentsState.CLOSED
    error = refused(session, article, make_reader(), "我想說兩句")
    assert (error.status, error.message) == (403, CLOSED)
    assert comment_rows(session) == 0


def test_closed_section_refuses_new_comments(session, article, make_reader):
    article.section.comments_closed = True
    error = refused(session, article, make_reader(), "我想說兩句")
    assert (error.status, error.message) == (403, CLOSED)


def test_comments_close_automatically_after_the_sections_days(session, article, make_reader):
    article.section.auto_close_days = 3
    article.published_at = NOW - timedelta(days=2)
    assert post(session, article, make_reader(), "還能評論嗎").status == CommentStatus.PENDING
    article.published_at = NOW - timedelta(days=3, minutes=1)
    error = refused(session, article, make_reader(), "現在還能評論嗎")
    assert (error.status, error.message) == (403, CLOSED)


# --- P9: rate -------------------------------------------------------------------------------------


def test_p9_a_second_post_within_15_seconds_is_429_with_the_seconds_left(session, article, make_reader):
    author = make_reader()
    post(session, article, author, "第一條評論", rules=RULES)
    error = refused(session, article, author, "第二條評論", at=NOW + timedelta(seconds=5), rules=RULES)
    assert (error.status, error.message, error.retry_after) == (429, "發言過於頻繁，請10秒後再試", 10)
    later = post(session, article, author, "第二條評論", at=NOW + timedelta(seconds=16), rules=RULES)
    assert later.status == CommentStatus.PENDING


def test_p9_the_networks_hourly_budget_is_shared_by_its_accounts(session, article, make_reader):
    rules = CommentRules(cooldown_seconds=0, ip_hourly=3)
    for minute in range(3):
        post(
            session,
            article,
            make_reader(),
            f"第{minute}條評論",
            at=NOW + timedelta(minutes=minute),
            ip="60.210.8.8",
            rules=rules,
        )
    late = NOW + timedelta(minutes=10)
    error = refused(session, article, make_reader(), "第四條評論", at=late, ip="60.210.8.8", rules=rules)
    assert error.status == 429
    assert error.message == "發言過於頻繁，請3000秒後再試"  # when the first post leaves the hour
    assert error.retry_after == 3000
    assert post(session, article, make_reader(), "第四條評論", at=late, ip="60.210.9.9", rules=rules)


def test_p9_a_new_users_sixth_comment_of_the_day_is_refused(session, article, make_reader):
    author = make_reader()
    yesterday = post(session, article, author, "昨天的評論", at=DAY_START - timedelta(minutes=5), rules=RULES)
    assert yesterday.status == CommentStatus.PENDING
    for n in range(5):
        post(
            session, article, author, f"今天第{n + 1}條評論", at=NOW + timedelta(seconds=20 * n), rules=RULES
        )
    error = refused(session, article, author, "今天第六條評論", at=NOW + timedelta(minutes=5), rules=RULES)
    assert (error.status, error.message) == (429, DAILY_LIMIT)
    assert comment_rows(session) == 6


# --- P10: duplicates and retries ------------------------------------------------------------------


def test_p10_the_same_skeleton_again_is_refused(session, article, make_reader):
    author = make_reader()
    post(session, article, author, "支持！")
    error = refused(session, article, author, "支 持 !", at=NOW + timedelta(seconds=20))
    assert (error.status, error.message) == (422, DUPLICATE)
    assert comment_rows(session) == 1


def test_p10_another_reader_may_say_the_same(session, article, make_reader):
    post(session, article, make_reader(), "支持！")
    assert post(session, article, make_reader(), "支持！").status == CommentStatus.PENDING


@pytest.mark.parametrize("seconds", [2, 90])
def test_an_identical_retry_returns_the_stored_comment(session, article, make_reader, seconds):
    author = make_reader()
    first = post(session, article, author, "東昌湖的夜景真美", rules=RULES)
    session.flush()
    again = post(
        session, article, author, "東昌湖的夜景真美", at=NOW + timedelta(seconds=seconds), rules=RULES
    )
    assert again.id == first.id
    assert comment_rows(session) == 1


def test_p10_the_same_text_on_another_article_is_a_duplicate_not_a_retry(
    session, article, other_article, make_reader
):
    author = make_reader()
    post(session, article, author, "東昌湖的夜景真美")
    error = refused(session, other_article, author, "東昌湖的夜景真美", at=NOW + timedelta(seconds=30))
    assert (error.status, error.message) == (422, DUPLICATE)
    assert comment_rows(session) == 1


def test_p10_the_same_text_is_refused_for_a_day_then_accepted(session, article, make_reader):
    author = make_reader()
    post(session, article, author, "東昌湖的夜景真美")
    error = refused(session, article, author, "東昌湖的夜景真美!", at=NOW + timedelta(hours=23, minutes=59))
    assert error.message == DUPLICATE
    later = post(session, article, author, "東昌湖的夜景真美!", at=NOW + timedelta(hours=24, seconds=1))
    assert later.status == CommentStatus.PENDING
    assert comment_rows(session) == 2


def test_a_rejected_comment_sent_again_is_a_duplicate_not_the_stored_comment(
    session, article, make_reader, moderator
):
    author = make_reader()
    first = post(session, article, author, "東昌湖的夜景真美")
    moderation.reject(session, comment=first, moderator=moderator, reason_code="R08", now=NOW)
    error = refused(session, article, author, "東昌湖的夜景真美", at=NOW + timedelta(seconds=30))
    assert error.message == DUPLICATE


def test_recent_activity_counts_each_window_up_to_its_limit(session, article, make_reader):
    """P9 and P11 read their counts in one statement; each stops at its limit (never a scan of all)."""
    author, neighbour = make_reader(), make_reader()
    for n in range(5):
        post(
            session, article, author, f"今天第{n}條評論", at=NOW - timedelta(minutes=50 - n), ip="60.210.8.8"
        )
    post(session, article, neighbour, "鄰居的評論", at=NOW - timedelta(minutes=5), ip="60.210.8.9")
    post(session, article, author, "兩小時前的評論", at=NOW - timedelta(hours=2), ip="60.210.8.8")
    session.flush()
    rules = CommentRules(ip_hourly=3, coordinated_network_posts=4, coordinated_minutes=60)
    activity = comments.recent_activity(
        session, author, origin_for("60.210.8.8"), rules, now=NOW, day_start=DAY_START, quota=4
    )
    assert activity.last_post == NOW - timedelta(minutes=46)
    assert activity.posts_today == 4  # of 6 today: counted up to the quota
    assert activity.address_posts == 3  # of 5 in the hour: up to the budget
    assert activity.address_oldest == NOW - timedelta(minutes=50)  # the hour's oldest dates the wait
    assert activity.network_posts == 4  # of 6 from 60.210.8.0/24 in the window: up to the threshold
    roomy = CommentRules(ip_hourly=30, coordinated_network_posts=10, coordinated_minutes=10)
    nobody = comments.recent_activity(
        session, make_reader(), origin_for("60.210.9.9"), roomy, now=NOW, day_start=DAY_START, quota=5
    )
    assert nobody == comments.Activity(last_post=None)
    quiet = comments.recent_activity(session, author, Origin(), roomy, now=NOW, day_start=DAY_START, quota=50)
    assert (quiet.posts_today, quiet.address_posts, quiet.network_posts) == (6, 0, 0)


# --- P11: coordinated posting ---------------------------------------------------------------------


def test_p11_three_accounts_posting_one_text_are_all_flagged(session, article, make_reader):
    text = "這個項目太好了大家快來"
    posted = [post(session, article, make_reader(), text, at=NOW + timedelta(minutes=n)) for n in range(3)]
    session.flush()
    for comment in posted:
        session.refresh(comment)
    assert [c.flag_list for c in posted] == [["coordinated"]] * 3


def test_p11_an_edit_keeps_the_coordinated_flag_and_the_top_of_the_queue(session, article, make_reader):
    """The flag is about the comment's company, not its words: an author changing a character of
    theirs kept nothing of it, and their comment dropped down the queue."""
    text = "這個項目太好了大家快來"
    posted = [post(session, article, make_reader(), text, at=NOW + timedelta(minutes=n)) for n in range(3)]
    session.flush()
    first = posted[0]
    session.refresh(first)
    edit(session, first, first.author, "這個項目太好了大家快來看", minutes=4)
    assert first.flag_list == ["coordinated"] and first.priority == 3
    edit(session, first, first.author, "哈哈哈哈哈哈哈哈哈哈哈", minutes=4)  # the new text's flag joins it
    assert set(first.flag_list) == {"low_quality", "coordinated"} and first.priority == 3


def test_p11_two_accounts_are_not_yet_coordinated(session, article, make_reader):
    posted = [post(session, article, make_reader(), "這個項目太好了大家快來") for _ in range(2)]
    session.flush()
    assert [c.flags for c in posted] == ["", ""]


def test_p11_three_accounts_more_than_ten_minutes_apart_are_not_coordinated(session, article, make_reader):
    text = "這個項目太好了大家快來"
    posted = [
        post(session, article, make_reader(), text, at=NOW + timedelta(minutes=11 * n)) for n in range(3)
    ]
    session.flush()
    assert [c.flags for c in posted] == ["", "", ""]


def test_p11_a_short_skeleton_from_three_accounts_is_not_coordinated(session, article, make_reader):
    # PLEDGE_RULES P11: "one skeleton (≥6 chars)". 「支持！！！！！」 has 7 characters, but its
    # skeleton 「支持」 only 2: three readers cheering the same way is no 水軍.
    posted = [post(session, article, make_reader(), "支持！！！！！") for _ in range(3)]
    session.flush()
    assert [c.flags for c in posted] == ["", "", ""]


def flood(session, article, make_reader, posts: int) -> list[Comment]:
    """`posts` readers of one /24, one post a second."""
    posted = [
        post(
            session,
            article,
            make_reader(),
            f"我的看法第{n}條",
            at=NOW + timedelta(seconds=n),
            ip=f"60.210.5.{n + 1}",
        )
        for n in range(posts)
    ]
    session.flush()
    return posted


def test_p11_ten_posts_from_one_network_are_flagged(session, article, make_reader):
    posted = flood(session, article, make_reader, 10)
    for comment in posted:
        session.refresh(comment)
    assert all(c.flag_list == ["coordinated"] for c in posted)


def test_p11_nine_posts_from_one_network_are_not(session, article, make_reader):
    posted = [
        post(session, article, make_reader(), f"我的看法第{n}條", ip=f"60.210.5.{n + 1}") for n in range(9)
    ]
    session.flush()
    assert {c.flags for c in posted} == {""}


def test_p11_a_post_during_a_flood_reads_only_the_networks_unflagged_rows_through_their_index(
    session, article, make_reader, captured
):
    """The flood check loads the window's rows not yet flagged: by the partial index that holds only
    those, so the twentieth post of a flood reads no flagged row of the nineteen before it."""
    posted = flood(session, article, make_reader, 20)
    lookups = [(s, p) for s, p in captured.seen if "NOT LIKE" in s]
    assert len(lookups) == 11  # posts 10 to 20, each once
    statement, parameters = lookups[-1]
    steps = plan(session, statement, parameters)
    assert "USING INDEX ix_comment_network_unflagged" in steps, steps
    assert "SCAN" not in steps, steps
    # The index holds the network's unflagged rows only: after the flood, none.
    assert session.connection().exec_driver_sql(statement, parameters).all() == []
    for comment in posted:
        session.refresh(comment)
    assert all(c.flag_list == ["coordinated"] for c in posted)


# --- verdicts: block, review, pass ----------------------------------------------------------------


def test_a_block_verdict_is_refused_with_the_category_message_and_nothing_added(
    session, article, make_reader
):
    error = refused(session, article, make_reader(), "网上赌博平台")
    assert (error.status, error.message, error.reason) == (422, C8_MESSAGE, "words")
    assert "赌博" not in error.message
    assert comment_rows(session) == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("詳見 www.example.com", "評論中請勿包含網址、鏈接或郵箱"),
        ("有事打13800138000", "請勿在評論中留下電話、QQ、微信等聯繫方式"),
        ("他的身份证是11010519491231002X", "請勿公開身份證號、銀行卡號等個人信息"),
        ("。。。！！", "評論內容無實際意義"),
    ],
)
def test_text_rule_refusals_carry_their_message(session, article, make_reader, body, message):
    error = refused(session, article, make_reader(), body)
    assert (error.status, error.message) == (422, message)
    assert comment_rows(session) == 0


def test_a_review_verdict_is_pending_with_its_rule_hits_at_raw_offsets(session, article, make_reader):
    body = "樓上 你这个蠢货！"
    comment = post(session, article, make_reader(), body)
    session.flush()
    assert comment.status == CommentStatus.PENDING
    hits = json.loads(comment.rule_hits)
    assert [(h["rule"], h["categories"]) for h in hits] == [("P15", ["C9", "C12"])]
    assert body[hits[0]["start"] : hits[0]["end"]] == "蠢货"


def test_an_evasion_is_pending_with_its_flag(session, article, make_reader):
    body = "大家別去ｄｕ博啊"
    comment = post(session, article, make_reader(), body)
    session.flush()
    assert comment.status == CommentStatus.PENDING
    assert comment.flag_list == ["evasion"]
    hits = json.loads(comment.rule_hits)
    assert {h["rule"] for h in hits} == {"P15", "P12"}
    assert {body[h["start"] : h["end"]] for h in hits} == {"ｄｕ博"}


def test_a_pass_verdict_has_no_flags_and_no_hits(session, article, make_reader):
    comment = post(session, article, make_reader(), "聊城東昌湖的夜景真美")
    assert (comment.flags, json.loads(comment.rule_hits)) == ("", [])


# --- replies --------------------------------------------------------------------------------------


def test_a_reply_to_a_reply_stays_under_the_top_level_comment(session, article, make_reader, moderator):
    alice, bob, carol = make_reader("阿蘭"), make_reader("阿博"), make_reader("阿卡")
    top = approved(session, article, alice, "頂樓的評論", moderator)
    reply = approved(session, article, bob, "回覆頂樓", moderator, reply_to=top.id)
    assert (reply.parent_id, reply.reply_to_id, reply.reply_to_nickname) == (top.id, None, "")
    nested = post(session, article, carol, "回覆二樓", reply_to=reply.id)
    assert (nested.parent_id, nested.reply_to_id, nested.reply_to_nickname) == (top.id, reply.id, "阿博")


def test_p24_a_restricted_account_may_comment_but_not_reply(session, article, make_reader, moderator):
    """限制 = replies off, smaller quota (P24), as the measure's notice tells the reader."""
    top = approved(session, article, make_reader("阿蘭"), "頂樓的評論", moderator)
    restricted = make_reader("阿限", state=UserState.RESTRICTED)
    error = refused(session, article, restricted, "我想回覆一下", reply_to=top.id)
    assert (error.status, error.message, error.reason) == (403, comments.REPLIES_OFF, "account_state")
    assert post(session, article, restricted, "我想說兩句", at=NOW).status == CommentStatus.PENDING


@pytest.mark.parametrize("target", ["other article", "pending", "rejected", "hidden", "unknown"])
def test_a_reply_to_a_comment_that_is_not_visible_here_is_refused(
    session, article, other_article, make_reader, moderator, target
):
    author = make_reader()
    if target == "other article":
        parent_id = approved(session, other_article, make_reader(), "別處的評論", moderator).id
    elif target == "unknown":
        parent_id = 987654
    else:
        parent = post(session, article, make_reader(), "還沒公開的評論")
        if target != "pending":
            moderation.approve(session, comment=parent, moderator=moderator, now=NOW, today=TODAY)
            status = CommentStatus.REJECTED if target == "rejected" else CommentStatus.HIDDEN
            comments.set_status(session, parent, status, now=NOW)
        parent_id = parent.id
    before = comment_rows(session)
    error = refused(session, article, author, "我來回覆", reply_to=parent_id)
    assert (error.status, error.message) == (422, BAD_PARENT)
    assert comment_rows(session) == before


# --- counts and notifications ---------------------------------------------------------------------


def test_approve_counts_the_comment_and_the_reply_and_notifies_the_parents_author(
    session, article, make_reader, moderator
):
    alice, bob = make_reader("阿蘭"), make_reader("阿博")
    top = approved(session, article, alice, "頂樓的評論", moderator)
    session.refresh(article)
    assert (article.comment_count, top.status, top.listed) == (1, CommentStatus.APPROVED, True)
    reply = post(session, article, bob, "說得對", reply_to=top.id)
    session.flush()
    session.refresh(top)
    assert top.reply_count == 0  # pending replies are not counted
    moderation.approve(session, comment=reply, moderator=moderator, now=NOW, today=TODAY)
    session.flush()
    session.refresh(article)
    session.refresh(top)
    assert (article.comment_count, top.reply_count) == (2, 1)
    notices = session.scalars(select(Notification)).all()
    assert [(n.user_id, n.kind) for n in notices] == [(alice.id, "reply")]
    assert notices[0].shown_text == "阿博 回覆了您的評論：說得對" and notices[0].actor_id == bob.id
    assert notices[0].link == f"/articles/{article.id}#comment-{reply.id}"


def test_a_reply_to_a_reply_notifies_both_authors_but_never_oneself(session, article, make_reader, moderator):
    alice, bob = make_reader("阿蘭"), make_reader("阿博")
    top = approved(session, article, alice, "頂樓的評論", moderator)
    second = approved(session, article, bob, "二樓的回覆", moderator, reply_to=top.id)
    approved(session, article, alice, "回覆二樓", moderator, reply_to=second.id)
    notices = session.scalars(select(Notification).order_by(Notification.id)).all()
    assert [n.user_id for n in notices] == [alice.id, bob.id]


def test_set_status_keeps_the_counts_right(session, article, make_reader, moderator):
    top = approved(session, article, make_reader(), "頂樓的評論", moderator)
    reply = approved(session, article, make_reader(), "說得對", moderator, reply_to=top.id)

    def counts():
        session.flush()
        session.refresh(article)
        session.refresh(top)
        return article.comment_count, top.reply_count

    assert counts() == (2, 1)
    comments.set_status(session, reply, CommentStatus.HIDDEN, now=NOW)
    assert counts() == (1, 0)
    comments.set_status(session, reply, CommentStatus.APPROVED, now=NOW)
    assert counts() == (2, 1)
    comments.set_status(session, reply, CommentStatus.APPROVED, now=NOW)  # no change, no count
    assert counts() == (2, 1)
    comments.set_status(session, reply, CommentStatus.DELETED, now=NOW)
    assert counts() == (1, 0)
    comments.set_status(session, top, CommentStatus.DELETED, now=NOW)
    assert counts() == (0, 0)


def test_deleting_a_top_level_comment_with_replies_keeps_it_listed_as_a_placeholder(
    session, article, make_reader, moderator
):
    alice = make_reader()
    top = approved(session, article, alice, "頂樓的評論", moderator)
    approved(session, article, make_reader(), "說得對", moderator, reply_to=top.id)
    approved(session, article, make_reader(), "我也覺得", moderator, reply_to=top.id)
    session.refresh(article)
    assert article.comment_count == 3
    comments.delete_own(session, comment=top, author=alice, now=NOW)
    session.flush()
    session.refresh(article)
    assert (top.status, top.listed, article.comment_count) == (CommentStatus.DELETED, True, 2)
    page, _ = comments.thread_page(session, article_id=article.id, order="newest", cursor=None)
    assert [c.id for c in page] == [top.id]
    assert len(comments.reply_previews(session, [top.id])[top.id]) == 2


def test_a_deleted_top_level_comment_leaves_the_list_with_its_last_reply(
    session, article, make_reader, moderator
):
    alice, bob = make_reader(), make_reader()
    top = approved(session, article, alice, "頂樓的評論", moderator)
    reply = approved(session, article, bob, "說得對", moderator, reply_to=top.id)
    comments.delete_own(session, comment=top, author=alice, now=NOW)
    comments.delete_own(session, comment=reply, author=bob, now=NOW)
    session.flush()
    session.refresh(top)
    assert top.listed is False
    assert comments.thread_page(session, article_id=article.id, order="newest", cursor=None) == ([], None)


def test_deleting_a_comment_without_replies_removes_it_from_the_list(
    session, article, make_reader, moderator
):
    alice = make_reader()
    top = approved(session, article, alice, "頂樓的評論", moderator)
    comments.delete_own(session, comment=top, author=alice, now=NOW)
    session.flush()
    session.refresh(article)
    assert (top.listed, article.comment_count) == (False, 0)
    logged = session.scalar(
        select(ModerationAction.action)
        .where(ModerationAction.target_id == top.id)
        .order_by(ModerationAction.id.desc())
    )
    assert logged == "comment.deleted_by_author"


def test_nobody_deletes_someone_elses_comment(session, article, make_reader, moderator):
    top = approved(session, article, make_reader(), "頂樓的評論", moderator)
    with pytest.raises(NotAllowed):
        comments.delete_own(session, comment=top, author=make_reader(), now=NOW)
    assert top.status == CommentStatus.APPROVED


# --- edit -----------------------------------------------------------------------------------------


def edit(session, comment, author, body, *, minutes=4):
    return comments.edit(
        session,
        comment=comment,
        author=author,
        body=body,
        words=WORDS,
        rules=RULES,
        now=NOW + timedelta(minutes=minutes),
    )


def test_an_edit_of_a_published_comment_waits_for_review_and_the_published_text_stays_public(
    session, article, make_reader, moderator
):
    alice = make_reader()
    comment = approved(session, article, alice, "原來的評論", moderator)
    edit(session, comment, alice, "改過的評論")
    session.flush()
    session.refresh(article)
    assert (comment.status, comment.body, comment.listed) == (CommentStatus.APPROVED, "原來的評論", True)
    assert comment.pending_body == "改過的評論"
    assert article.comment_count == 1
    assert session.scalars(select(CommentRevision)).all() == []  # nothing replaced yet
    queue, _ = moderation.queue_page(
        session, tab="pending", filters=moderation.QueueFilters(), scope=None, cursor=None, now=NOW
    )
    assert [c.id for c in queue] == [comment.id]
    assert moderation.tab_counts(session, None)["pending"] == 1
    record = session.scalars(
        select(ModerationAction).where(ModerationAction.action == "comment.edited")
    ).one()
    assert (json.loads(record.before)["body"], json.loads(record.after)["body"]) == (
        "原來的評論",
        "改過的評論",
    )


def test_a_pending_comment_takes_its_edit_at_once_and_keeps_the_old_text(session, article, make_reader):
    alice = make_reader()
    comment = post(session, article, alice, "原來的評論")
    edit(session, comment, alice, "改過的評論")
    session.flush()
    assert (comment.status, comment.body, comment.pending_body) == (CommentStatus.PENDING, "改過的評論", None)
    revisions = session.scalars(select(CommentRevision).where(CommentRevision.comment_id == comment.id)).all()
    assert [(r.body, r.status) for r in revisions] == [("原來的評論", "pending")]


def test_a_second_edit_replaces_the_first_and_going_back_to_the_public_text_leaves_nothing_to_review(
    session, article, make_reader, moderator
):
    alice = make_reader()
    comment = approved(session, article, alice, "原來的評論", moderator)
    edit(session, comment, alice, "第一次修改", minutes=1)
    edit(session, comment, alice, "第二次修改", minutes=2)
    assert (comment.body, comment.pending_body) == ("原來的評論", "第二次修改")
    with pytest.raises(Rejected) as caught:
        edit(session, comment, alice, "第二次修改", minutes=3)
    assert caught.value.message == "評論內容沒有修改"
    edit(session, comment, alice, "原來的評論", minutes=3)
    assert (comment.body, comment.pending_body, comment.status) == (
        "原來的評論",
        None,
        CommentStatus.APPROVED,
    )


def test_an_edit_of_a_published_comment_runs_the_text_rules_on_the_edited_text(
    session, article, make_reader, moderator
):
    alice = make_reader()
    comment = approved(session, article, alice, "原來的評論", moderator)
    with pytest.raises(Rejected) as caught:
        edit(session, comment, alice, "网上赌博平台")
    assert caught.value.message == C8_MESSAGE
    assert (comment.body, comment.pending_body) == ("原來的評論", None)


def decide_edit(session, comment, moderator, decision, reason=""):
    return moderation.decide(
        session,
        comment=comment,
        moderator=moderator,
        decision=decision,
        reason_code=reason,
        now=NOW + timedelta(minutes=10),
        today=TODAY,
    )


def test_an_approved_edit_replaces_the_public_text_and_the_record_keeps_both(
    session, article, make_reader, moderator
):
    alice = make_reader()
    comment = approved(session, article, alice, "原來的評論", moderator)
    edit(session, comment, alice, "改過的評論")
    decide_edit(session, comment, moderator, "approve")
    session.flush()
    session.refresh(article)
    assert (comment.status, comment.body, comment.pending_body) == (
        CommentStatus.APPROVED,
        "改過的評論",
        None,
    )
    assert (comment.listed, article.comment_count, alice.approved_comments) == (True, 1, 1)
    assert [(r.body, r.status) for r in session.scalars(select(CommentRevision))] == [
        ("原來的評論", "approved")
    ]
    record = session.scalars(
        select(ModerationAction)
        .where(ModerationAction.action == "moderation.approve")
        .order_by(ModerationAction.id.desc())
    ).first()
    before, after = json.loads(record.before), json.loads(record.after)
    assert (before["body"], before["edit"]) == ("原來的評論", "改過的評論")
    assert (after["body"], after["edit"]) == ("改過的評論", "approved")
    assert moderation.tab_counts(session, None)["pending"] == 0


def test_a_rejected_edit_keeps_the_public_text_tells_the_author_and_the_record_keeps_both(
    session, article, make_reader, moderator
):
    alice = make_reader()
    comment = approved(session, article, alice, "原來的評論", moderator)
    credit = alice.credit
    edit(session, comment, alice, "改過的評論")
    decide_edit(session, comment, moderator, "reject", reason="R08")
    session.flush()
    assert (comment.status, comment.body, comment.pending_body) == (
        CommentStatus.APPROVED,
        "原來的評論",
        None,
    )
    assert (comment.listed, alice.credit, alice.approved_comments, alice.rejected_comments) == (
        True,
        credit,
        1,
        0,
    )
    notice = session.scalars(select(Notification).where(Notification.user_id == alice.id)).one()
    assert notice.text.startswith("您對評論的修改未通過審核：") and "修改前的內容" in notice.text
    record = session.scalars(
        select(ModerationAction).where(ModerationAction.action == "moderation.reject")
    ).one()
    before, after = json.loads(record.before), json.loads(record.after)
    assert (before["body"], before["edit"]) == ("原來的評論", "改過的評論")
    assert (after["body"], after["edit"], record.reason_code) == ("原來的評論", "rejected", "R08")
    with pytest.raises(moderation.AlreadyDecided):  # a second click finds nothing left to decide
        decide_edit(session, comment, moderator, "reject", reason="R08")


def test_replies_stay_under_a_comment_whose_edit_waits_and_after_its_decision(
    session, article, make_reader, moderator
):
    alice, bob = make_reader(), make_reader()
    top = approved(session, article, alice, "原來的評論", moderator)
    reply = approved(session, article, bob, "我回覆的內容", moderator, reply_to=top.id)
    edit(session, top, alice, "改過的評論")
    session.flush()
    assert [
        c.id for c in comments.thread_page(session, article_id=article.id, order="newest", cursor=None)[0]
    ] == [top.id]
    assert [r.id for r in comments.reply_previews(session, [top.id])[top.id]] == [reply.id]
    decide_edit(session, top, moderator, "approve")
    session.flush()
    assert [r.id for r in comments.reply_previews(session, [top.id])[top.id]] == [reply.id]


def test_a_waiting_edit_goes_with_its_comment_when_the_author_deletes_it(
    session, article, make_reader, moderator
):
    alice = make_reader()
    comment = approved(session, article, alice, "原來的評論", moderator)
    edit(session, comment, alice, "改過的評論")
    comments.delete_own(session, comment=comment, author=alice, now=NOW + timedelta(minutes=5))
    assert (comment.status, comment.pending_body) == (CommentStatus.DELETED, None)


def test_an_edit_that_changes_nothing_is_refused_and_the_comment_stays_published(
    session, article, make_reader, moderator
):
    alice = make_reader()
    comment = approved(session, article, alice, "原來的評論", moderator)
    with pytest.raises(Rejected) as caught:
        comments.edit(
            session,
            comment=comment,
            author=alice,
            body="原來的評論",
            words=WORDS,
            rules=RULES,
            now=NOW + timedelta(minutes=1),
        )
    assert (caught.value.status, caught.value.message) == (422, "評論內容沒有修改")
    session.flush()
    session.refresh(article)
    assert (comment.status, comment.listed, article.comment_count) == (CommentStatus.APPROVED, True, 1)
    assert session.scalars(select(CommentRevision)).all() == []


def test_an_edit_runs_the_text_rules_again(session, article, make_reader):
    alice = make_reader()
    comment = post(session, article, alice, "原來的評論")
    with pytest.raises(Rejected) as caught:
        comments.edit(
            session, comment=comment, author=alice, body="网上赌博平台", words=WORDS, rules=RULES, now=NOW
        )
    assert caught.value.message == C8_MESSAGE
    assert comment.body == "原來的評論"


def test_an_edit_after_five_minutes_is_refused(session, article, make_reader):
    alice = make_reader()
    comment = post(session, article, alice, "原來的評論")
    with pytest.raises(Rejected) as caught:
        comments.edit(
            session,
            comment=comment,
            author=alice,
            body="改過的評論",
            words=WORDS,
            rules=RULES,
            now=NOW + timedelta(minutes=5, seconds=1),
        )
    assert (caught.value.status, caught.value.message) == (403, "評論發布超過5分鐘，已不能編輯")
    assert comment.body == "原來的評論"


def test_nobody_edits_someone_elses_comment(session, article, make_reader):
    comment = post(session, article, make_reader(), "原來的評論")
    with pytest.raises(NotAllowed):
        comments.edit(
            session,
            comment=comment,
            author=make_reader(),
            body="改過的評論",
            words=WORDS,
            rules=RULES,
            now=NOW,
        )
    assert comment.body == "原來的評論"


# --- likes ----------------------------------------------------------------------------------------


def test_a_like_toggles(session, article, make_reader, moderator):
    comment = approved(session, article, make_reader(), "頂樓的評論", moderator)
    bob = make_reader()
    assert comments.toggle_like(session, comment=comment, user=bob, now=NOW) is True
    assert comment.like_count == 1
    assert comments.toggle_like(session, comment=comment, user=bob, now=NOW) is False
    assert comment.like_count == 0
    assert session.scalar(select(func.count()).select_from(Like)) == 0


def test_one_like_per_reader(session, article, make_reader, moderator):
    comment = approved(session, article, make_reader(), "頂樓的評論", moderator)
    bob, carol = make_reader(), make_reader()
    for user in (bob, carol, bob, bob):
        comments.toggle_like(session, comment=comment, user=user, now=NOW)
    session.flush()
    assert comment.like_count == 2  # carol's, and bob's third press
    likes = session.scalars(select(Like.user_id).where(Like.comment_id == comment.id)).all()
    assert sorted(likes) == sorted([bob.id, carol.id])


# --- reports --------------------------------------------------------------------------------------


def report(session, comment, reporter, reason="R08"):
    return comments.report(
        session, comment=comment, reporter=reporter, reason_code=reason, note="", rules=RULES, now=NOW
    )


@pytest.mark.parametrize("reason", ["", "R02", "R90", "R91", "X01"])
def test_a_report_needs_a_reason_a_reader_may_give(session, article, make_reader, moderator, reason):
    comment = approved(session, article, make_reader(), "頂樓的評論", moderator)
    with pytest.raises(Rejected) as caught:
        report(session, comment, make_reader(), reason)
    assert (caught.value.status, caught.value.message) == (422, "請選擇舉報理由")
    assert session.scalar(select(func.count()).select_from(Report)) == 0


def test_nobody_reports_their_own_comment(session, article, make_reader, moderator):
    alice = make_reader()
    comment = approved(session, article, alice, "頂樓的評論", moderator)
    with pytest.raises(Rejected) as caught:
        report(session, comment, alice)
    assert caught.value.message == "不能舉報自己的評論"
    assert comment.report_count == 0


def test_a_second_report_by_the_same_reader_is_409(session, article, make_reader, moderator):
    comment = approved(session, article, make_reader(), "頂樓的評論", moderator)
    bob = make_reader()
    report(session, comment, bob)
    with pytest.raises(Rejected) as caught:
        report(session, comment, bob, "R11")
    assert (caught.value.status, caught.value.message) == (409, "您已舉報過這條評論")
    assert comment.report_count == 1


def test_the_third_distinct_reporter_hides_the_comment(session, article, make_reader, moderator):
    comment = approved(session, article, make_reader(), "頂樓的評論", moderator)
    report(session, comment, make_reader())
    report(session, comment, make_reader(), "R13")
    session.refresh(article)
    assert (comment.status, article.comment_count) == (CommentStatus.APPROVED, 1)
    report(session, comment, make_reader(), "R16")
    session.flush()
    session.refresh(article)
    assert (comment.status, comment.listed, comment.report_count) == (CommentStatus.HIDDEN, False, 3)
    assert article.comment_count == 0
    actions = session.scalars(
        select(ModerationAction.action).where(ModerationAction.target_id == comment.id)
    ).all()
    assert actions.count("report.created") == 3
    assert "comment.hidden" in actions


# --- keyset pages ---------------------------------------------------------------------------------


def bulk_comments(session, article, author, total, *, likes=lambda n: 0, start=NOW - timedelta(days=30)):
    """Approved, listed top-level comments, inserted in bulk; each pair shares a timestamp (ties by id)."""
    session.execute(
        insert(Comment),
        [
            {
                "article_id": article.id,
                "author_id": author.id,
                "body": f"第{n}條評論",
                "status": CommentStatus.APPROVED,
                "listed": True,
                "like_count": likes(n),
                "created_at": start + timedelta(seconds=n // 2),
            }
            for n in range(total)
        ],
    )
    return list(session.scalars(select(Comment).where(Comment.article_id == article.id)))


def walk(session, article, order, size=20):
    pages, cursor = [], None
    while True:
        page, cursor = comments.thread_page(
            session, article_id=article.id, order=order, cursor=cursor, size=size
        )
        pages.append([c.id for c in page])
        if cursor is None:
            return pages
        assert len(pages) < 100


def test_walking_the_newest_cursors_gives_each_comment_once_newest_first(session, article, make_reader):
    rows = bulk_comments(session, article, make_reader(), 45)
    pages = walk(session, article, "newest")
    assert [len(p) for p in pages] == [20, 20, 5]
    expected = [c.id for c in sorted(rows, key=lambda c: (c.created_at, c.id), reverse=True)]
    assert [i for page in pages for i in page] == expected


def test_hot_orders_by_likes_then_recency(session, article, make_reader):
    rows = bulk_comments(session, article, make_reader(), 45, likes=lambda n: n % 4)
    pages = walk(session, article, "hot")
    assert [len(p) for p in pages] == [20, 20, 5]
    expected = [c.id for c in sorted(rows, key=lambda c: (c.like_count, c.created_at, c.id), reverse=True)]
    assert [i for page in pages for i in page] == expected


def test_the_thread_lists_approved_top_level_comments_only(session, article, make_reader, moderator):
    shown = approved(session, article, make_reader(), "公開的評論", moderator)
    post(session, article, make_reader(), "待審的評論")
    hidden = approved(session, article, make_reader(), "被隱藏的評論", moderator)
    comments.set_status(session, hidden, CommentStatus.HIDDEN, now=NOW)
    approved(session, article, make_reader(), "一條回覆", moderator, reply_to=shown.id)
    for order in ("newest", "hot", "nonsense"):
        page, _ = comments.thread_page(session, article_id=article.id, order=order, cursor=None)
        assert [c.id for c in page] == [shown.id]


class CapturedQueries:
    """The SQL the page functions send, to ask SQLite how it would run them."""

    def __init__(self, session):
        self.engine = session.get_bind()
        self.seen: list[tuple[str, tuple]] = []
        event.listen(self.engine, "before_cursor_execute", self._record)

    def _record(self, _conn, _cursor, statement, parameters, _context, _many):
        self.seen.append((statement, parameters))

    def thread_queries(self) -> list[tuple[str, tuple]]:
        return [(s, p) for s, p in self.seen if "FROM comment" in s and "ORDER BY" in s]

    def close(self):
        event.remove(self.engine, "before_cursor_execute", self._record)


@pytest.fixture
def captured(session):
    queries = CapturedQueries(session)
    yield queries
    queries.close()


def plan(session, statement, parameters) -> str:
    rows = session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    return "\n".join(row[-1] for row in rows)


@pytest.mark.parametrize(
    ("order", "index"), [("newest", "ix_comment_thread_newest"), ("hot", "ix_comment_thread_hot")]
)
def test_first_and_deep_pages_are_index_range_scans(session, article, make_reader, captured, order, index):
    bulk_comments(session, article, make_reader(), 45, likes=lambda n: n % 4)
    walk(session, article, order)
    first, *_, deep = captured.thread_queries()
    for statement, parameters in (first, deep):
        steps = plan(session, statement, parameters)
        assert f"USING INDEX {index}" in steps or f"USING COVERING INDEX {index}" in steps, steps
        assert "TEMP B-TREE" not in steps, steps
        assert "SCAN" not in steps, steps
    # The deep page starts inside the index (a keyset range), not by skipping rows.
    assert re.search(r"<\(?\?", plan(session, *deep)), plan(session, *deep)


def test_page_200_of_10000_comments_costs_what_page_1_costs(session, article, make_reader, captured):
    bulk_comments(session, article, make_reader(), 10_000, likes=lambda n: n % 50)
    for order in ("newest", "hot"):
        captured.seen.clear()
        cursor, page = None, []
        for _ in range(200):
            page, cursor = comments.thread_page(session, article_id=article.id, order=order, cursor=cursor)
        assert len(page) == 20 and cursor is not None
        queries = captured.thread_queries()
        assert len(queries) == 200
        first_plan, deep_plan = plan(session, *queries[0]), plan(session, *queries[-1])
        for steps in (first_plan, deep_plan):
            assert "TEMP B-TREE" not in steps and "SCAN" not in steps, steps
        # The same plan shape for page 1 and page 200, but for the range condition.
        assert first_plan.split(" (")[0] == deep_plan.split(" (")[0]
        statement, parameters = queries[-1]
        assert len(session.connection().exec_driver_sql(statement, parameters).all()) == 21  # 20 + "more?"


# --- replies: previews and the rest ---------------------------------------------------------------


def test_reply_previews_hold_at_most_three_per_parent_oldest_first(session, article, make_reader, moderator):
    first = approved(session, article, make_reader(), "第一條頂樓", moderator)
    second = approved(session, article, make_reader(), "第二條頂樓", moderator)
    replies = [
        approved(
            session,
            article,
            make_reader(),
            f"第{n}條回覆",
            moderator,
            at=NOW + timedelta(minutes=n),
            reply_to=first.id,
        )
        for n in range(5)
    ]
    pending = post(session, article, make_reader(), "待審的回覆", reply_to=second.id)
    only = approved(session, article, make_reader(), "唯一的回覆", moderator, reply_to=second.id)
    previews = comments.reply_previews(session, [first.id, second.id])
    assert {k: [c.id for c in v] for k, v in previews.items()} == {
        first.id: [r.id for r in replies[:3]],
        second.id: [only.id],
    }
    assert pending.id not in [c.id for v in previews.values() for c in v]
    assert comments.reply_previews(session, []) == {}


def test_replies_after_continues_after_the_previews(session, article, make_reader, moderator):
    top = approved(session, article, make_reader(), "頂樓", moderator)
    replies = [
        approved(
            session,
            article,
            make_reader(),
            f"第{n}條回覆",
            moderator,
            at=NOW + timedelta(minutes=n),
            reply_to=top.id,
        )
        for n in range(7)
    ]
    shown = comments.reply_previews(session, [top.id])[top.id]
    after = Cursor(shown[-1].created_at, shown[-1].id)
    rest, more = comments.replies_after(session, parent=top, after=after, size=3)
    assert [c.id for c in rest] == [r.id for r in replies[3:6]]
    last, more = comments.replies_after(session, parent=top, after=more, size=3)
    assert ([c.id for c in last], more) == ([replies[6].id], None)


# --- what the author sees -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "reason", "label"),
    [
        (CommentStatus.PENDING, "", "審核中"),
        (CommentStatus.APPROVED, "", "已發布"),
        (CommentStatus.REJECTED, "R08", "未通過審核：侮辱誹謗、人身攻擊"),
        (CommentStatus.HIDDEN, "", "已暫時隱藏，等待處理"),
        (CommentStatus.DELETED, "R13", "已刪除：廣告、商業招攬、聯繫方式"),
        (CommentStatus.DELETED, "", "已刪除"),
    ],
)
def test_state_labels_of_pledge_rules_section_4(status, reason, label):
    assert comments.state_label(Comment(status=status, reason_code=reason)) == label


def test_a_moderator_rejection_shows_its_reason_to_the_author(session, article, make_reader, moderator):
    comment = post(session, article, make_reader(), "待審的評論")
    moderation.reject(session, comment=comment, moderator=moderator, reason_code="R08", now=NOW)
    assert comments.state_label(comment) == "未通過審核：侮辱誹謗、人身攻擊"


def test_own_unpublished_shows_the_authors_pending_and_hidden_comments_only(
    session, article, make_reader, moderator
):
    alice = make_reader()
    pending = post(session, article, alice, "待審的評論")
    public = approved(session, article, alice, "公開的評論", moderator, at=NOW + timedelta(seconds=20))
    hidden = approved(session, article, alice, "被隱藏的評論", moderator, at=NOW + timedelta(seconds=40))
    comments.set_status(session, hidden, CommentStatus.HIDDEN, now=NOW)
    post(session, article, make_reader(), "別人的待審評論")
    own = comments.own_unpublished(session, article_id=article.id, author_id=alice.id)
    assert [c.id for c in own] == [hidden.id, pending.id]
    assert public.id not in [c.id for c in own]


# --- the author's record ---------------------------------------------------------------------------


def recount(session, user) -> tuple[int, int, int]:
    """The author's record counted the slow way, to hold the kept counters against."""

    def count(*where):
        return session.scalar(
            select(func.count()).select_from(Comment).where(Comment.author_id == user.id, *where)
        )

    reports = session.scalar(
        select(func.count()).select_from(Report).join(Comment).where(Comment.author_id == user.id)
    )
    return (
        count(Comment.status == CommentStatus.APPROVED),
        # What a moderator took down; what the author deleted themselves is no rejection.
        count(
            or_(
                Comment.status == CommentStatus.REJECTED,
                and_(
                    Comment.status == CommentStatus.DELETED,
                    or_(Comment.decided_by_id.is_(None), Comment.decided_by_id != user.id),
                ),
            )
        ),
        reports,
    )


def test_the_authors_record_follows_every_change_of_state_and_every_report(session, article, make_reader):
    author = make_reader()
    kept = []
    for n, path in enumerate(
        [
            [CommentStatus.APPROVED],
            [CommentStatus.APPROVED, CommentStatus.HIDDEN],
            [CommentStatus.APPROVED, CommentStatus.HIDDEN, CommentStatus.APPROVED],
            [CommentStatus.REJECTED],
            [CommentStatus.APPROVED, CommentStatus.DELETED],
            [],
        ]
    ):
        comment = post(session, article, author, f"第{n}條有內容的評論", at=NOW + timedelta(minutes=n))
        for status in path:
            comments.set_status(session, comment, status, now=NOW)
        kept.append(comment)
    for n in range(2):  # the author's own deletions: of a published comment and of a pending one
        own = post(session, article, author, f"作者自己刪除的第{n}條評論", at=NOW + timedelta(minutes=10 + n))
        if n == 0:
            comments.set_status(session, own, CommentStatus.APPROVED, now=NOW)
        comments.delete_own(session, comment=own, author=author, now=NOW + timedelta(minutes=12))
    report(session, kept[0], make_reader())
    report(session, kept[0], make_reader())
    session.commit()
    session.refresh(author)
    counters = (author.approved_comments, author.rejected_comments, author.reports_received)
    assert counters == recount(session, author) == (2, 2, 2)
    assert comments.tier_of(session, author, now=NOW) == comments.tier_from(author, 2, now=NOW)


def test_p25_a_reader_with_a_violation_upheld_in_the_last_30_days_is_not_yet_good(
    session, article, make_reader, moderator
):
    """良好 asks for credit ≥ 30 and no upheld violation in 30 days: a rejection yesterday keeps a
    high-credit reader 普通 (quota 20, not 50); their own deletion does not count, and 31 days on the
    rejection no longer does. The queue's tier for the author says the same."""
    author = make_reader("老讀者")
    author.approved_comments, author.credit = 12, 35
    own = post(session, article, author, "作者自己刪掉的一條評論")
    comments.delete_own(session, comment=own, author=author, now=NOW)
    session.flush()
    assert comments.tier_of(session, author, now=NOW) == comments.TIER_GOOD
    refused = post(session, article, author, "一條被審核員拒絕的評論", at=NOW + timedelta(minutes=1))
    moderation.reject(session, comment=refused, moderator=moderator, reason_code="R08", now=NOW)
    author.credit = 35  # still high enough on its own: the violation is what counts
    session.flush()
    assert comments.tier_of(session, author, now=NOW + timedelta(days=1)) == comments.TIER_NORMAL
    queue_tier = moderation.author_records(session, [author], now=NOW + timedelta(days=1))[author.id].tier
    assert queue_tier == comments.TIER_NORMAL
    assert comments.tier_of(session, author, now=NOW + timedelta(days=31)) == comments.TIER_GOOD


def test_an_author_deleting_a_reported_comment_closes_its_reports_and_tells_the_reporters(
    session, article, make_reader, moderator
):
    """Nothing is left to rule on and no tab lists the reports of a deleted comment: they close as
    評論已被作者刪除, each reporter is told, the record names them, and the reports tab is empty."""
    author, first, second = make_reader(), make_reader(), make_reader()
    comment = approved(session, article, author, "被兩位讀者舉報的評論", moderator)
    report(session, comment, first)
    report(session, comment, second)
    assert moderation.tab_counts(session, None)["reported"] == 1
    comments.delete_own(session, comment=comment, author=author, now=NOW + timedelta(minutes=3))
    session.flush()
    reports = session.scalars(select(Report).where(Report.comment_id == comment.id)).all()
    assert {(r.status, r.resolved_at) for r in reports} == {("withdrawn", NOW + timedelta(minutes=3))}
    told = session.scalars(
        select(Notification.user_id).where(Notification.text == "您舉報的評論已處理：評論已被作者刪除")
    ).all()
    assert sorted(told) == sorted([first.id, second.id])
    record = session.scalars(
        select(ModerationAction).where(ModerationAction.action == "comment.deleted_by_author")
    ).one()
    assert json.loads(record.after)["reports_closed"] == sorted(r.id for r in reports)
    assert moderation.tab_counts(session, None)["reported"] == 0


def test_the_wait_before_the_next_post_is_said_in_seconds_then_in_whole_minutes():
    assert comments.too_fast(15) == "發言過於頻繁，請15秒後再試"
    assert comments.too_fast(90) == "發言過於頻繁，請90秒後再試"
    assert comments.too_fast(91) == "發言過於頻繁，請2分鐘後再試"
    assert comments.too_fast(2874) == "發言過於頻繁，請48分鐘後再試"
    assert comments.too_many_reports(3600) == "舉報過於頻繁，請60分鐘後再試"
