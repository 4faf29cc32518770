"""Crafted requests to every route of app.url_map, as anonymous, a reader, a moderator and an admin,
with a valid CSRF token so that the views' own code runs: ids beyond 64 bits, negative and
non-numeric ids, NUL, 100 KB strings, lone surrogates and invalid UTF-8 percent-encoding,
duplicated parameters, arrays where one value is expected, missing fields. Nothing answers 500
and nothing answers in English (the hostile comment texts are tests/hostile_corpus.py's, posted
in tests/views/test_hostile_comments.py)."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from tests.conftest import TEST_PASSWORD
from tests.helpers import HX, parse_html, text_of
from tests.views.test_moderation import Desk, desk, make_targets  # noqa: F401 (desk is a fixture)

ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
SAFE = {"GET", "HEAD", "OPTIONS"}
BIG = str(2**64)

# Every field name a form of the site reads (a view reads only its own).
FIELDS = (  # noqa: SIM905 (a list of 90 quoted names would not read)
    "body reply_to note reason decision ids ruling measure days overturn target_type target_id closed "
    "user_id ip_prefix term format return_to next phone code nickname password accept_terms text "
    "name slug parent_id position description layout hidden comments_closed auto_close_days "
    "title section_id source published_at reporters editor editor_note summary body_md kind state "
    "comments_state cover_id player_id gallery_ids related_ids edit_stamp caption credit in_footer "
    "site_name site_description footer_copyright footer_licences report_phone report_email "
    "comment_min_length comment_max_length comment_cooldown_seconds comment_ip_hourly quota_new "
    "quota_normal quota_good quota_restricted comment_edit_minutes report_hide_threshold retention_days "
    "region_database sms_sender categories action pinyin role sections can_view_pii q after order date "
    "tab section article flag new since until ip actor current_password new_password phone_password "
    "deregister_password confirm confirmed"
).split()

LONG = "a" * 100_000  # one 100 KB string: over the 64 KiB request cap in a POST (413), in a GET's query

# A value for every field at once: (label, raw application/x-www-form-urlencoded body).
VALUES = {
    "beyond 64 bits": quote(BIG),
    "negative": "-1",
    "not a number": "abc",
    "NUL": "a%00b",
    "invalid UTF-8": "%ff%fe",
    "lone surrogate": "%ed%a0%80",
    "empty": "",
    "100 KB": LONG,
}
SHAPED = ("beyond 64 bits", "not a number", "lone surrogate")
# Writes that end the session the walk goes on with.
SIGNS_OUT = {"accounts.logout", "accounts.logout_everywhere"}


def _body(value: str, *, twice: bool = False, array: bool = False) -> str:
    if value is LONG:
        return f"q={LONG}&after={LONG}&body={LONG}"
    pairs = []
    for name in FIELDS:
        key = f"{name}%5B%5D" if array else name
        pairs.append(f"{key}={value}")
        if twice:
            pairs.append(f"{key}=1")
    return "&".join(pairs)


def _path_values(rule, t, value: str) -> str:
    """The rule with `value` in every argument (ids) or a plausible target's id."""

    def one(match):
        converter, name = match.group(1), match.group(2)
        if converter == "any":
            return sorted(rule._converters[name].items)[0]
        if value is not None and converter == "int":
            return value
        return {
            "comment_id": t.pending_id,
            "article_id": t.article_id,
            "user_id": t.user_id,
            "sanction_id": t.sanction_id,
            "appeal_id": t.appeal_id,
            "action_id": t.bulk_action_id,
            "slug": t.section,
            "target": "hans",
            "filename": "missing.jpg",
        }.get(name, 1)

    return ARGUMENT.sub(lambda m: str(one(m)), rule.rule)


ENGLISH = re.compile(
    r"Not a valid|is not a valid|Invalid|could not|This field|Number must|Field must|Internal Server|"
    r"Bad Request|Not Found|Method Not Allowed|Forbidden|Traceback|Request Entity"
)


