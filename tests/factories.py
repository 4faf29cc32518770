"""Rows for tests, added to a session and flushed; the test commits if it needs to."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count

from sqlalchemy.orm import Session

from portal.domain.pii import PhoneVault
from portal.domain.sanitize import html_to_text, markdown_to_html
from portal.models import Article, ArticleState, Page, Section, SensitiveWord, User, utc_now

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
    body_html = overrides.pop("body_html", None)
    if body_html is None:  # as saving renders it; a test may give what an older version stored
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


# A body as it was stored before the sanitizer dropped hidden elements with their content: bleach
# stripped the <style> and <script> tags and kept what was inside as text.
STYLE_BODY_MD = "<style>p{color:red}</style>\n\n東昌湖畔柳色新"
STYLE_BODY_HTML_BEFORE = "p{color:red}\n\n<p>東昌湖畔柳色新</p>"
SCRIPT_BODY_MD = '## 交通提示\n\n<script>document.write("廣告")</script>\n\n週末東關大街臨時封閉'
SCRIPT_BODY_HTML_BEFORE = '<h2>交通提示</h2>\ndocument.write("廣告")\n\n<p>週末東關大街臨時封閉</p>'


def make_article_as_stored_before_the_fix(session: Session, section: Section, **overrides) -> Article:
    """An article whose stored body shows the CSS of a pasted <style> as text."""
    return make_article(
        session, section, **{"body_md": STYLE_BODY_MD, "body_html": STYLE_BODY_HTML_BEFORE, **overrides}
    )


def make_page_as_stored_before_the_fix(session: Session, **overrides) -> Page:
    """A static page whose stored body shows the JavaScript of a pasted <script> as text."""
    n = next(_numbers)
    fields = {"slug": f"page-{n}", "title": f"頁面{n}", "body_md": SCRIPT_BODY_MD, **overrides}
    page = Page(body_html=SCRIPT_BODY_HTML_BEFORE, **fields)
    session.add(page)
    session.flush()
    return page


def make_word_as_stored_before_the_fix(session: Session, term: str, action: str = "block") -> SensitiveWord:
    """A word-list entry written as saving it once allowed: 「re:.」 as a block pattern."""
    word = SensitiveWord(term=term, categories="C12", action=action, pinyin=False)
    session.add(word)
    session.flush()
    return word


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
