"""The word list as admins edit it: the form and the CSV import keep one entry per folded form
(PLEDGE_RULES §6.2), so the list's own export always imports again."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.domain.errors import Rejected
from portal.domain.sensitive_words import current_entries, import_csv, save_word
from portal.domain.wordlist import parse_word_csv, to_csv
from portal.models import Role, SensitiveWord, User, utc_now

HEADER = "term,category,action,pinyin\n"


@pytest.fixture
def admin(session):
    user = User(nickname="管理甲", phone_cipher=b"-", phone_hmac="admin", password_hash="-", role=Role.ADMIN)
    session.add(user)
    session.flush()
    return user


def terms(session) -> list[str]:
    return list(session.scalars(select(SensitiveWord.term).order_by(SensitiveWord.id)))


@pytest.mark.parametrize(
    ("held", "typed"),
    [("赌博", "賭博"), ("casino", "ＣＡＳＩＮＯ"), ("代开发票", "代 开 发 票")],
)
def test_an_import_refuses_a_term_the_list_holds_in_another_form(session, admin, held, typed):
    import_csv(session, text=f"{HEADER}{held},C8,block,no\n", actor=admin, now=utc_now())
    text = f"{HEADER}好詞語,C12,review,no\n{typed},C8,review,no\n"
    with pytest.raises(Rejected) as refused:
        import_csv(session, text=text, actor=admin, now=utc_now())
    assert refused.value.field == "file"
    assert (
        refused.value.message
        == f"第3行：與詞庫中已有的「{held}」相同（繁簡、全半形、大小寫或空格不同也算相同）"
    )
    session.rollback()
    assert terms(session) == []  # the refused file added nothing (rolled back by the caller)


def test_the_export_after_imports_imports_again(session, admin):
    import_csv(session, text=f"{HEADER}赌博,C8,block,yes\n", actor=admin, now=utc_now())
    with pytest.raises(Rejected):
        import_csv(session, text=f"{HEADER}賭博,C8,block,yes\n", actor=admin, now=utc_now())
    exported = to_csv(current_entries(session))
    assert [e.term for e in parse_word_csv(exported)] == ["赌博"]
    report = import_csv(session, text=exported, actor=admin, now=utc_now())
    assert (report.added, report.changed, report.unchanged) == ([], [], 1)


def test_an_import_still_changes_an_entry_named_exactly(session, admin):
    import_csv(session, text=f"{HEADER}赌博,C8,block,no\n", actor=admin, now=utc_now())
    report = import_csv(session, text=f"{HEADER}赌博,C8,review,no\n", actor=admin, now=utc_now())
    assert report.changed == ["赌博"]
    assert [(e.term, e.action) for e in current_entries(session)] == [("赌博", "review")]


@pytest.mark.parametrize(
    ("term", "categories", "action", "pinyin", "field", "message"),
    [
        ("測試詞", "", "block", False, "categories", "請至少選擇一個類別"),
        ("測試詞", "", "review", False, "categories", "請至少選擇一個類別"),
        (
            "聊城賭場路",
            "C8",
            "allow",
            False,
            "categories",
            "放行（allow）詞條不屬於任何類別，請取消所選的類別",
        ),
        (
            "re:刷(单|票)",
            "C14",
            "review",
            True,
            "pinyin",
            "正則表達式和放行（allow）詞條不能同時匹配拼音，請取消勾選",
        ),
        (
            "聊城賭場路",
            "",
            "allow",
            True,
            "pinyin",
            "正則表達式和放行（allow）詞條不能同時匹配拼音，請取消勾選",
        ),
    ],
)
def test_the_word_form_says_which_choice_does_not_fit(
    session, admin, term, categories, action, pinyin, field, message
):
    with pytest.raises(Rejected) as refused:
        save_word(
            session,
            word=None,
            term=term,
            categories=categories,
            action=action,
            pinyin=pinyin,
            actor=admin,
            now=utc_now(),
        )
    assert (refused.value.field, refused.value.message) == (field, message)
    assert terms(session) == []


def test_the_word_form_still_saves_what_fits(session, admin):
    for term, categories, action, pinyin in [
        ("赌博", "C8", "block", True),
        ("聊城賭場路", "", "allow", False),
    ]:
        save_word(
            session,
            word=None,
            term=term,
            categories=categories,
            action=action,
            pinyin=pinyin,
            actor=admin,
            now=utc_now(),
        )
    assert terms(session) == ["赌博", "聊城賭場路"]