@pytest.mark.parametrize("role", ["anonymous", "reader", "moderator", "admin"])
def test_every_route_answers_crafted_input_below_500_and_in_chinese(desk, role):  # noqa: F811
    targets = make_targets(desk, "yaowen")
    client = desk.client(role)
    token = desk.token(role)
    failures, answered = [], 0
    rules = [r for r in desk.app.url_map.iter_rules() if r.endpoint != "static"]
    for rule in rules:
        if rule.endpoint in SIGNS_OUT:
            continue
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        has_int = "int" in [c for c, _ in ARGUMENT.findall(rule.rule)]
        plausible = _path_values(rule, targets, None)
        # Every value plainly; the shapes and the htmx variant with the values most likely to
        # reach different code (the walk runs on two databases, so it stays a few thousand calls).
        calls = [(plausible, label, "plain", {}) for label in VALUES]
        calls += [(plausible, label, shape, {}) for label in SHAPED for shape in ("twice", "array")]
        calls += [(plausible, label, "plain", HX) for label in SHAPED]
        if has_int:
            calls += [(_path_values(rule, targets, v), "empty", "plain", {}) for v in (BIG, str(2**63), "0")]
            calls += [(_path_values(rule, targets, BIG), "empty", "plain", HX)]
        for method in methods:
            for path, label, shape, headers in calls:
                body = _body(VALUES[label], twice=shape == "twice", array=shape == "array")
                if method in SAFE:
                    kwargs = {"query_string": body}
                else:
                    kwargs = {
                        "data": f"csrf_token={token}&{body}".encode(),
                        "content_type": "application/x-www-form-urlencoded",
                    }
                where = f"{method} {path} [{label}, {shape}]{' HX' if headers else ''}"
                try:  # TESTING lets an unhandled error through: a 500 in production
                    response = client.open(path, method=method, headers=headers, **kwargs)
                    html = response.get_data(as_text=True)
                except Exception as error:
                    failures.append(f"{where} → 500 ({type(error).__name__}: {error})"[:300])
                    continue
                answered += 1
                if response.status_code >= 500:
                    failures.append(f"{where} → {response.status_code}")
                elif response.mimetype == "text/html" and (leak := ENGLISH.search(text_of(parse_html(html)))):
                    failures.append(f"{where} → English 「{leak.group(0)}」")
    assert answered > 1000
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(sorted(set(failures))[:80])


