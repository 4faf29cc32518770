"""Crafted values for the fields a form offers as a list or takes as a number or a time (a select
edited in the browser's tools, a replayed request): every such form, as the role that uses it,
answers with the form again and a message that names the field, in Chinese, never WTForms'
generic 「不是有效的選擇。」 nor its English, and never a 500."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from portal.extensions import db
from portal.models import Section
from tests.helpers import HX, parse_html, text_of
from tests.views.test_admin import article_data, page_data, section_data, settings_data, staff_data, word_data
from tests.views.test_moderation import Desk, desk, make_targets  # noqa: F401 (desk is a fixture)

# WTForms' messages that name no field, in the catalogue's Chinese and in English.
GENERIC = (
    "不是有效的選擇",
    "不是此欄位的有效選擇",
    "無效的選擇",
    "無法強制轉化",
    "不是有效的整數值",
    "不是有效的日期",
    "數字必須",
    "此欄位是必需的",
    "欄位長度",
    "Not a valid",
    "is not a valid choice",
    "Invalid",
    "could not coerce",
    "This field is required",
    "Number must be",
    "Field must be",
)


@dataclass(frozen=True)
class Case:
    role: str
    path: str  # formatted with the targets: {user_id}, {pending_id}, ...
    base: dict  # what makes the rest of the form valid
    crafted: dict
    says: str
    fragment: str = ""  # the htmx answer's root id, for forms that post with htmx

    @property
    def id(self) -> str:
        return f"{self.role} {self.path} {self.crafted}"


def case(role: str, path: str, base: dict, says: str, fragment: str = "", /, **crafted) -> Case:
    return Case(role, path, base, crafted, says, fragment)


ARTICLE = article_data(0) | {"section_id": "{section_id}"}
CASES = [
    # admin: sections, articles, pages, settings, words, users
    case("admin", "/admin/sections/new", section_data(), "請選擇有效的版式。", layout="grid"),
    case("admin", "/admin/sections/new", section_data(), "排序須填寫整數。", position="abc"),
    case("admin", "/admin/sections/new", section_data(), "排序須介於0至1000之間。", position=str(2**70)),
    case("admin", "/admin/sections/new", section_data(), "排序須介於0至1000之間。", position="-1"),
    case(
        "admin",
        "/admin/sections/new",
        section_data(),
        "發布多少天後自動關閉評論須填寫整數。",
        auto_close_days="7天",
    ),
    case("admin", "/admin/sections/new", section_data(), "上級欄目不存在", parent_id="abc"),
    case("admin", "/admin/sections/new", section_data(), "上級欄目不存在", parent_id=str(2**70)),
    case("admin", "/admin/articles/new", ARTICLE, "請選擇有效的文章類型。", kind="podcast"),
    case("admin", "/admin/articles/new", ARTICLE, "請選擇有效的發布狀態。", state="live"),
    case("admin", "/admin/articles/new", ARTICLE, "請選擇有效的評論狀態。", comments_state="maybe"),
    case("admin", "/admin/articles/new", ARTICLE, "請填寫有效的發布時間。", published_at="2026-13-45T99:99"),
    case("admin", "/admin/articles/new", ARTICLE, "請選擇欄目", section_id="abc"),
    case("admin", "/admin/articles/new", ARTICLE, "請選擇欄目", section_id=str(2**70)),
    case("admin", "/admin/articles/new", ARTICLE, "所選的媒體不存在或類型不符", cover_id="abc"),
    case("admin", "/admin/articles/new", ARTICLE, "所選的媒體不存在或類型不符", player_id=str(2**70)),
    case("admin", "/admin/pages/new", page_data(), "排序須填寫整數。", position="1e3"),
    case("admin", "/admin/settings", settings_data(), "新用戶每日評論上限須填寫整數。", quota_new="many"),
    case(
        "admin",
        "/admin/settings",
        settings_data(),
        "記錄保存天數須介於184至3650之間。",
        retention_days=str(2**70),
    ),
    case("admin", "/admin/settings", settings_data(), "請選擇有效的短信發送方式。", sms_sender="os:system"),
    case(
        "admin",
        "/admin/settings",
        settings_data(),
        "請選擇有效的IP屬地數據庫。",
        region_database="/etc/passwd",
    ),
    case("admin", "/admin/words/new", word_data(), "請選擇有效的類別。", categories=["C99"]),
    case("admin", "/admin/words/new", word_data(), "請選擇有效的處理方式。", action="delete"),
    case("admin", "/admin/users/{user_id}", {}, "請選擇有效的角色。", role="superuser"),
    case("admin", "/admin/users/{user_id}", {"role": "moderator"}, "請從列表中選擇欄目", sections=["abc"]),
    case("admin", "/admin/users", staff_data(), "請選擇有效的角色。", role="reader"),
    # the moderation desk
    case(
        "moderator",
        "/moderation/comments/{pending_id}/decision",
        {"return_to": "/moderation/"},
        "請選擇處理方式",
        "queue-row-{pending_id}",
        decision="explode",
    ),
    case(
        "moderator",
        "/moderation/comments/{pending_id}/decision",
        {"decision": "reject"},
        "請選擇處理理由",
        "queue-row-{pending_id}",
        reason="R99",
    ),
    case(
        "moderator",
        "/moderation/comments/{reported_id}/reports",
        {},
        "請選擇裁定結果",
        "queue-row-{reported_id}",
        ruling="maybe",
    ),
    case("moderator", "/moderation/bulk", {"decision": "approve"}, "請先勾選評論", ids=["abc"]),
    case("moderator", "/moderation/bulk", {"ids": ["{pending_id}"]}, "請選擇處理方式", decision="x"),
    case(
        "moderator",
        "/moderation/users/{user_id}/measures",
        {"measure": "mute", "reason": "R08"},
        "請選擇有效的禁言天數。",
        days="5",
    ),
    case(
        "moderator",
        "/moderation/users/{user_id}/measures",
        {"reason": "R08"},
        "請選擇有效的措施。",
        measure="ban",
    ),
    case(
        "moderator",
        "/moderation/users/{user_id}/measures",
        {"measure": "warning"},
        "請選擇有效的理由。",
        reason="R99",
    ),
    case("moderator", "/moderation/appeals/{appeal_id}/ruling", {}, "請選擇有效的裁定。", overturn="2"),
    case(
        "moderator",
        "/moderation/emergency/close",
        {"target_id": "1", "closed": "y"},
        "請選擇有效的範圍。",
        target_type="planet",
    ),
    case(
        "moderator",
        "/moderation/emergency/close",
        {"target_type": "article"},
        "編號須填寫整數。",
        target_id="abc",
    ),
    case(
        "moderator",
        "/moderation/emergency/close",
        {"target_type": "article"},
        "請填寫有效的編號",
        target_id=str(2**70),
    ),
    case("moderator", "/moderation/emergency/hide", {"reason": "R13"}, "用戶編號須填寫整數。", user_id="abc"),
    case("moderator", "/moderation/emergency/hide", {"term": "暗號"}, "請選擇有效的理由。", reason="R99"),
    # readers
    case(
        "reader",
        "/comments/{approved_id}/report",
        {},
        "請選擇舉報理由",
        "report-slot-{approved_id}",
        reason="R99",
    ),
]


def visible_text(html: str) -> str:
    """The page's text, without what its fields hold (a textarea's text is what was sent)."""
    root = parse_html(html)
    for parent in root.iter():
        for child in [c for c in parent if c.tag == "textarea"]:
            parent.remove(child)
    return text_of(root)


def english_words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z]{3,}", text))


@pytest.mark.parametrize("hx", [False, True], ids=["plain", "htmx"])
def test_a_crafted_choice_number_or_time_is_refused_with_a_message_naming_the_field(desk, hx):  # noqa: F811
    targets = make_targets(desk, "yaowen")
    with desk.app.app_context():
        section_id = db.session.scalar(db.select(Section.id).where(Section.slug == "yaowen"))
    values = {**vars(targets), "section_id": section_id}
    baseline: dict[str, set[str]] = {}
    failures = []
    for crafted in CASES:
        path = crafted.path.format(**values)
        data = {
            key: ([v.format(**values) for v in value] if isinstance(value, list) else value.format(**values))
            for key, value in {**crafted.base, **crafted.crafted}.items()
        }
        try:  # TESTING lets an unhandled error through: it would be a 500 in production
            response = desk.post(crafted.role, path, data, headers=HX if hx else {})
        except Exception as error:
            failures.append(f"{crafted.id}: 500 ({type(error).__name__}: {error})")
            continue
        html = response.get_data(as_text=True)
        text = visible_text(html)
        problems = []
        if response.status_code != 422:
            problems.append(f"status {response.status_code}")
        if crafted.says not in text:
            problems.append(f"no 「{crafted.says}」")
        if generic := [g for g in GENERIC if g in html]:
            problems.append(f"generic {generic}")
        # No English beyond what the form's own page says anyway (CSV, Markdown, GeoLite2, ...).
        if (path, crafted.role) not in baseline:
            clean = desk.get(crafted.role, _page_of(path))
            baseline[(path, crafted.role)] = english_words(visible_text(clean.get_data(as_text=True)))
        if leaked := english_words(text) - baseline[(path, crafted.role)]:
            problems.append(f"English {sorted(leaked)}")
        if hx and crafted.fragment:
            root = crafted.fragment.format(**values)
            if "<html" in html or not re.match(rf'\s*<[a-z]+[^>]*\bid="{root}"', html):
                problems.append(f"not the #{root} fragment")
        if problems:
            failures.append(f"{crafted.id}: {'; '.join(problems)}")
    assert not failures, "\n".join(failures)


def _page_of(path: str) -> str:
    """The page a form posts from, for what English it says anyway."""
    if path.startswith("/moderation/comments") or path == "/moderation/bulk":
        return "/moderation/"
    if path.startswith("/moderation/appeals"):
        return "/moderation/?tab=appeals"
    if path.startswith("/moderation/emergency"):
        return "/moderation/emergency"
    if path.startswith("/moderation/users"):
        return path.rsplit("/", 1)[0]
    return path


def test_every_form_with_a_choice_number_or_time_is_covered(app):
    """A new form with such a field gets a case here the day it appears."""
    from wtforms import DateTimeLocalField, IntegerField, SelectField, SelectMultipleField

    import portal.accounts.forms
    import portal.admin.forms
    import portal.comments.forms
    import portal.moderation.forms
    from portal.forms import Form

    kinds = (SelectField, SelectMultipleField, IntegerField, DateTimeLocalField)
    forms = {
        cls.__name__
        for module in (
            portal.accounts.forms,
            portal.admin.forms,
            portal.comments.forms,
            portal.moderation.forms,
        )
        for cls in vars(module).values()
        if isinstance(cls, type)
        and issubclass(cls, Form)
        and any(
            isinstance(getattr(cls, name, None), type) is False
            and getattr(getattr(cls, name, None), "field_class", None) in kinds
            for name in dir(cls)
        )
    }
    covered = {
        "SectionForm", "ArticleForm", "PageForm", "SettingsForm", "WordForm", "UserAccessForm",
        "StaffForm", "DecisionForm", "BulkForm", "ReportRulingForm", "MeasureForm",
        "AppealRulingForm", "CloseForm", "BulkHideForm", "ReportForm",
    }  # fmt: skip
    assert forms == covered
