"""The record read back (portal.domain.records): filters, keyset pages, exports, holds, and the
dashboard's aggregates on a small dataset whose answers are known."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from portal.domain import audit, records
from portal.models import (
    Appeal,
    BulkHideComment,
    Comment,
    CommentStatus,
    EvidenceHold,
    ModerationAction,
    Report,
    ReportStatus,
    Role,
    User,
)
from tests.factories import at, make_article, make_section

ZONE = ZoneInfo("Asia/Shanghai")
NOW = at("2026-11-20 04:00:00")  # 12:00 in Shanghai


def make_person(session, nickname: str, role: Role = Role.READER) -> User:
    user = User(
        nickname=nickname,
        phone_cipher=b"x",
        phone_hmac=f"hmac-{nickname}",
        password_hash="x",
        role=role,
        created_at=NOW - timedelta(days=100),
    )
    session.add(user)
    session.flush()
    return user


@pytest.fixture
def people(session):
    return {
        "reader": make_person(session, "讀者甲"),
        "mod_a": make_person(session, "審核員甲", Role.MODERATOR),
        "mod_b": make_person(session, "審核員乙", Role.MODERATOR),
    }


@pytest.fixture
def article(session):
    return make_article(session, make_section(session))


def make_comment(session, article, author, created: datetime, **fields) -> Comment:
    comment = Comment(
        article_id=article.id, author_id=author.id, body="一條評論", created_at=created, **fields
    )
    session.add(comment)
    session.flush()
    return comment


def decide(session, comment: Comment, moderator: User, action: str, when: datetime, reason: str = "") -> None:
    status = {
        "moderation.approve": "approved",
        "moderation.reject": "rejected",
        "moderation.delete": "deleted",
    }
    comment.status = CommentStatus(status.get(action, "hidden"))
    comment.decided_at, comment.decided_by_id = when, moderator.id
    audit.record(
        session,
        actor=moderator,
        action=action,
        target_type="comment",
        target_id=comment.id,
        reason_code=reason,
        before={"status": "pending"},
        after={"status": str(comment.status)},
        now=when,
    )
    session.flush()


# --- labels, filters, retention ------------------------------------------------------------------


def test_known_actions_have_chinese_labels_and_unknown_ones_fall_back():
    assert records.action_label("moderation.approve") == "通過評論"
    assert records.action_label("moderation.reject") == "不通過"
    assert records.action_label("pii.view") == "查看手機號"
    assert records.action_label("emergency.close").startswith("應急處置")
    assert records.action_label("emergency.something_new") == "應急處置（emergency.something_new）"
    assert records.action_label("mystery.code") == "mystery.code"


def test_reason_labels_cover_decisions_and_system_refusals():
    assert records.reason_label("R08") == "侮辱誹謗、人身攻擊"
    assert records.reason_label("words") == "含違規詞語"
    assert records.reason_label("zzz") == "zzz"


@pytest.mark.parametrize(
    ("stored", "days"),
    [("190", 190), ("365", 365), ("100", 184), ("184", 184), ("abc", 190), ("", 190)],
)
def test_retention_is_never_under_184_days(stored, days):
    assert records.retention_days({"retention_days": stored}) == days
    assert records.retention_days({}) == 190


def test_filters_parse_drops_bad_values_and_round_trips():
    filters = records.LogFilters.parse(
        {
            "actor": " 審核員甲 ",
            "action": "emergency.*",
            "target_id": "12x",
            "from": "2026-13-01",
            "to": "2026-11-02",
        }
    )
    assert filters.actor == "審核員甲"
    assert filters.target_id is None
    assert filters.since is None
    assert filters.until == date(2026, 11, 2)
    assert filters.errors == {"from": records.day_range({"from": "2026-13-01"}, "from", "to").errors["from"]}
    assert filters.as_args() == {"actor": "審核員甲", "action": "emergency.*", "to": "2026-11-02"}
    assert records.LogFilters.parse(filters.as_args()) == filters
    assert records.LogFilters.parse(filters.as_args()).errors == {}
    assert "操作者=審核員甲" in filters.describe()
    assert records.LogFilters().describe() == "全部記錄"


BAD_DAY = "無效，請按「年-月-日」填寫，例如 2026-01-31；此條件未套用"
FAR_DAY = "超出範圍，應在 1900-01-01 至 9998-12-31 之間；此條件未套用"


@pytest.mark.parametrize(
    ("since", "until", "applied", "errors"),
    [
        ("2026-01-02", "2026-01-05", (date(2026, 1, 2), date(2026, 1, 5)), {}),
        ("2026-01-02", "2026-01-02", (date(2026, 1, 2), date(2026, 1, 2)), {}),
        ("", " ", (None, None), {}),
        ("yesterday", "", (None, None), {"since": f"「從」的日期「yesterday」{BAD_DAY}"}),
        (
            "2026-13-01",
            "2026-01-05",
            (None, date(2026, 1, 5)),
            {"since": f"「從」的日期「2026-13-01」{BAD_DAY}"},
        ),
        (
            "2026-01-02",
            "2026-02-30",
            (date(2026, 1, 2), None),
            {"until": f"「到」的日期「2026-02-30」{BAD_DAY}"},
        ),
        ("2026-01-011", "", (None, None), {"since": f"「從」的日期「2026-01-011」{BAD_DAY}"}),
        ("2026-W01-1", "", (None, None), {"since": f"「從」的日期「2026-W01-1」{BAD_DAY}"}),
        ("２０２６-01-02", "", (None, None), {"since": f"「從」的日期「２０２６-01-02」{BAD_DAY}"}),
        (
            "0001-01-01",
            "275760-09-13",  # the last day a date input takes
            (None, None),
            {
                "since": f"「從」的日期「0001-01-01」{FAR_DAY}",
                "until": f"「到」的日期「275760-09-13」{FAR_DAY}",
            },
        ),
        ("1900-01-01", "9998-12-31", (date(1900, 1, 1), date(9998, 12, 31)), {}),
        (
            "2026-01-05",
            "2026-01-02",
            (None, None),
            {"until": "「從」的日期（2026-01-05）晚於「到」的日期（2026-01-02），請修改；日期條件未套用"},
        ),
        ("x" * 50, "", (None, None), {"since": f"「從」的日期「{'x' * 20}…」{BAD_DAY}"}),
    ],
)
def test_a_day_range_applies_the_days_it_can_and_says_why_it_drops_the_others(since, until, applied, errors):
    days = records.day_range({"from": since, "to": until}, "from", "to")
    assert (days.since, days.until) == applied
    assert days.errors == {{"since": "from", "until": "to"}[end]: message for end, message in errors.items()}


def test_compact_changes_shows_only_what_differs():
    text = records.compact_changes(
        '{"status": "pending", "x": 1}', '{"status": "approved", "x": 1, "days": 7}'
    )
    assert text == "狀態：待審 → 已通過；天數：7"
    assert records.compact_changes("{}", "{}") == ""
    assert records.compact_changes("not json", "{}").startswith("原始內容：")
    assert len(records.compact_changes("{}", '{"body": "' + "長" * 500 + '"}')) <= 160


def test_compact_changes_names_codes_in_words_and_times_in_the_sites_zone():
    """A measure's record reads as the desk speaks: states, measures and rulings in words, the end
    of a mute in local time (UTC+8 here), booleans as 是/否."""
    text = records.compact_changes(
        '{"state": "active", "muted_until": null}',
        '{"state": "closed", "muted_until": "2026-11-26 15:10:12.707229", "measure": "close",'
        ' "ruling": "not_upheld", "overturned": false}',
        zone=ZONE,
    )
    assert text == (
        "賬號狀態：正常 → 已關閉；禁言至：∅ → 2026-11-26 23:10；措施：關閉賬號；裁定：舉報不成立；撤銷原決定：否"
    )


def test_compact_changes_names_access_and_hold_keys_in_words():
    access = records.compact_changes(
        '{"role": "reader", "sections": [], "pii": false}',
        '{"role": "moderator", "sections": [3], "pii": true}',
    )
    hold = records.compact_changes('{"held": true, "held_by": 7, "since": "x"}', '{"held": false}')
    for text in (access, hold):
        assert not re.search(r"[A-Za-z_]{2,}：", text), text
    assert "負責欄目" in access and "可查看實名信息" in access and "保存在案" in hold


def test_compact_changes_names_back_office_keys_and_codes_in_words_as_the_target_means_them():
    """Sections, articles, settings, words and submissions: no English key or stored code."""
    section = records.compact_changes(
        "{}",
        '{"name": "要聞", "parent_id": null, "position": 0, "layout": "list", "pre_review": true,'  # an old record
        ' "comments_closed": false, "auto_close_days": null}',
        target_type="section",
    )
    assert section == (
        "名稱：要聞；上級欄目：∅；排序：0；版式：文章列表；評論先審後發：是；關閉評論：否；自動關閉評論天數：∅"
    )
    article = records.compact_changes(
        '{"state": "draft", "kind": "text"}',
        '{"state": "published", "kind": "gallery", "comments_state": "closed",'
        ' "published_at": "2026-01-01 02:00:00", "section_id": 3}',
        zone=ZONE,
        target_type="article",
        limit=400,
    )
    assert article == (
        "狀態：草稿（不公開） → 發布（到時公開）；類型：文字 → 圖集（圖說）；評論：關閉評論（保留已有評論）；"
        "發布時間：2026-01-01 10:00；欄目：3"
    )
    word = records.compact_changes(
        "{}", '{"term": "賭博", "action": "review", "pinyin": false}', target_type="sensitive_word"
    )
    assert word == "詞語：賭博；處理方式：送審；同時匹配拼音：否"
    settings = records.compact_changes(
        '{"quota_new": "5"}', '{"quota_new": "12", "site_name": "聊城"}', target_type="settings"
    )
    assert settings == "新用戶每日評論上限：5 → 12；網站名稱：聊城"
    submitted = records.compact_changes(
        "{}", '{"article": 2, "flags": ["evasion", "long_number"]}', target_type="comment"
    )
    assert submitted == "文章：2；標記：規避審核、疑似聯繫方式（長數字）"
    media = records.compact_changes("{}", '{"kind": "image"}', target_type="media")
    assert media == "類型：圖片"
    for text in (section, article, word, settings, submitted, media):
        assert not re.search(r"[A-Za-z_]{2,}", text), text
    # The log's 變更 column reads its record's target.
    row = ModerationAction(target_type="section", before="{}", after='{"parent_id": 2}')
    assert records.LogEntry(row).changes == "上級欄目：2"


def _log(session, people, when: datetime, action: str = "moderation.approve", **fields) -> ModerationAction:
    row = audit.record(session, actor=people["mod_a"], action=action, now=when, **fields)
    session.flush()
    return row


def _ids(session, filters: records.LogFilters) -> list[int]:
    entries, _ = records.log_page(session, filters=filters, zone=ZONE, size=100)
    return [entry.record.id for entry in entries]


def test_each_filter_narrows_the_log(session, people):
    approve = _log(session, people, NOW - timedelta(hours=1), target_type="comment", target_id=7)
    reject = _log(
        session,
        people,
        NOW - timedelta(hours=2),
        "moderation.reject",
        target_type="comment",
        reason_code="R08",
    )
    close = _log(
        session, people, NOW - timedelta(hours=3), "emergency.close", target_type="article", target_id=7
    )
    system = audit.record(
        session, actor=None, action="comment.hidden", target_type="comment", target_id=7, now=NOW
    )
    by_b = audit.record(session, actor=people["mod_b"], action="pii.view", target_type="user", now=NOW)
    session.flush()
    assert _ids(session, records.LogFilters()) == [by_b.id, system.id, approve.id, reject.id, close.id]
    assert set(_ids(session, records.LogFilters(actor="審核員甲"))) == {approve.id, reject.id, close.id}
    assert _ids(session, records.LogFilters(actor=str(people["mod_b"].id))) == [by_b.id]
    assert _ids(session, records.LogFilters(actor="系統")) == [system.id]
    assert _ids(session, records.LogFilters(action="moderation.reject")) == [reject.id]
    assert _ids(session, records.LogFilters(action="emergency.*")) == [close.id]
    assert _ids(session, records.LogFilters(target_type="comment", target_id=7)) == [system.id, approve.id]
    assert _ids(session, records.LogFilters(reason="R08")) == [reject.id]


def test_the_date_range_is_in_local_days(session, people):
    # 17:30 UTC on 1 November is 01:30 on 2 November in Shanghai.
    late = _log(session, people, at("2026-11-01 17:30:00"))
    early = _log(session, people, at("2026-11-01 15:30:00"))  # 23:30 on 1 November, local
    assert _ids(session, records.LogFilters(since=date(2026, 11, 2), until=date(2026, 11, 2))) == [late.id]
    assert _ids(session, records.LogFilters(since=date(2026, 11, 1), until=date(2026, 11, 1))) == [early.id]
    assert _ids(session, records.LogFilters(until=date(2026, 11, 2))) == [late.id, early.id]


def test_keyset_pages_cover_every_row_once_newest_first_even_with_equal_times(session, people):
    rows = [_log(session, people, NOW - timedelta(minutes=n // 3)) for n in range(125)]  # threes share a time
    seen, cursor = [], None
    while True:
        entries, cursor = records.log_page(session, filters=records.LogFilters(), zone=ZONE, cursor=cursor)
        assert len(entries) <= 50
        seen.extend(entry.record for entry in entries)
        if cursor is None:
            break
    assert len(seen) == 125
    assert {row.id for row in seen} == {row.id for row in rows}
    assert [(r.created_at, r.id) for r in seen] == sorted(((r.created_at, r.id) for r in seen), reverse=True)


def test_export_rows_read_in_chunks_up_to_the_snapshot(session, people):
    for n in range(25):
        _log(session, people, NOW - timedelta(minutes=n))
    snapshot = records.latest_id(session)
    _log(session, people, NOW + timedelta(minutes=1))  # after the export was asked for
    exported = list(
        records.export_rows(session, filters=records.LogFilters(), zone=ZONE, up_to_id=snapshot, chunk=7)
    )
    assert len(exported) == 25
    assert len({row["id"] for row in exported}) == 25
    assert max(row["id"] for row in exported) == snapshot
    first = exported[0]
    assert first["action_label"] == "通過評論"
    assert first["actor"] == "審核員甲"
    assert first["local_time"] == "2026-11-20 12:00:00"
    assert first["created_at"] == "2026-11-20T04:00:00Z"
    assert records.count_rows(session, filters=records.LogFilters(), zone=ZONE, up_to_id=snapshot) == 25


def test_a_scoped_moderator_reads_the_record_of_their_sections_comments_and_their_own_acts(session, people):
    """records.in_reach: comments by target, appeals through the appeal row, refusals by article,
    closures of their articles, sections or the whole site, bulk hides by the comments they hid
    (their part only shown); their own acts always; nothing else by others, admin.* acts least of all."""
    inside, outside = make_section(session), make_section(session)
    mine, theirs = make_article(session, inside), make_article(session, outside)
    here = make_comment(session, mine, people["reader"], NOW - timedelta(days=1))
    there = make_comment(session, theirs, people["reader"], NOW - timedelta(days=1))
    appeal_here, appeal_there, appeal_measure = (
        Appeal(target_type=kind, target_id=target, author_id=people["reader"].id, text="請覆核")
        for kind, target in (("comment", here.id), ("comment", there.id), ("sanction", here.id))
    )
    session.add_all([appeal_here, appeal_there, appeal_measure])
    session.flush()
    b = people["mod_b"]

    def log(actor, action: str, target_type: str, target_id: int | None, minutes: int) -> int:
        row = audit.record(
            session,
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            now=NOW - timedelta(minutes=minutes),
        )
        session.flush()
        return row.id

    shown = [
        log(b, "moderation.approve", "comment", here.id, 1),
        log(None, "report.created", "comment", here.id, 2),
        log(people["reader"], "appeal.created", "appeal", appeal_here.id, 3),
        log(None, "comment.rejected", "article", mine.id, 4),
        log(people["mod_a"], "pii.view", "user", b.id, 5),  # their own act
    ]
    hidden = [
        log(b, "moderation.approve", "comment", there.id, 6),
        log(people["reader"], "appeal.created", "appeal", appeal_there.id, 7),
        log(people["reader"], "appeal.created", "appeal", appeal_measure.id, 8),  # measure: account-wide
        log(b, "account.measure", "user", people["reader"].id, 9),
        log(b, "admin.section_saved", "section", inside.id, 11),
        log(b, "admin.comment_fixed", "comment", here.id, 12),  # a back-office act, even on a comment
        log(None, "comment.rejected", "article", theirs.id, 13),
    ]
    both = 0
    # Someone else's bulk hides, read by the comments they hid (their rows, as moderation.bulk_hide
    # writes them): in reach when one of them is in their sections.
    for minutes, hid in ((14, [here]), (15, [here, there]), (16, [there])):
        row = audit.record(
            session,
            actor=b,
            action="emergency.bulk_hide",
            target_type="comments",
            after={"term": "暗號", "hidden": [c.id for c in hid]},
            now=NOW - timedelta(minutes=minutes),
        )
        session.flush()
        session.add_all(
            BulkHideComment(action_id=row.id, comment_id=c.id, article_id=c.article_id) for c in hid
        )
        (shown if here in hid else hidden).append(row.id)
        both = row.id if len(hid) == 2 else both
    unreadable = ModerationAction(
        action="emergency.bulk_hide",
        actor_role="system",
        after="not json",
        created_at=NOW - timedelta(minutes=17),
    )
    session.add(unreadable)
    session.flush()
    hidden.append(unreadable.id)
    # 應急處置 closing or reopening comments where they moderate: about their sections
    shown += [
        log(b, "emergency.close", "article", mine.id, 18),
        log(b, "emergency.reopen", "section", inside.id, 19),
        log(b, "emergency.close", "site", None, 20),
    ]
    hidden += [
        log(b, "emergency.close", "article", theirs.id, 21),
        log(b, "emergency.reopen", "section", outside.id, 22),
    ]
    reach = records.reach_of(people["mod_a"], {inside.id})
    everything = records.LogFilters()
    entries, _ = records.log_page(session, filters=everything, zone=ZONE, size=100, reach=reach)
    assert [entry.record.id for entry in entries] == shown
    assert records.count_rows(session, filters=everything, zone=ZONE, reach=reach) == len(shown)
    assert records.within_reach(session, session.get(ModerationAction, shown[0]), reach)
    assert not records.within_reach(session, session.get(ModerationAction, hidden[0]), reach)
    assert records.reach_of(people["mod_a"], None) is None  # no section limit: everything
    assert set(_ids(session, everything)) == {*shown, *hidden}
    # a filter narrows within the reach; keyset pages of two cover it once, in order
    approvals = records.LogFilters(action="moderation.approve")
    entries, _ = records.log_page(session, filters=approvals, zone=ZONE, reach=reach)
    assert [entry.record.id for entry in entries] == [shown[0]]
    seen, cursor = [], None
    while True:
        entries, cursor = records.log_page(
            session, filters=everything, zone=ZONE, cursor=cursor, size=2, reach=reach
        )
        seen.extend(entry.record.id for entry in entries)
        if cursor is None:
            break
    assert seen == shown
    exported = records.export_rows(
        session, filters=everything, zone=ZONE, up_to_id=records.latest_id(session), chunk=2, reach=reach
    )
    assert [row["id"] for row in exported] == shown
    # A bulk hide that reached both sections shows the part in theirs only, in the log and exports;
    # read whole, it names both.
    exported = records.export_rows(
        session, filters=everything, zone=ZONE, up_to_id=records.latest_id(session), reach=reach
    )
    (row,) = [row for row in exported if row["id"] == both]
    assert row["after"] == {"term": "暗號", "hidden_in_reach": [here.id]}
    (entry,) = [
        e
        for e in records.log_page(session, filters=everything, zone=ZONE, reach=reach)[0]
        if e.record.id == both
    ]
    assert json.loads(entry.after) == row["after"] and "您負責的欄目內" in entry.changes
    whole = records.export_rows(session, filters=everything, zone=ZONE, up_to_id=records.latest_id(session))
    (row,) = [row for row in whole if row["id"] == both]
    assert row["after"] == {"term": "暗號", "hidden": [here.id, there.id]}


def test_the_bulk_hides_touching_some_sections_are_read_from_their_index(session):
    """in_reach finds other moderators' bulk hides by section: the sections' articles, then the
    index of the hidden comments by article (bulk_hide_comment is never read whole)."""
    statement = records.hides_in({1, 2}).compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    plan = session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}").all()
    assert any("USING COVERING INDEX ix_bulk_hide_comment_article" in row[-1] for row in plan), plan


def test_hold_and_release_are_rows_of_their_own_and_logged(session, people):
    target = _log(session, people, NOW - timedelta(days=1), "comment.submitted")
    before = (target.action, target.note, target.before, target.after, target.created_at)
    assert records.hold(session, record=target, moderator=people["mod_a"], now=NOW) is True
    assert records.hold(session, record=target, moderator=people["mod_a"], now=NOW) is False  # no second row
    session.flush()
    assert session.get(EvidenceHold, target.id) is not None
    assert records.held_ids(session, [target.id]) == {target.id}
    assert records.entry_for(session, target, zone=UTC).held
    assert records.release(session, record=target, moderator=people["mod_b"], now=NOW) is True
    assert records.release(session, record=target, moderator=people["mod_b"], now=NOW) is False
    session.flush()
    assert session.get(EvidenceHold, target.id) is None
    logged = list(
        session.scalars(
            select(ModerationAction.action)
            .where(ModerationAction.target_id == target.id)
            .order_by(ModerationAction.id)
        )
    )
    assert logged == ["records.hold", "records.release"]
    assert (target.action, target.note, target.before, target.after, target.created_at) == before


# --- the dashboard ---------------------------------------------------------------------------------


def test_percentile_interpolates_between_ranks():
    values = list(range(1, 11))
    assert records.percentile(values, 0.5) == 5.5
    assert records.percentile(values, 0.9) == pytest.approx(9.1)
    assert records.percentile([7], 0.9) == 7
    with pytest.raises(ValueError):
        records.percentile([], 0.5)


def test_decision_times_median_and_p90_overall_and_per_moderator(session, people, article):
    # 審核員甲 decides after 1..9 minutes, 審核員乙 after 10 and 30 minutes.
    waits = {"mod_a": list(range(1, 10)), "mod_b": [10, 30]}
    for who, minutes in waits.items():
        for m in minutes:
            created = NOW - timedelta(hours=2)
            comment = make_comment(session, article, people["reader"], created)
            decide(session, comment, people[who], "moderation.approve", created + timedelta(minutes=m))
    # Not counted: a decision on an approved comment, and one older than 30 days.
    old = make_comment(session, article, people["reader"], NOW - timedelta(days=40))
    decide(
        session, old, people["mod_a"], "moderation.reject", NOW - timedelta(days=40) + timedelta(minutes=500)
    )
    audit.record(
        session,
        actor=people["mod_a"],
        action="moderation.delete",
        target_type="comment",
        target_id=old.id,
        before={"status": "approved"},
        now=NOW - timedelta(hours=1),
    )
    times = records.decision_times(session, now=NOW)
    everyone = sorted(waits["mod_a"] + waits["mod_b"])  # 1..10 and 30
    assert times.overall.count == 11
    assert times.overall.median == 6 * 60
    assert times.overall.p90 == pytest.approx(records.percentile([m * 60 for m in everyone], 0.9))
    assert times.overall.p90 == 10 * 60
    by_name = {name: summary for _, name, summary in times.moderators}
    assert list(by_name) == ["審核員甲", "審核員乙"]  # most decisions first
    assert by_name["審核員甲"].median == 5 * 60
    assert by_name["審核員甲"].p90 == pytest.approx(8.2 * 60)
    assert by_name["審核員乙"].median == 20 * 60
    assert by_name["審核員乙"].p90 == pytest.approx(28 * 60)


def test_decision_time_after_an_edit_counts_from_the_edit(session, people, article):
    comment = make_comment(
        session, article, people["reader"], NOW - timedelta(hours=5), edited_at=NOW - timedelta(minutes=30)
    )
    decide(session, comment, people["mod_a"], "moderation.approve", NOW - timedelta(minutes=20))
    assert records.decision_times(session, now=NOW).overall.median == 10 * 60


def test_daily_counts_use_local_days(session, people, article):
    # 2026-11-19 17:00 UTC is 01:00 on 20 November in Shanghai: counted as today.
    make_comment(session, article, people["reader"], at("2026-11-19 17:00:00"))
    make_comment(session, article, people["reader"], at("2026-11-19 15:00:00"))  # 23:00 on the 19th
    rejected = make_comment(session, article, people["reader"], at("2026-11-19 15:10:00"))
    decide(session, rejected, people["mod_a"], "moderation.reject", at("2026-11-19 16:30:00"), "R08")
    audit.record(session, actor=people["reader"], action="comment.rejected", reason_code="words", now=NOW)
    make_comment(session, article, people["reader"], NOW - timedelta(days=31))  # outside the window
    days = records.daily_counts(session, now=NOW, zone=ZONE)
    assert len(days) == 30
    assert days[-1].day == date(2026, 11, 20)
    assert days[0].day == date(2026, 10, 22)
    today, yesterday = days[-1], days[-2]
    assert (today.submitted, today.approved, today.rejected, today.blocked) == (1, 0, 1, 1)
    assert (yesterday.submitted, yesterday.rejected) == (2, 0)
    assert sum(d.submitted for d in days) == 3


def test_queue_length_is_rebuilt_from_created_and_decided_times(session, people, article):
    # Pending since 10 hours ago; pending from 5 to 2 hours ago; decided before the window.
    make_comment(session, article, people["reader"], NOW - timedelta(hours=10))
    decided = make_comment(session, article, people["reader"], NOW - timedelta(hours=5))
    decide(session, decided, people["mod_a"], "moderation.approve", NOW - timedelta(hours=2))
    early = make_comment(session, article, people["reader"], NOW - timedelta(hours=40))
    decide(session, early, people["mod_a"], "moderation.approve", NOW - timedelta(hours=30))
    points = records.queue_length(session, now=NOW, zone=ZONE)
    assert len(points) == 24  # 23 full hours, then now (NOW is on the hour)
    counts = {moment.strftime("%H:%M"): count for moment, count in points[:-1]}
    assert points[-1] == (NOW.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZONE), 1)
    assert counts["13:00"] == 0  # 05:00 UTC yesterday
    assert counts["02:00"] == 1  # 10 hours ago exactly: the first comment has arrived
    assert counts["07:00"] == 2  # 5 hours ago
    assert counts["09:00"] == 2
    assert counts["10:00"] == 1  # decided at 10:00 local: no longer waiting


def test_removals_by_reason_and_reports_by_ruling(session, people, article):
    for reason, action in [
        ("R08", "moderation.reject"),
        ("R08", "moderation.delete"),
        ("R13", "moderation.reject"),
    ]:
        comment = make_comment(session, article, people["reader"], NOW - timedelta(hours=3))
        decide(session, comment, people["mod_a"], action, NOW - timedelta(hours=1), reason)
    reasons = records.removals_by_reason(session, now=NOW)
    assert [(r.code, r.rejected, r.hidden, r.deleted, r.total) for r in reasons] == [
        ("R08", 1, 0, 1, 2),
        ("R13", 1, 0, 0, 1),
    ]
    assert reasons[0].label == "侮辱誹謗、人身攻擊"
    target = make_comment(session, article, people["reader"], NOW - timedelta(hours=3))
    others = [make_person(session, f"舉報人{n}") for n in range(4)]
    statuses = [ReportStatus.UPHELD, ReportStatus.UPHELD, ReportStatus.MALICIOUS, ReportStatus.OPEN]
    for person, status in zip(others, statuses, strict=True):
        session.add(
            Report(
                comment_id=target.id, reporter_id=person.id, reason_code="R08", status=status, created_at=NOW
            )
        )
    session.flush()
    assert records.reports_by_ruling(session, now=NOW) == [
        ("open", "待處理", 1),
        ("upheld", "舉報成立", 2),
        ("not_upheld", "舉報不成立", 0),
        ("malicious", "惡意舉報", 1),
        ("withdrawn", "作者已刪除", 0),
    ]
    assert session.scalar(select(func.count()).select_from(Report)) == 4


def test_the_dashboards_numbers_for_some_sections_count_only_their_comments(session, people):
    """sections=: a scoped moderator's dashboard (sub-sections are in the set the desk passes)."""
    inside, outside = make_section(session), make_section(session)
    here, there = make_article(session, inside), make_article(session, outside)
    for article, minutes in ((here, 5), (there, 50), (there, 70)):
        created = NOW - timedelta(hours=3)
        comment = make_comment(session, article, people["reader"], created)
        decide(
            session,
            comment,
            people["mod_a"],
            "moderation.reject",
            created + timedelta(minutes=minutes),
            "R08",
        )
        session.add(
            Report(comment_id=comment.id, reporter_id=people["mod_b"].id, reason_code="R08", created_at=NOW)
        )
        make_comment(session, article, people["reader"], NOW - timedelta(hours=1))  # pending
        audit.record(
            session,
            actor=None,
            action="comment.rejected",
            target_type="article",
            target_id=article.id,
            now=NOW,
        )
    session.flush()
    mine = frozenset({inside.id})
    for sections, comments, decided in ((mine, 2, 1), (None, 6, 3)):
        days = records.daily_counts(session, now=NOW, zone=ZONE, sections=sections)
        assert [sum(getattr(d, kind) for d in days) for kind in ("submitted", "rejected", "blocked")] == [
            comments,
            decided,
            decided,
        ]
        assert records.queue_length(session, now=NOW, zone=ZONE, sections=sections)[-1][1] == decided
        assert records.decision_times(session, now=NOW, sections=sections).overall.count == decided
        assert [r.rejected for r in records.removals_by_reason(session, now=NOW, sections=sections)] == [
            decided
        ]
        assert records.reports_by_ruling(session, now=NOW, sections=sections)[0] == (
            "open",
            "待處理",
            decided,
        )
    assert records.decision_times(session, now=NOW, sections=mine).overall.median == 5 * 60


def test_an_edit_of_a_published_comment_waits_in_the_queue_and_its_decision_counts_from_the_edit(
    session, people, article
):
    comment = make_comment(
        session,
        article,
        people["reader"],
        NOW - timedelta(hours=5),
        status=CommentStatus.APPROVED,
        edited_at=NOW - timedelta(minutes=90),
        pending_body="修改後的評論",
    )
    assert records.queue_length(session, now=NOW, zone=ZONE)[-1][1] == 1
    comment.pending_body = None
    audit.record(
        session,
        actor=people["mod_a"],
        action="moderation.approve",
        target_type="comment",
        target_id=comment.id,
        before={"status": "approved", "body": "一條評論", "edit": "修改後的評論"},
        after={"status": "approved", "body": "修改後的評論", "edit": "approved"},
        now=NOW - timedelta(minutes=60),
    )
    session.flush()
    assert records.queue_length(session, now=NOW, zone=ZONE)[-1][1] == 0
    assert records.decision_times(session, now=NOW).overall.median == 30 * 60