def _valid_forms(t, section_id: int) -> dict[tuple[str, str], dict]:
    """(role, path) → a form that passes, so that one crafted field reaches the code behind it."""
    from tests.views.test_admin import article_data, page_data, section_data, settings_data, word_data

    return {
        ("moderator", f"/moderation/comments/{t.pending_id}/decision"): {
            "decision": "reject",
            "reason": "R08",
        },
        ("moderator", "/moderation/bulk"): {"ids": str(t.pending_id), "decision": "reject", "reason": "R08"},
        ("moderator", f"/moderation/comments/{t.reported_id}/reports"): {"ruling": "upheld", "reason": "R08"},
        ("moderator", f"/moderation/users/{t.user_id}/measures"): {
            "measure": "mute",
            "days": "1",
            "reason": "R08",
        },
        ("moderator", f"/moderation/appeals/{t.appeal_id}/ruling"): {"overturn": "0", "note": "維持"},
        ("moderator", "/moderation/emergency/close"): {
            "target_type": "article",
            "target_id": str(t.article_id),
        },
        ("moderator", "/moderation/emergency/hide"): {
            "term": t.term,
            "reason": "R13",
            "user_id": str(t.user_id),
        },
        ("moderator", "/moderation/log/export"): {"format": "csv", "since": "2026-01-01", "actor": "1"},
        ("reader", f"/comments/{t.approved_id}/report"): {"reason": "R08", "note": "罵人"},
        ("reader", f"/articles/{t.article_id}/comments"): {
            "body": "這篇報道寫得很清楚",
            "reply_to": str(t.approved_id),
        },
        ("admin", "/admin/sections/new"): section_data(parent_id=str(section_id)),
        ("admin", "/admin/articles/new"): article_data(section_id, related_ids="1", gallery_ids="1"),
        ("admin", "/admin/pages/new"): page_data(),
        ("admin", "/admin/settings"): settings_data(),
        ("admin", "/admin/words/new"): word_data(),
        ("admin", "/admin/words/test"): {"text": "賭博"},
        ("admin", f"/admin/users/{t.user_id}"): {"role": "moderator", "sections": str(section_id)},
        ("admin", "/admin/users"): {
            "phone": "13811112222",
            "nickname": "夜班",
            "password": "night-shift-2026",
            "role": "moderator",
        },
        ("admin", f"/admin/users/{t.user_id}/password"): {"password": "a-new-password-1"},
        ("admin", f"/admin/users/{t.user_id}/disable"): {"note": "測試", "confirmed": "1"},
        # 賬號設置 (註銷 is left to the whole walk above: a valid one would end the reader's account).
        ("reader", "/accounts/settings/nickname"): {"nickname": "湖畔讀報人"},
        ("reader", "/accounts/settings/password"): {
            "current_password": TEST_PASSWORD,
            "new_password": "a-new-password-1",
        },
        ("reader", "/accounts/settings/phone/code"): {"phone": "13912340009"},
        ("reader", "/accounts/settings/phone"): {
            "phone": "13912340009",
            "code": "123456",
            "phone_password": TEST_PASSWORD,
        },
    }


def _listed(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


ONE_FIELD = {
    "beyond 64 bits": BIG,
    "2**63": str(2**63),
    "negative": "-1",
    "not a number": "abc",
    "NUL": "a\x00b",
    "lone surrogate": "%ed%a0%80",
    "invalid UTF-8": "%ff",
    "empty": "",
}


TWICE = ("beyond 64 bits", "not a number")  # the values also sent beside the field's valid one


@pytest.mark.parametrize("hx", [False, True], ids=["plain", "htmx"])
def test_one_crafted_field_in_an_otherwise_valid_form_answers_below_500(desk, hx):  # noqa: F811
    """Every field of a form that passes gets each crafted value in turn (some also twice)."""
    from portal.extensions import db
    from portal.models import Section

    targets = make_targets(desk, "yaowen")
    with desk.app.app_context():
        section_id = db.session.scalar(db.select(Section.id).where(Section.slug == "yaowen"))
    failures, answered = [], 0
    for (role, path), form in _valid_forms(targets, section_id).items():
        client, token = desk.client(role), desk.token(role)
        for name in form:
            for label, value in ONE_FIELD.items():
                for twice in (False, True) if label in TWICE else (False,):
                    encoded = value if "%" in value else quote(value)
                    pairs = [f"{k}={quote(v)}" for k, vs in form.items() if k != name for v in _listed(vs)]
                    pairs += [f"{name}={encoded}"] + [
                        f"{name}={quote(v)}" for v in _listed(form[name]) if twice
                    ]
                    body = "&".join([f"csrf_token={token}", *pairs])
                    where = f"{role} POST {path} {name}=[{label}]{' twice' if twice else ''}"
                    try:
                        response = client.post(
                            path,
                            data=body.encode(),
                            content_type="application/x-www-form-urlencoded",
                            headers=HX if hx else {},
                        )
                        html = response.get_data(as_text=True)
                    except Exception as error:
                        failures.append(f"{where} → 500 ({type(error).__name__}: {error})"[:300])
                        continue
                    answered += 1
                    if response.status_code >= 500:
                        failures.append(f"{where} → {response.status_code}")
                    elif response.mimetype == "text/html" and (
                        leak := ENGLISH.search(text_of(parse_html(html)))
                    ):
                        failures.append(f"{where} → English 「{leak.group(0)}」")
    assert answered > 500
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:80])
