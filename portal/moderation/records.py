"""The record of decisions (/moderation/log), its exports and the dashboard (/moderation/stats).

The log is read-only here: holds are rows of their own, exports are POSTs because each one is
logged. The dashboard's charts are pygal SVGs served as images (<img>, never inline): pygal's
script and tooltips are stripped, and its one stylesheet is allowed by its hash in the image's
own CSP, so no page or image needs inline styles or scripts allowed wholesale.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import math
import sys
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any
from xml.etree import ElementTree

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from portal.auth import client_ip
from portal.domain import moderation, records
from portal.domain.pagination import Cursor
from portal.domain.script import Script, to_simplified
from portal.extensions import db
from portal.forms import ActionForm
from portal.fragments import wants_fragment
from portal.models import ModerationAction, utc_now
from portal.moderation import bp
from portal.moderation.views import reach, scope
from portal.page_context import current_script, localtime, settings, zone
from portal.safe_redirect import same_site_path

# --- the log ----------------------------------------------------------------------------------------


def _log_context(filters: records.LogFilters) -> dict[str, Any]:
    return {
        "filters": filters,
        "args": filters.as_args(),  # what is applied: links, and the export's hidden fields
        "typed": request.args,  # what the filter form shows again
        "action_options": records.ACTION_OPTIONS,
        "target_options": records.TARGET_LABELS,
        "reason_options": records.REASON_OPTIONS,
        "here": request.full_path.rstrip("?"),
    }


def _mask_numbers() -> bool:
    """Refused phone, ID and card numbers are for holders of `pii` only (PLEDGE_RULES §5.4)."""
    return not current_user.can_view_pii


@bp.get("/log")
def log():
    filters = records.LogFilters.parse(request.args)
    cursor = Cursor.decode(request.args.get("after"))
    entries, next_cursor = records.log_page(
        db.session, filters=filters, zone=zone(), cursor=cursor, reach=reach(), mask_numbers=_mask_numbers()
    )
    html = render_template(
        "moderation/log.html",
        entries=entries,
        next_cursor=next_cursor,
        first_page=cursor is None,
        retention=records.retention_days(settings()),
        **_log_context(filters),
    )
    return html, 422 if filters.errors else 200  # a date that cannot be applied: said beside it


@bp.post("/log/<int:action_id>/hold")
def hold_record(action_id: int):
    return _change_hold(action_id, records.hold, "已保存在案", "已在保存中")


@bp.post("/log/<int:action_id>/release")
def release_record(action_id: int):
    return _change_hold(action_id, records.release, "已取消保存", "未在保存中")


def _change_hold(action_id: int, change: Callable[..., bool], done: str, unchanged: str):
    record = db.session.get(ModerationAction, action_id)
    if record is None or not records.within_reach(db.session, record, reach()):
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    changed = change(db.session, record=record, moderator=current_user, now=utc_now(), ip=client_ip())
    db.session.commit()
    return_to = same_site_path(request.form.get("return_to"), url_for("moderation.log"))
    if wants_fragment():
        return render_template(
            "moderation/_log_row.html",
            entry=records.entry_for(
                db.session, record, zone=zone(), reach=reach(), mask_numbers=_mask_numbers()
            ),
            here=return_to,
        )
    flash(f"記錄 #{record.id} {done if changed else unchanged}")
    return redirect(return_to, 303)


EXPORT_TYPES = {"csv": "text/csv", "json": "application/json"}
EXPORT_HEADERS = {
    "id": "編號",
    "created_at": "時間（UTC）",
    "local_time": "本地時間",
    "actor_id": "操作者編號",
    "actor": "操作者",
    # Each code beside its words, as 操作 and 理由 are: a bare role or target code (moderator,
    # user) was English in a sheet staff read.
    "actor_role": "角色代碼",
    "actor_role_label": "角色",
    "action": "操作代碼",
    "action_label": "操作",
    "target_type": "對象類型代碼",
    "target_type_label": "對象類型",
    "target_id": "對象編號",
    "reason_code": "理由代碼",
    "reason_label": "理由",
    "note": "備註",
    "before": "變更前",
    "after": "變更後",
    "ip": "IP",
    "held": "保存在案",
}
# A spreadsheet runs a cell that starts like a formula; the record's text is the users' too.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_body(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A UTF-8 BOM (spreadsheets then read the Chinese right), the headers, then the rows in blocks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_HEADERS.values())
    yield "\ufeff" + _drain(buffer)
    for number, row in enumerate(rows, 1):
        writer.writerow(_cell(row[key]) for key in EXPORT_HEADERS)
        if number % records.EXPORT_CHUNK == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _json_body(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    yield "["
    for number, row in enumerate(rows):
        yield ("," if number else "") + "\n" + json.dumps(row, ensure_ascii=False, default=str)
    yield "\n]\n"


@bp.post("/log/export")
def export_log():
    """Every filtered record as CSV or JSON, streamed in chunks. The export is logged first (a
    write, hence a POST) and covers the records that existed when it was asked for."""
    if not ActionForm().validate_on_submit():
        abort(400)
    kind = request.form.get("format", "")
    if kind not in EXPORT_TYPES:
        abort(400)
    filters = records.LogFilters.parse(request.form)
    site_zone, now = zone(), utc_now()
    up_to_id, within = records.latest_id(db.session), reach()
    count = records.count_rows(db.session, filters=filters, zone=site_zone, up_to_id=up_to_id, reach=within)
    records.record_export(
        db.session,
        moderator=current_user,
        kind=kind,
        filters=filters,
        rows=count,
        up_to_id=up_to_id,
        now=now,
        ip=client_ip(),
    )
    db.session.commit()
    rows = records.export_rows(
        db.session,
        filters=filters,
        zone=site_zone,
        up_to_id=up_to_id,
        reach=within,
        mask_numbers=_mask_numbers(),
    )
    body = _csv_body(rows) if kind == "csv" else _json_body(rows)
    response = current_app.response_class(stream_with_context(body), mimetype=EXPORT_TYPES[kind])
    filename = f"moderation-log-{localtime(now, '%Y%m%d-%H%M%S')}.{kind}"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- the dashboard ------------------------------------------------------------------------------

CHART_WIDTH, CHART_HEIGHT = 800, 400
LABEL_FONT_SIZE = 13
CHART_STYLE: dict[str, Any] = dict(  # pygal.style.Style's options
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1f1f1f",
    foreground_strong="#1f1f1f",
    foreground_subtle="#8a8a8a",
    opacity=".85",
    opacity_hover=".95",
    font_family='"Noto Sans CJK TC", "Noto Sans CJK SC", "PingFang TC", "Microsoft JhengHei", sans-serif',
    label_font_size=LABEL_FONT_SIZE,
    major_label_font_size=13,
    legend_font_size=14,
    value_font_size=12,
    tooltip_font_size=12,
    colors=("#1565c0", "#2e7d32", "#b71c1c", "#ef6c00", "#6a1b9a", "#00838f"),
)


@cache
def _pygal():
    """pygal, imported by the first chart drawn: the dashboard's images are all that use it."""
    import pygal  # here, not at the top: about 4 MiB in every process, and only these images need it

    # pygal appends to sys.meta_path a finder for its map plugins (unused here) that has only the
    # pre-3.4 find_module, so Python warns on every import that reaches it (Kozea/pygal#532).
    sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, pygal.PluginImportFixer)]
    return pygal


