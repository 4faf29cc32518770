"""The record's pages: /moderation/log with filters and keyset pages, the CSV and JSON exports,
evidence holds, the purge and patrol commands, and the dashboard's charts."""

from __future__ import annotations

import ast
import base64
import csv
import hashlib
import importlib
import io
import itertools
import json
import re
from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest
from sqlalchemy import event, func, insert, select, text
from sqlalchemy.exc import IntegrityError

import portal
from portal.domain import audit, records
from portal.extensions import db
from portal.models import (
    Comment,
    CommentStatus,
    EvidenceHold,
    ModerationAction,
    SiteSetting,
    User,
    utc_now,
)
from tests.factories import make_article, make_section
from tests.helpers import HX, find_all, find_one, login, parse_html, text_of, token_for

CHARTS = ("daily", "queue", "decision_time", "reasons", "reports")


@pytest.fixture
def moderator(make_user, client):
    user = make_user("moderator", nickname="值班甲")
    login(client, user.phone, user.password)
    return user


def add_record(app, *, actor_id=None, action="moderation.approve", when=None, **fields) -> int:
    with app.app_context():
        actor = db.session.get(User, actor_id) if actor_id else None
        row = audit.record(db.session, actor=actor, action=action, now=when or utc_now(), **fields)
        db.session.commit()
        return row.id


def count_actions(app, action: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(ModerationAction).where(ModerationAction.action == action)
        )


def row_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'id="log-row-(\d+)"', html)]


# --- who may see it -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/moderation/log", "/moderation/stats", "/moderation/stats/daily.svg"])
def test_anonymous_is_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/accounts/login" in response.headers["Location"]


def test_anonymous_export_is_sent_to_login(client):
    token = token_for(client, "/accounts/login")
    response = client.post("/moderation/log/export", data={"csrf_token": token, "format": "csv"})
    assert response.status_code == 302
    assert "/accounts/login" in response.headers["Location"]


@pytest.mark.parametrize("path", ["/moderation/log", "/moderation/stats", "/moderation/stats/queue.svg"])
def test_reader_gets_403(app, client, make_user, path):
    reader = make_user()
    login(client, reader.phone, reader.password)
    assert client.get(path).status_code == 403


def test_reader_cannot_export_or_hold(app, client, make_user):
    record = add_record(app)
    reader = make_user()
    login(client, reader.phone, reader.password)
    token = token_for(client)
    assert (
        client.post("/moderation/log/export", data={"csrf_token": token, "format": "json"}).status_code == 403
    )
    assert client.post(f"/moderation/log/{record}/hold", data={"csrf_token": token}).status_code == 403
    assert count_actions(app, "records.exported") == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(EvidenceHold)) == 0


# --- the log --------------------------------------------------------------------------------------


def test_log_lists_records_newest_first_with_labels(app, client, moderator):
    now = utc_now()
    older = add_record(
        app,
        actor_id=moderator.id,
        action="moderation.reject",
        when=now - timedelta(hours=2),
        target_type="comment",
        target_id=5,
        reason_code="R08",
        note="<b>罵人</b>",
        before={"status": "pending"},
        after={"status": "rejected"},
        ip="10.0.0.9",
    )
    newer = add_record(app, action="emergency.bulk_hide", when=now, target_type="comments")
    odd = add_record(app, action="mystery.thing", when=now - timedelta(hours=1))
    html = client.get("/moderation/log").get_data(as_text=True)
    assert row_ids(html) == [newer, odd, older]
    rows = {int(tr.get("data-record-id")): tr for tr in find_all(parse_html(html), "tr", cls="log-row")}
    reject = text_of(rows[older])
    assert "不通過" in reject
    assert "值班甲" in reject and "審核員" in reject
    assert "評論 #5" in reject
    assert "侮辱誹謗、人身攻擊" in reject
    assert "狀態：待審 → 未通過" in reject
    assert "10.0.0.9" in reject
    assert "保存在案" in reject
    assert "<b>罵人</b>" in reject  # the note as text
    assert "&lt;b&gt;罵人" in html
    assert "應急處置" in text_of(rows[newer]) and "系統" in text_of(rows[newer])
    assert "mystery.thing" in text_of(rows[odd])
    local = (
        (now - timedelta(hours=2))
        .replace(tzinfo=__import__("datetime").UTC)
        .astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    )
    assert local.strftime("%Y-%m-%d %H:%M") in reject


