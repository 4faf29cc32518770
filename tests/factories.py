"""Rows for tests, added to a session and flushed; the test commits if it needs to."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count

from sqlalchemy.orm import Session

from portal.domain.pii import PhoneVault
from portal.domain.sanitize import html_to_text, markdown_to_html
from portal.models import Article, ArticleState, Section, User, utc_now

_numbers = count(1)


def make_section(session: Session, **overrides) -> Section:
    n = next(_numbers)
    section = Section(**{"slug": f"section-{n}", "name": f"欄目{n}", "position": n, **overrides})
    session.add(section)
    session.flush()
    return section


def make_article(session: Session, section: Section, **overrides) -> Article:
    n = next(_numbers)
    body_md = overrides.pop("body_md", f"第{n}篇測試文章的正文。")
    body_html = markdown_to_html(body_md)
    fields = {
        "title": f"測試文章{n}",
        "source": "聊城日報",
        "published_at": utc_now() - timedelta(hours=n),
        "state": ArticleState.PUBLISHED,
        "body_md": body_md,
        "body_html": body_html,
        "body_text": html_to_text(body_html),
        **overrides,
    }
    article = Article(section=section, **fields)
    session.add(article)
    session.flush()
    return article


def make_account_as_stored_before_the_fixes(
    session: Session, vault: PhoneVault, *, phone: str, nickname: str, **overrides
) -> User:
    """An account as registration stored it before phones were normalised and nicknames cleaned:
    the phone encrypted and hashed exactly as typed (１３８… in full width), the nickname as typed."""
    user = User(
        nickname=nickname,
        phone_cipher=vault.encrypt(phone),
        phone_hmac=vault.lookup_hash(phone),
        phone_verified_at=utc_now(),
        password_hash="argon2-hash-not-used-here",
        **overrides,
    )
    session.add(user)
    session.flush()
    return user


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