@cache
def _style():
    return _pygal().style.Style(**CHART_STYLE)


def _static(root):
    """pygal writes its config into a <script> even with js=[], and a tooltip group styled by a
    style attribute for that script to show: a still image needs neither."""
    for parent in list(root.iter()):
        for child in list(parent):
            script = str(child.tag).rsplit("}", 1)[-1] == "script"
            if script or "tooltip" in (child.get("class") or "").split():
                parent.remove(child)
    return root


def _chart(kind: str, **config: Any):
    """A pygal chart (`kind` names its class) without any script, at a fixed size, in the site's colours
    and type."""
    chart = getattr(_pygal(), kind)(
        js=[],
        style=_style(),
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        explicit_size=True,
        legend_at_bottom=True,
        no_data_text="暫無數據",
        print_zeroes=False,
        **config,
    )
    chart.add_xml_filter(_static)
    return chart


def _count_labels(values: Iterable[int]) -> list[int]:
    """Whole numbers on the value axis: counts have no 0.2."""
    top = max([*values, 1])
    step = max(1, math.ceil(top / 8))
    return list(range(0, top + step, step))


def _axis_labels(labels: list[str], limit: int) -> dict[str, Any]:
    """Labels cut to `limit` characters, with room on the left for them: pygal measures every
    character as 0.6 em, and a Chinese one is a whole em."""
    cut = [label if len(label) <= limit else label[: limit - 1] + "…" for label in labels]
    wide = max((sum(unicodedata.east_asian_width(c) in "WF" for c in label) for label in cut), default=0)
    extra = math.ceil(wide * 0.45 * LABEL_FONT_SIZE)
    return {"x_labels": cut, "truncate_label": -1, "margin_left": 20 + extra}


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} 秒"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.1f} 分鐘"
    return f"{seconds / 3600:.1f} 小時"


