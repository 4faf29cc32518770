"""The queue's tab counts stop at 1,000 (shown 999+), so a page's cost does not grow with the queue."""

from sqlalchemy import insert

from portal.domain.moderation import COUNT_CAP, tab_counts
from portal.models import Comment, User, utc_now
from tests.factories import make_article, make_section


def _pending(session, count: int) -> None:
    author = User(nickname="寫手", phone_cipher=b"x", phone_hmac="h", password_hash="x", session_token="t")
    session.add(author)
    article = make_article(session, make_section(session))
    session.flush()
    session.execute(
        insert(Comment),
        [
            {
                "article_id": article.id,
                "author_id": author.id,
                "body": f"待審{n}",
                "status": "pending",
                "created_at": utc_now(),
            }
            for n in range(count)
        ],
    )


def test_counts_below_the_cap_are_exact(session):
    _pending(session, 37)
    assert tab_counts(session, None)["pending"] == 37


def test_counts_stop_at_the_cap(session):
    _pending(session, COUNT_CAP + 25)
    assert tab_counts(session, None)["pending"] == COUNT_CAP