def test_log_names_sections_in_section_and_article_changes_read_once_for_the_page(app, client, moderator):
    """A section's 上級欄目 and an article's 欄目 showed as bare numbers (「上級欄目：3 → 7」)."""
    with app.app_context():
        yaowen = make_section(db.session, slug="yaowen", name="要聞")
        ruiping = make_section(db.session, slug="ruiping", name="銳評")
        gone = make_section(db.session, slug="gone", name="已撤欄目")
        ids = (yaowen.id, ruiping.id, gone.id)
        db.session.delete(gone)
        db.session.commit()
    yaowen_id, ruiping_id, gone_id = ids
    moved = add_record(
        app,
        action="admin.section_saved",
        target_type="section",
        target_id=99,
        before={"name": "聊城", "parent_id": gone_id},
        after={"name": "聊城", "parent_id": yaowen_id},
    )
    made = add_record(
        app,
        action="admin.section_saved",
        target_type="section",
        target_id=98,
        after={"name": "新", "parent_id": None},
    )
    article_moves = [
        add_record(
            app,
            action="admin.article_saved",
            target_type="article",
            target_id=n,
            before={"title": f"文章{n}", "section_id": yaowen_id},
            after={"title": f"文章{n}", "section_id": ruiping_id},
        )
        for n in range(25)
    ]
    comment = add_record(  # a comment's parent_id is a comment, not a section: left as it is
        app, action="moderation.approve", target_type="comment", target_id=1, after={"parent_id": yaowen_id}
    )
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        html = client.get("/moderation/log").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    rows = {int(tr.get("data-record-id")): tr for tr in find_all(parse_html(html), "tr", cls="log-row")}

    def changes(record_id: int) -> str:
        return text_of(find_one(rows[record_id], "td", cls="log-changes"))

    assert changes(moved) == f"上級欄目：#{gone_id}（已刪除） → 要聞"
    assert changes(made) == "名稱：新；上級欄目：∅"
    assert all(changes(r) == "欄目：要聞 → 銳評" for r in article_moves)
    assert changes(comment) == f"所屬評論：{yaowen_id}"
    # The names by id (the whole tree the page's menu reads is another, cached query).
    names_read = [s for s in statements if re.search(r"FROM section\b", s) and "section.id IN" in s]
    assert len(names_read) == 1, names_read  # one query for the page, not one per row


# --- every code the app writes, in words ----------------------------------------------------------

PORTAL = Path(portal.__file__).resolve().parent
CODE_SHAPE = re.compile(r"[A-Za-z_]{2,}")  # what a raw code looks like: no label has ASCII words


def _functions(tree: ast.Module) -> list[ast.FunctionDef]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]


def _enclosing(tree: ast.Module, target: ast.AST) -> ast.FunctionDef:
    return min(
        (f for f in _functions(tree) if any(node is target for node in ast.walk(f))),
        key=lambda f: f.end_lineno - f.lineno,
    )


def _values(expr: ast.AST, function: ast.FunctionDef, tree: ast.Module, module: str) -> set[str]:
    """Every string `expr` can be where it is written: literals, both arms of a choice, f-strings
    over what their parts can be, a local assigned from literals, and a parameter by what it is
    compared with (== a literal, `in` a module table) or else by what its callers pass."""
    where = f"{module}.{function.name}: {ast.unparse(expr)}"
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}
    if isinstance(expr, ast.IfExp):
        return _values(expr.body, function, tree, module) | _values(expr.orelse, function, tree, module)
    if isinstance(expr, ast.JoinedStr):
        found = {""}
        for part in expr.values:
            options = _values(
                part.value if isinstance(part, ast.FormattedValue) else part, function, tree, module
            )
            found = {start + option for start in found for option in options}
        return found
    assert isinstance(expr, ast.Name), f"cannot tell what {where} writes"
    name, found = expr.id, set()
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id == name:
                    found |= _values(node.value, function, tree, module)
                if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    for part, value in zip(target.elts, node.value.elts, strict=True):
                        if isinstance(part, ast.Name) and part.id == name:
                            found |= _values(value, function, tree, module)
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Name) and node.left.id == name:
            for op, right in zip(node.ops, node.comparators, strict=True):
                if isinstance(op, ast.Eq) and isinstance(right, ast.Constant):
                    found.add(right.value)
                if isinstance(op, ast.In | ast.NotIn) and isinstance(right, ast.Name):
                    found |= set(getattr(importlib.import_module(module), right.id))
    positional = [a.arg for a in function.args.args]
    if not found and name in positional + [a.arg for a in function.args.kwonlyargs]:
        position = positional.index(name) if name in positional else None
        for call in ast.walk(tree):
            callee = getattr(call, "func", None)
            if (
                not isinstance(call, ast.Call)
                or getattr(callee, "id", getattr(callee, "attr", None)) != function.name
            ):
                continue
            caller = _enclosing(tree, call)
            for keyword in call.keywords:
                if keyword.arg == name:
                    found |= _values(keyword.value, caller, tree, module)
            if position is not None and position < len(call.args):
                found |= _values(call.args[position], caller, tree, module)
    assert found, f"cannot tell what {where} writes"
    return found