@dataclass
class Panel:
    """One chart of the dashboard: its picture, and the numbers behind it as a table."""

    name: str
    title: str
    summary: str
    headers: list[str]
    rows: list[list[Any]]
    svg: Callable[[], str]


def _daily(sections: records.Sections) -> Panel:
    days = records.daily_counts(db.session, now=utc_now(), zone=zone(), sections=sections)
    totals = [
        sum(getattr(d, kind) for d in days) for kind in ("submitted", "approved", "rejected", "blocked")
    ]

    def svg() -> str:
        chart = _chart(
            "Line",
            x_labels=[f"{d.day:%m-%d}" for d in days],
            x_labels_major_every=5,
            show_minor_x_labels=False,
            truncate_label=-1,
            dots_size=2.5,
            y_labels=_count_labels(max(d.submitted, d.approved, d.rejected, d.blocked) for d in days),
        )
        chart.add("提交", [d.submitted for d in days])
        chart.add("通過", [d.approved for d in days])
        chart.add("不通過", [d.rejected for d in days])
        chart.add("系統攔截", [d.blocked for d in days])
        return chart.render(is_unicode=True)

    return Panel(
        "daily",
        "每日評論：提交、通過、不通過（近30天）",
        f"近30天提交 {totals[0]} 條，審核員通過 {totals[1]} 條、不通過 {totals[2]} 條；提交時被規則攔截 {totals[3]} 條。",
        ["日期", "提交", "通過", "不通過", "系統攔截"],
        [[d.day.isoformat(), d.submitted, d.approved, d.rejected, d.blocked] for d in days],
        svg,
    )


def _queue(sections: records.Sections) -> Panel:
    points = records.queue_length(db.session, now=utc_now(), zone=zone(), sections=sections)
    labels = [f"{moment:%H:00}" for moment, _ in points[:-1]] + ["現在"]
    peak = max(points, key=lambda point: point[1])

    def svg() -> str:
        chart = _chart(
            "Line",
            x_labels=labels,
            x_labels_major_every=3,
            show_minor_x_labels=False,
            truncate_label=-1,
            fill=True,
            show_legend=False,
            y_labels=_count_labels(count for _, count in points),
        )
        chart.add("待審", [count for _, count in points])
        return chart.render(is_unicode=True)

    return Panel(
        "queue",
        "待審隊列長度（近24小時）",
        f"現在有 {points[-1][1]} 條評論等待審核；近24小時最多 {peak[1]} 條（{peak[0]:%m-%d %H:%M}）。",
        ["時間", "待審條數"],
        [
            [f"{moment:%Y-%m-%d %H:%M}" if n < len(points) - 1 else "現在", count]
            for n, (moment, count) in enumerate(points)
        ],
        svg,
    )


def _decision_time(sections: records.Sections) -> Panel:
    times = records.decision_times(db.session, now=utc_now(), sections=sections)
    groups = [("全部審核員", times.overall), *[(name, summary) for _, name, summary in times.moderators]]

    def svg() -> str:
        drawn = groups[::-1]  # a horizontal chart draws its first bar at the bottom
        chart = _chart(
            "HorizontalBar",
            print_values=True,
            value_formatter=lambda minutes: f"{minutes:g} 分鐘" if minutes is not None else "",
            **_axis_labels([name for name, _ in drawn] if times.overall.count else [], 10),
        )
        if times.overall.count:
            chart.add("中位數", [_minutes(summary.median) for _, summary in drawn])
            chart.add("90百分位", [_minutes(summary.p90) for _, summary in drawn])
        return chart.render(is_unicode=True)

    overall = times.overall
    summary = (
        f"近30天 {overall.count} 條評論從提交到首次處理：中位數 {duration(overall.median)}，"
        f"90% 在 {duration(overall.p90)} 內。這是讀者在先審後發下等待的時間。"
        if overall.count
        else "近30天還沒有審核員處理過待審評論。"
    )
    return Panel(
        "decision_time",
        "從提交到處理的時間（近30天）",
        summary,
        ["審核員", "處理條數", "中位數", "90百分位"],
        [[name, s.count, duration(s.median), duration(s.p90)] for name, s in groups if s.count],
        svg,
    )