def written_codes() -> tuple[set[str], set[str]]:
    """Every (action, target type) code an audit.record(...) in portal/ can
    write, read from the source, so a new one cannot slip past the labels."""
    actions, targets = set(), set()
    for path in sorted(PORTAL.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        name = ".".join(path.relative_to(PORTAL.parent).with_suffix("").parts).removesuffix(".__init__")
        module = name
        for call in ast.walk(tree):
            callee = getattr(call, "func", None)
            if not (
                isinstance(call, ast.Call)
                and isinstance(callee, ast.Attribute)
                and callee.attr == "record"
                and getattr(callee.value, "id", "") == "audit"
            ):
                continue
            function = _enclosing(tree, call)
            fields = {keyword.arg: keyword.value for keyword in call.keywords}
            actions |= _values(fields["action"], function, tree, module)
            if "target_type" in fields:
                targets |= _values(fields["target_type"], function, tree, module)
    return actions, targets


def test_the_walk_finds_the_codes_written_through_variables_and_f_strings():
    actions, targets = written_codes()
    assert {
        "moderation.approve",
        "moderation.restore",
        "moderation.delete",
    } <= actions  # f"moderation.{decision}"
    assert {"moderation.pin", "moderation.unpin", "emergency.close", "emergency.reopen"} <= actions
    assert {"admin.section_deleted", "admin.page_deleted"} <= actions  # f"admin.{kind}_deleted"
    assert {"admin.account_disabled", "admin.account_enabled", "comment.submitted"} <= actions
    assert {"article", "section", "site", "settings", "sensitive_word", "moderation_action"} <= targets
    assert len(actions) >= 50


def test_every_action_and_target_the_app_writes_shows_in_words_on_the_record(app, client, moderator):
    actions, targets = written_codes()
    pairs = list(itertools.zip_longest(sorted(actions), sorted(targets), fillvalue=""))
    with app.app_context():
        for action, target in pairs:
            audit.record(
                db.session,
                actor=None,
                action=action or "moderation.approve",
                target_type=target,
                target_id=7,
                now=utc_now(),
            )
        db.session.commit()
    shown, url = [], "/moderation/log"
    while url:
        root = parse_html(client.get(url).get_data(as_text=True))
        for row in find_all(root, "tr", cls="log-row"):
            shown.append(
                (
                    row.get("data-action"),
                    text_of(find_one(row, "td", cls="log-action")),
                    text_of(find_one(row, "td", cls="log-target")),
                )
            )
        after = find_all(root, "a", rel="next")
        url = after[0].get("href") if after else None
    assert {action for action, _, _ in shown} >= actions
    raw = [(code, action, target) for code, action, target in shown if CODE_SHAPE.search(action + target)]
    assert raw == [], "shown as codes, not words"


def test_the_log_filters_offer_every_reason_and_target_in_words(client, moderator):
    root = parse_html(client.get("/moderation/log").get_data(as_text=True))
    for name, codes in (("reason", records.REASON_TEXT), ("target_type", records.TARGET_LABELS)):
        options = {
            o.get("value"): text_of(o) for o in find_all(find_one(root, "select", name=name), "option")
        }
        assert set(options) == {"", *codes}
        for code, shown in options.items():
            # An R-code is the pledge's number for a reason and stays beside it; nothing else is ASCII.
            assert not CODE_SHAPE.search(
                shown.removeprefix(f"{code} ") if re.fullmatch(r"R\d\d", code) else shown
            ), (code, shown)


def test_log_filters_by_moderator_action_target_reason_and_local_date(app, client, moderator, make_user):
    other = make_user("moderator", nickname="值班乙")
    mine = add_record(
        app, actor_id=moderator.id, action="moderation.approve", target_type="comment", target_id=3
    )
    theirs = add_record(
        app,
        actor_id=other.id,
        action="moderation.reject",
        target_type="comment",
        target_id=4,
        reason_code="R13",
    )
    # 2026-01-01 17:00 UTC is 01:00 on 2 January in Shanghai.
    dated = add_record(
        app, actor_id=other.id, action="emergency.close", when=utc_now().replace(2026, 1, 1, 17, 0)
    )

    def ids(query: str, status: int = 200) -> list[int]:
        response = client.get(f"/moderation/log?{query}")
        assert response.status_code == status
        return row_ids(response.get_data(as_text=True))

    assert ids("actor=值班甲") == [mine]
    assert set(ids(f"actor={other.id}")) == {theirs, dated}
    assert ids("action=moderation.reject") == [theirs]
    assert ids("action=emergency.*") == [dated]
    assert ids("target_type=comment&target_id=3") == [mine]
    assert ids("reason=R13") == [theirs]
    assert ids("from=2026-01-02&to=2026-01-02") == [dated]
    assert ids("from=2026-01-01&to=2026-01-01") == []
    assert set(ids("target_id=abc")) == {mine, theirs, dated}  # bad values are ignored
    assert set(ids("from=nonsense", 422)) == {mine, theirs, dated}  # and a bad date said (below)
    # Days no local midnight can be computed for are no filter either (they were a 500).
    assert set(ids("from=0001-01-01&to=9999-12-31", 422)) == {mine, theirs, dated}
    assert export(client, "csv", **{"from": "0001-01-01"}).status_code == 200


def test_a_bad_or_reversed_date_in_the_log_filter_is_said_beside_it_and_kept(app, client, moderator):
    listed = add_record(app, actor_id=moderator.id, action="moderation.approve")
    response = client.get("/moderation/log?actor=值班甲&from=2026-13-01&to=2026-01-31")
    assert response.status_code == 422
    root = parse_html(response.get_data(as_text=True))
    since = find_one(root, "input", name="from", type="date")
    assert (since.get("value"), since.get("aria-invalid"), since.get("aria-describedby")) == (
        "2026-13-01",
        "true",
        "filter-from-errors",
    )
    assert text_of(find_one(root, "ul", id="filter-from-errors")) == (
        "「從」的日期「2026-13-01」無效，請按「年-月-日」填寫，例如 2026-01-31；此條件未套用"
    )
    assert find_one(root, "input", name="to", type="date").get("value") == "2026-01-31"
    # The export takes the filters the list shows: the date that cannot be applied is not among them.
    (hidden,) = [
        {i.get("name"): i.get("value") for i in find_all(form, "input", type="hidden")}
        for form in find_all(root, "form", data_export="csv")
    ]
    assert {k: v for k, v in hidden.items() if k not in ("csrf_token", "format")} == {
        "actor": "值班甲",
        "to": "2026-01-31",
    }

    reversed_range = client.get("/moderation/log?from=2026-02-01&to=2026-01-31")
    assert reversed_range.status_code == 422
    html = reversed_range.get_data(as_text=True)
    root = parse_html(html)
    assert [find_one(root, "input", name=n, type="date").get("value") for n in ("from", "to")] == [
        "2026-02-01",
        "2026-01-31",
    ]
    assert text_of(find_one(root, "ul", id="filter-to-errors")) == (
        "「從」的日期（2026-02-01）晚於「到」的日期（2026-01-31），請修改；日期條件未套用"
    )
    assert row_ids(html) == [listed]
    assert find_one(root, "a", href="/moderation/log") is not None  # 清除篩選


def test_log_pages_with_a_keyset_cursor(app, client, moderator):
    now = utc_now()
    with app.app_context():
        db.session.execute(
            insert(ModerationAction),
            [
                {
                    "action": "comment.submitted",
                    "actor_role": "system",
                    "created_at": now - timedelta(seconds=n // 2),
                }
                for n in range(120)
            ],
        )
        db.session.commit()
        expected = list(
            db.session.scalars(
                select(ModerationAction.id).order_by(
                    ModerationAction.created_at.desc(), ModerationAction.id.desc()
                )
            )
        )
    seen, url = [], "/moderation/log"
    while url:
        html = client.get(url).get_data(as_text=True)
        page = row_ids(html)
        assert len(page) <= 50
        seen.extend(page)
        found = re.search(r'<a rel="next" href="([^"]+)"', html)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert seen == expected
    assert len(seen) == 120
    assert client.get("/moderation/log?after=garbage").status_code == 200  # a bad cursor: the first page


def test_filters_are_kept_in_the_next_link_and_the_export_forms(app, client, moderator):
    for _ in range(51):
        add_record(app, actor_id=moderator.id, action="moderation.approve")
    html = client.get("/moderation/log?action=moderation.approve&actor=值班甲").get_data(as_text=True)
    link = re.search(r'<a rel="next" href="([^"]+)"', html).group(1)
    assert "action=moderation.approve" in link and "after=" in link
    tree = parse_html(html)
    forms = find_all(tree, "form", data_export=None)
    assert [f.get("data-export") for f in forms] == ["csv", "json"]
    for form in forms:
        assert form.get("method") == "post"
        hidden = {i.get("name"): i.get("value") for i in form.iter("input")}
        assert hidden["action"] == "moderation.approve"
        assert hidden["actor"] == "值班甲"
        assert hidden["csrf_token"]


# --- exports --------------------------------------------------------------------------------------


def export(client, fmt: str, **filters):
    return client.post(
        "/moderation/log/export", data={"csrf_token": token_for(client), "format": fmt, **filters}
    )


def test_csv_export_has_a_bom_chinese_headers_and_every_filtered_row(app, client, moderator):
    for n in range(3):
        add_record(
            app,
            actor_id=moderator.id,
            action="moderation.reject",
            target_type="comment",
            target_id=n + 1,
            reason_code="R08",
            note=f"第{n}條",
        )
    add_record(app, action="comment.submitted", note='=HYPERLINK("http://x")')
    response = export(client, "csv", action="moderation.reject")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and re.search(
        r'filename="moderation-log-[\d-]+\.csv"', disposition
    )
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:5] == ["編號", "時間（UTC）", "本地時間", "操作者編號", "操作者"]
    assert "操作" in rows[0] and "理由" in rows[0] and "保存在案" in rows[0]
    body = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert len(body) == 3
    assert {row["操作"] for row in body} == {"不通過"}
    assert {row["理由"] for row in body} == {"侮辱誹謗、人身攻擊"}
    assert [row["備註"] for row in body] == ["第2條", "第1條", "第0條"]
    assert {row["操作者"] for row in body} == {"值班甲"}
    # Codes come with their words, as 操作 and 理由 do: no bare English role or target in the sheet.
    assert {(row["角色"], row["角色代碼"]) for row in body} == {("審核員", "moderator")}
    assert {(row["對象類型"], row["對象類型代碼"]) for row in body} == {("評論", "comment")}


def test_csv_export_defuses_formulas(app, client, moderator):
    add_record(app, action="appeal.created", note='=HYPERLINK("http://x")')
    rows = list(csv.reader(io.StringIO(export(client, "csv").get_data().decode("utf-8-sig"))))
    notes = [dict(zip(rows[0], row, strict=True))["備註"] for row in rows[1:]]
    assert notes == ['\'=HYPERLINK("http://x")']


def test_json_export_is_an_array_of_objects_with_the_raw_values(app, client, moderator):
    first = add_record(
        app,
        actor_id=moderator.id,
        action="moderation.hide",
        target_type="comment",
        target_id=9,
        reason_code="R11",
        note='=1+1 "引號"',
        before={"status": "approved"},
        after={"status": "hidden"},
    )
    add_record(app, action="pii.view", target_type="user", target_id=2)
    response = export(client, "json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert re.search(
        r'attachment; filename="moderation-log-[\d-]+\.json"', response.headers["Content-Disposition"]
    )
    data = json.loads(response.get_data(as_text=True))
    assert isinstance(data, list) and len(data) == 2
    hide = next(row for row in data if row["id"] == first)
    assert hide["action"] == "moderation.hide"
    assert hide["action_label"] == "隱藏"
    assert hide["actor"] == "值班甲"
    assert hide["target_id"] == 9
    assert hide["note"] == '=1+1 "引號"'
    assert hide["before"] == {"status": "approved"}
    assert hide["after"] == {"status": "hidden"}
    assert hide["held"] is False


def test_each_export_is_itself_logged_with_its_filter_and_not_part_of_itself(app, client, moderator):
    add_record(app, actor_id=moderator.id, action="moderation.approve")
    data = json.loads(
        export(client, "json", action="moderation.approve", actor="值班甲").get_data(as_text=True)
    )
    assert [row["action"] for row in data] == ["moderation.approve"]
    everything = json.loads(export(client, "json").get_data(as_text=True))
    assert [row["action"] for row in everything] == ["records.exported", "moderation.approve"]
    with app.app_context():
        logged = list(
            db.session.scalars(
                select(ModerationAction)
                .where(ModerationAction.action == "records.exported")
                .order_by(ModerationAction.id)
            )
        )
        assert len(logged) == 2
        assert logged[0].actor_id == moderator.id
        assert "操作=moderation.approve" in logged[0].note and "操作者=值班甲" in logged[0].note
        assert json.loads(logged[0].after)["rows"] == 1
        assert json.loads(logged[0].after)["format"] == "json"
        assert json.loads(logged[1].after)["rows"] == 2


def test_a_large_export_streams_every_row(app, client, moderator):
    now = utc_now()
    with app.app_context():
        db.session.execute(
            insert(ModerationAction),
            [
                {
                    "action": "comment.submitted",
                    "actor_role": "system",
                    "created_at": now - timedelta(seconds=n),
                }
                for n in range(2300)
            ],
        )
        db.session.commit()
    response = export(client, "csv")
    assert response.is_streamed
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    ids = [int(row[0]) for row in rows[1:]]
    assert len(ids) == len(set(ids)) == 2300


def test_export_needs_a_csrf_token_and_a_known_format(app, client, moderator):
    add_record(app)
    assert client.post("/moderation/log/export", data={"format": "csv"}).status_code == 400
    assert export(client, "xml").status_code == 400
    assert count_actions(app, "records.exported") == 0
    assert client.get("/moderation/log/export").status_code == 405  # GET never writes


# --- holds ----------------------------------------------------------------------------------------


def snapshot(app, record_id: int) -> tuple:
    with app.app_context():
        row = db.session.get(ModerationAction, record_id)
        return (row.actor_id, row.action, row.note, row.before, row.after, row.created_at, row.ip)


def test_hold_and_release_without_javascript(app, client, moderator):
    record = add_record(app, action="comment.submitted", note="原文")
    before = snapshot(app, record)
    token = token_for(client, "/moderation/log")
    response = client.post(
        f"/moderation/log/{record}/hold",
        data={"csrf_token": token, "return_to": "/moderation/log?action=comment.*"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/moderation/log?action=comment.*"
    with app.app_context():
        assert db.session.get(EvidenceHold, record).held_by_id == moderator.id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"記錄 #{record} 已保存在案" in page
    assert re.search(rf'id="log-row-{record}"[^>]*data-held="true"', page)
    response = client.post(
        f"/moderation/log/{record}/release", data={"csrf_token": token, "return_to": "https://evil.example/"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/moderation/log"  # same-site only
    with app.app_context():
        assert db.session.get(EvidenceHold, record) is None
    assert snapshot(app, record) == before  # the record itself never changed
    assert count_actions(app, "records.hold") == 1
    assert count_actions(app, "records.release") == 1


def test_hold_with_htmx_answers_the_updated_row(app, client, moderator):
    record = add_record(app)
    token = token_for(client, "/moderation/log")
    response = client.post(f"/moderation/log/{record}/hold", data={"csrf_token": token}, headers=HX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith(f'<tr id="log-row-{record}"')
    assert "<html" not in body
    assert "取消保存" in body and "已保存在案" in body
    assert "HX-Request" in response.headers["Vary"]
    again = client.post(f"/moderation/log/{record}/hold", data={"csrf_token": token}, headers=HX)
    assert again.status_code == 200
    assert count_actions(app, "records.hold") == 1  # holding a held record writes nothing
    released = client.post(f"/moderation/log/{record}/release", data={"csrf_token": token}, headers=HX)
    assert "保存在案</button>" in released.get_data(as_text=True)
    with app.app_context():
        logged = db.session.scalar(
            select(ModerationAction).where(ModerationAction.action == "records.release")
        )
        assert logged.target_type == "moderation_action" and logged.target_id == record
        assert logged.actor_id == moderator.id


def test_hold_refuses_unknown_ids_and_missing_tokens(app, client, moderator):
    record = add_record(app)
    token = token_for(client)
    assert client.post("/moderation/log/999999/hold", data={"csrf_token": token}).status_code == 404
    assert client.post("/moderation/log/999999/release", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/moderation/log/{record}/hold").status_code == 400
    assert client.get(f"/moderation/log/{record}/hold").status_code == 405
    assert count_actions(app, "records.hold") == 0


# --- the database keeps the record, purge clears it -----------------------------------------------


def insert_old(app, days: float, action: str = "comment.submitted") -> int:
    """A record `days` old, written with raw SQL as an old database would hold it."""
    with app.app_context():
        created = utc_now() - timedelta(days=days)
        db.session.execute(
            text(
                "INSERT INTO moderation_action (actor_role, action, target_type, reason_code, note, before, after, ip, created_at) "
                "VALUES ('system', :action, 'comment', '', '', '{}', '{}', '', :created)"
            ),
            {"action": action, "created": created.strftime("%Y-%m-%d %H:%M:%S.%f")},
        )
        db.session.commit()
        return db.session.scalar(select(func.max(ModerationAction.id)))


def hold_directly(app, record_id: int) -> None:
    with app.app_context():
        db.session.add(EvidenceHold(action_id=record_id, created_at=utc_now()))
        db.session.commit()


def raw_delete(app, record_id: int) -> None:
    with app.app_context():
        try:
            db.session.execute(text("DELETE FROM moderation_action WHERE id = :id"), {"id": record_id})
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise


def exists(app, record_id: int) -> bool:
    with app.app_context():
        return db.session.get(ModerationAction, record_id) is not None


def test_the_database_refuses_to_delete_a_held_record_even_when_old(app):
    free, held, young = insert_old(app, 200), insert_old(app, 200), insert_old(app, 100)
    hold_directly(app, held)
    with pytest.raises(IntegrityError, match="kept 184 days and while held"):
        raw_delete(app, held)
    with pytest.raises(IntegrityError):
        raw_delete(app, young)
    raw_delete(app, free)
    assert (exists(app, free), exists(app, held), exists(app, young)) == (False, True, True)
    with app.app_context(), pytest.raises(IntegrityError, match="append-only"):
        db.session.execute(text("UPDATE moderation_action SET note = 'x' WHERE id = :id"), {"id": held})
        db.session.commit()


def test_purge_deletes_expired_submissions_but_keeps_young_held_and_other_records(app, runner):
    expired = insert_old(app, 191)
    young = insert_old(app, 189)
    held = insert_old(app, 200)
    decision = insert_old(app, 300, action="moderation.reject")
    hold_directly(app, held)
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "已刪除1條超過190天的提交記錄" in result.output
    assert not exists(app, expired)
    assert exists(app, young) and exists(app, held) and exists(app, decision)
    with app.app_context():
        logged = db.session.scalar(
            select(ModerationAction).where(ModerationAction.action == "records.purged")
        )
        assert json.loads(logged.after) == {"count": 1, "retention_days": 190}


def test_purge_never_goes_under_184_days(app, runner):
    with app.app_context():
        db.session.add(SiteSetting(key="retention_days", value="100"))
        db.session.commit()
    older = insert_old(app, 185)
    recent = insert_old(app, 150)
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "少於法定最少的184天" in result.output
    assert "已刪除1條超過184天" in result.output
    assert not exists(app, older)
    assert exists(app, recent)


def test_patrol_command_reports_the_hits(app, runner, make_user, test_words):
    author = make_user()
    with app.app_context():
        article = make_article(db.session, make_section(db.session))
        now = utc_now()
        for body in ("這裡可以代开发票，歡迎聯繫", "今天天氣很好"):
            db.session.add(
                Comment(
                    article_id=article.id,
                    author_id=author.id,
                    body=body,
                    status=CommentStatus.APPROVED,
                    listed=True,
                    created_at=now - timedelta(days=1),
                    approved_at=now - timedelta(days=1),
                )
            )
        db.session.commit()
    result = runner.invoke(args=["patrol"])
    assert result.exit_code == 0, result.output
    assert "巡查完成：1條評論命中詞庫" in result.output
    with app.app_context():
        hit = db.session.scalar(select(Comment).where(Comment.patrol_hit_at.is_not(None)))
        assert hit.body.startswith("這裡可以代开发票")
    assert count_actions(app, "comment.patrol_hit") == 1


# --- the dashboard --------------------------------------------------------------------------------


@pytest.fixture
def some_activity(app, make_user):
    """A comment approved after 4 minutes, one rejected after 10, one pending, one report."""
    author = make_user()
    mod = make_user("moderator", nickname="值班丙")
    now = utc_now()
    with app.app_context():
        article = make_article(db.session, make_section(db.session))
        moderator = db.session.get(User, mod.id)
        for minutes, action, status, reason in [
            (4, "moderation.approve", CommentStatus.APPROVED, ""),
            (10, "moderation.reject", CommentStatus.REJECTED, "R08"),
        ]:
            created = now - timedelta(hours=3)
            comment = Comment(
                article_id=article.id,
                author_id=author.id,
                body="評論",
                status=status,
                created_at=created,
                decided_at=created + timedelta(minutes=minutes),
                decided_by_id=mod.id,
            )
            db.session.add(comment)
            db.session.flush()
            audit.record(
                db.session,
                actor=moderator,
                action=action,
                target_type="comment",
                target_id=comment.id,
                reason_code=reason,
                before={"status": "pending"},
                after={"status": str(status)},
                now=created + timedelta(minutes=minutes),
            )
        db.session.add(Comment(article_id=article.id, author_id=author.id, body="待審", created_at=now))
        db.session.commit()


def test_stats_page_shows_each_chart_as_an_image_with_its_numbers(app, client, moderator, some_activity):
    response = client.get("/moderation/stats")
    assert response.status_code == 200
    tree = parse_html(response.get_data(as_text=True))
    images = [img.get("src") for img in tree.iter("img") if "/moderation/stats/" in (img.get("src") or "")]
    assert images == [f"/moderation/stats/{name}.svg" for name in CHARTS]
    for name in CHARTS:
        figure = find_all(tree, "figure", data_chart=name)
        assert len(figure) == 1
        assert find_all(figure[0], "details", cls="chart-data")
        assert find_all(figure[0], "table")
    decision = text_of(find_all(tree, "figure", data_chart="decision_time")[0])
    assert "中位數 7.0 分鐘" in decision  # 4 and 10 minutes
    assert "值班丙" in decision
    assert "<script" not in response.get_data(as_text=True).split("</head>")[1]


@pytest.mark.parametrize("name", CHARTS)
def test_each_chart_is_a_scriptless_svg_allowed_by_its_own_csp(app, client, moderator, some_activity, name):
    response = client.get(f"/moderation/stats/{name}.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    root = ElementTree.fromstring(response.get_data())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("width") == "800"
    assert not list(root.iter("{http://www.w3.org/2000/svg}script"))
    assert not [element for element in root.iter() if element.get("style") is not None]
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp
    assert "script-src" not in csp and csp.startswith("default-src 'none'")
    styles = [s.text for s in root.iter("{http://www.w3.org/2000/svg}style")]
    assert styles
    for style in styles:
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp


def test_charts_render_on_an_empty_site_and_unknown_names_are_404(app, client, moderator):
    for name in CHARTS:
        response = client.get(f"/moderation/stats/{name}.svg")
        assert response.status_code == 200
        ElementTree.fromstring(response.get_data())
    assert client.get("/moderation/stats").status_code == 200
    assert client.get("/moderation/stats/nothing.svg").status_code == 404


def test_a_refused_number_is_masked_on_the_record_and_its_exports_for_staff_without_pii(
    app, client, moderator, make_user
):
    """PLEDGE_RULES §5.4: the raw text is recorded, but a submission refused for a phone (P18) or an
    ID number (P19) is read in full only by holders of `pii`; other refusals read as typed."""
    with app.app_context():
        article = make_article(db.session, make_section(db.session))
        db.session.commit()
        article_id = article.id
    reader = make_user(nickname="留號碼的人")
    poster = app.test_client()
    login(poster, reader.phone, reader.password)
    typed = {
        "contact": "有事打我電話13800138000",
        "pii": "他的身份证是11010519491231002X",
        "length": "好",
    }
    for body in typed.values():
        token = token_for(poster, f"/articles/{article_id}")
        response = poster.post(f"/articles/{article_id}/comments", data={"body": body, "csrf_token": token})
        assert response.status_code == 422
    masked = {"contact": "有事打我電話138****8000", "pii": "他的身份证是**************002X", "length": "好"}

    def bodies(rows) -> dict[str, str]:
        return {
            row["reason_code"]: row["after"]["body"] for row in rows if row["action"] == "comment.rejected"
        }

    page = client.get("/moderation/log?action=comment.rejected").get_data(as_text=True)
    assert "13800138000" not in page and "11010519491231002X" not in page
    assert "138****8000" in page and "002X" in page
    assert bodies(json.loads(export(client, "json").get_data(as_text=True))) == masked
    assert "13800138000" not in export(client, "csv").get_data(as_text=True)

    holder = make_user("moderator", nickname="持權審核員", can_view_pii=True)
    trusted = app.test_client()
    login(trusted, holder.phone, holder.password)
    assert "13800138000" in trusted.get("/moderation/log?action=comment.rejected").get_data(as_text=True)
    assert bodies(json.loads(export(trusted, "json").get_data(as_text=True))) == typed
    with app.app_context():  # the record keeps what was typed
        kept = db.session.scalars(
            select(ModerationAction.after).where(ModerationAction.action == "comment.rejected")
        ).all()
        assert {json.loads(after)["body"] for after in kept} == set(typed.values())