def _reasons(sections: records.Sections) -> Panel:
    counts = records.removals_by_reason(db.session, now=utc_now(), sections=sections)

    def svg() -> str:
        drawn = counts[::-1]  # the most frequent reason on top
        chart = _chart(
            "HorizontalStackedBar",
            **_axis_labels([f"{c.code} {c.label}" if c.code else c.label for c in drawn], 14),
            y_labels=_count_labels(c.total for c in counts) if counts else None,
        )
        if counts:
            chart.add("不通過", [c.rejected for c in drawn])
            chart.add("隱藏", [c.hidden for c in drawn])
            chart.add("刪除", [c.deleted for c in drawn])
        return chart.render(is_unicode=True)

    top = (
        f"最多的是「{counts[0].label}」（{counts[0].total} 條）。"
        if counts
        else "近30天沒有不通過、隱藏或刪除的評論。"
    )
    return Panel(
        "reasons",
        "按理由統計的不通過、隱藏和刪除（近30天）",
        top,
        ["理由代碼", "理由", "不通過", "隱藏", "刪除", "合計"],
        [[c.code, c.label, c.rejected, c.hidden, c.deleted, c.total] for c in counts],
        svg,
    )


def _reports(sections: records.Sections) -> Panel:
    rulings = records.reports_by_ruling(db.session, now=utc_now(), sections=sections)
    total = sum(count for _, _, count in rulings)

    def svg() -> str:
        chart = _chart("Pie", inner_radius=0.45, print_values=True)
        for _, label, count in rulings:
            chart.add(label, [count] if count else [])
        return chart.render(is_unicode=True)

    return Panel(
        "reports",
        "舉報的裁定結果（近30天）",
        "近30天收到 {} 條舉報：{}。".format(
            total, "、".join(f"{label} {count} 條" for _, label, count in rulings)
        )
        if total
        else "近30天沒有收到舉報。",
        ["結果", "舉報條數"],
        [[label, count] for _, label, count in rulings],
        svg,
    )


PANELS: dict[str, Callable[[records.Sections], Panel]] = {
    "daily": _daily,
    "queue": _queue,
    "decision_time": _decision_time,
    "reasons": _reasons,
    "reports": _reports,
}


def _sections() -> records.Sections:
    """The sections the dashboard counts: a scoped moderator's (sub-sections included), or all."""
    sections = scope()
    return None if sections is None else frozenset(sections)


@bp.get("/stats")
def stats():
    sections = _sections()
    return render_template(
        "moderation/stats.html",
        panels=[make(sections) for make in PANELS.values()],
        scope_labels=moderation.scope_labels(db.session, current_user) if sections is not None else [],
    )


@bp.get("/stats/<any(daily, queue, decision_time, reasons, reports):name>.svg")
def chart(name: str):
    return svg_response(PANELS[name](_sections()).svg())


SVG_NS = "{http://www.w3.org/2000/svg}"


def svg_response(svg: str) -> Response:
    """An SVG image whose only styling is its own <style>, allowed by hash: no script at all, and
    the same picture whether shown by <img> or opened alone (where the site's CSP would strip it)."""
    if current_script() is Script.HANS:
        svg = to_simplified(svg)
    root = ElementTree.fromstring(svg.encode("utf-8"))
    hashes = [
        "'sha256-{}'".format(base64.b64encode(hashlib.sha256(style.text.encode("utf-8")).digest()).decode())
        for style in root.iter(f"{SVG_NS}style")
        if style.text
    ]
    response = current_app.response_class(svg, mimetype="image/svg+xml")
    styles = " ".join(hashes) or "'none'"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src {styles}; frame-ancestors 'none'; sandbox"
    )
    return response
