"""The moderation desk: the 先審後發 queue, reports, users and sanctions, appeals, emergencies.

Deny by default: every view of this blueprint needs a moderator or an admin (before_request);
section scopes are checked on each object in the domain.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from portal.auth import client_ip, phone_vault
from portal.confirm import unconfirmed
from portal.domain import moderation, pledge, records
from portal.domain.errors import NotAllowed, Rejected
from portal.domain.pagination import Cursor
from portal.domain.pii import mask_phone
from portal.extensions import db
from portal.flashes import QUEUE_STATUS, flash_in
from portal.forms import ActionForm
from portal.fragments import wants_fragment
from portal.models import Appeal, Comment, ModerationAction, Role, Sanction, User, utc_now
from portal.moderation import bp
from portal.moderation.forms import (
    AppealRulingForm,
    BulkForm,
    BulkHideForm,
    CloseForm,
    DecisionForm,
    LiftForm,
    MeasureForm,
    ReportRulingForm,
)
from portal.page_cache import cached_page, valid_until
from portal.page_context import section_tree, settings, to_local, zone
from portal.safe_redirect import same_site_path
from portal.words import current_word_list


def scope() -> set[int] | None:
    return moderation.scope_section_ids(db.session, current_user, lambda root: _subtree(root))


def reach() -> records.Reach | None:
    """What of the record this moderator may read: their sections' part, or all of it."""
    return records.reach_of(current_user, scope())


def _subtree(section_id: int) -> list[int]:
    tree = section_tree()
    section = tree.by_id.get(section_id)
    return tree.subtree_ids(section) if section else [section_id]


def _today():
    return to_local(utc_now()).date()


def _comment_in_scope(comment_id: int) -> Comment:
    """Unknown, or outside the moderator's sections: 404, as if it did not exist."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or not moderation.in_scope(comment, scope()):
        abort(404)
    return comment


def page_args() -> MultiDict:
    """The query of the queue page a request concerns: its own for a GET, the page it was sent
    from for a POST (return_to, or htmx's current URL), so tabs and filters survive decisions."""
    if request.method == "GET":
        return request.args
    source = request.form.get("return_to") or (request.htmx.current_url if request.htmx else "") or ""
    return MultiDict(parse_qsl(urlsplit(source).query))


# A section filter from a stale or edited link: said, as a date that cannot be applied is. Applied,
# a section outside a scoped desk emptied the list under 欄目「全部」, as if nothing were waiting.
SECTION_NOT_APPLIED = "找不到欄目「{}」，或它不在您負責的欄目內；此條件未套用"


def _filters(args: MultiDict) -> tuple[moderation.QueueFilters, Mapping[str, str]]:
    """The queue's filters, and a message for each that cannot be applied (by field name)."""
    tree = section_tree()
    slug, within = args.get("section", ""), scope()
    section = tree.by_slug(slug) if slug else None
    days = records.day_range(args, "since", "until")
    errors = dict(days.errors)
    if slug and (section is None or (within is not None and section.id not in within)):
        errors["section"] = SECTION_NOT_APPLIED.format(slug[:20] + ("…" if len(slug) > 20 else ""))
        section = None

    def midnight(day: date | None, *, after: bool = False) -> datetime | None:
        """Local days, both ends included, as the UTC times the column holds."""
        return None if day is None else records.day_start(day + timedelta(days=after), zone())

    filters = moderation.QueueFilters(
        section_ids=tree.subtree_ids(section) if section else None,
        article_id=records.parse_id(args.get("article", "")),
        author_id=records.parse_id(args.get("author", "")),
        flag=args.get("flag", "")[:20],
        new_users=args.get("new") == "1",
        since=midnight(days.since),
        until=midnight(days.until, after=True),
        text=args.get("q", "")[:50],
        nickname=args.get("nickname", "")[:32],
        ip_prefix=args.get("ip", "")[:45],
    )
    return filters, errors


def _highlight(text: str, rule_hits: str | None) -> list[tuple[str, bool]]:
    """The text cut into (piece, is_hit) by the rule hits' offsets into the raw text."""
    try:
        spans = sorted((h["start"], h["end"]) for h in json.loads(rule_hits or "[]"))
    except (ValueError, KeyError, TypeError):
        spans = []
    pieces, position = [], 0
    for start, end in spans:
        start, end = max(start, position), min(end, len(text))
        if start >= end:
            continue
        if position < start:
            pieces.append((text[position:start], False))
        pieces.append((text[start:end], True))
        position = end
    if position < len(text):
        pieces.append((text[position:], False))
    return pieces


def _row_context(rows: list[Comment]) -> dict:
    now = utc_now()
    records = moderation.author_records(db.session, {c.author for c in rows}, now=now)
    suggestions = moderation.suggest_measures(db.session, records, now=now)
    for record in records.values():  # a measure's line goes when it ends, with no write
        if record.sanction is not None and record.sanction.ends_at is not None:
            valid_until(record.sanction.ends_at)
    return {
        "records": records,
        "suggestions": suggestions,
        "reports": moderation.open_reports(db.session, [c.id for c in rows]),
        "highlights": {c.id: _highlight(c.body, c.rule_hits) for c in rows},
        # An edit of a published comment waiting for review, beside the text it would replace.
        "edit_highlights": {
            c.id: _highlight(c.pending_body, c.pending_rule_hits) for c in rows if c.pending_body is not None
        },
        "decision_form": DecisionForm(formdata=None),
        "ruling_form": ReportRulingForm(formdata=None),
        "reason_labels": pledge.REASON_LABELS,
        "flag_labels": pledge.FLAG_LABELS,
        "review_stamp": moderation.review_stamp,
        "now": now,
    }


def _counts_context(oob: bool = False) -> dict:
    args = page_args()
    tab = args.get("tab", "pending")
    return {
        "counts": moderation.tab_counts(db.session, scope()),
        "tab": tab if tab in moderation.TABS else "pending",
        "labels": moderation.TAB_LABELS,
        # Not `query`: base.html fills the site's search box with that.
        "filter_query": _query_without(args, "tab", "after"),
        "oob": oob,
    }


def _counts(oob: bool = False) -> str:
    return render_template("moderation/_queue_counts.html", **_counts_context(oob))


def _query_without(args: MultiDict, *names: str) -> str:
    kept = [(k, v) for k, v in args.items(multi=True) if k not in names and v]
    return urlencode(kept)


@bp.get("/")
@cached_page
def queue():
    if request.args.get("tab") == "appeals":
        return appeals()
    return render_queue()


def render_queue(
    errors: dict[int, str] | None = None,
    bulk_form: BulkForm | None = None,
    submitted: dict[int, DecisionForm] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """The queue page for page_args(); a no-JS form error comes back here with its message, and a
    date filter that cannot be applied with its own, beside the field (422, what was typed kept)."""
    args = page_args()
    tab = _queue_tab(args)
    cursor = Cursor.decode(args.get("after"))
    filters, filter_errors = _filters(args)
    within = scope()
    rows, next_cursor = moderation.queue_page(
        db.session, tab=tab, filters=filters, scope=within, cursor=cursor, now=utc_now()
    )
    html = render_template(
        "moderation/queue.html",
        rows=rows,
        next_cursor=next_cursor,
        bulk_form=bulk_form or BulkForm(formdata=None),
        # A scoped desk filters among its own sections: the others would only ever show nothing.
        sections=[choice for choice in section_tree().choices() if within is None or choice[0].id in within],
        flags=pledge.FLAG_LABELS,
        args=args,
        here=_here(args),
        errors=errors or {},
        # A refused row that is not on this page (another tab, a later page, filtered out): its
        # message goes above the list, or the moderator would see the page and no word of why.
        stray_errors={cid: m for cid, m in (errors or {}).items() if cid not in {r.id for r in rows}},
        submitted=submitted or {},
        ticked=set(bulk_form.ticked_ids()) if bulk_form else set(),
        filter_errors=filter_errors,
        **_row_context(rows),
        **{**_counts_context(), "tab": tab},
    )
    return html, 422 if filter_errors else status


def _queue_tab(args: MultiDict) -> str:
    tab = args.get("tab", "pending")
    return "pending" if tab not in moderation.TABS or tab == "appeals" else tab


def _here(args: MultiDict) -> str:
    """The queue page of `args`, where its forms send the moderator back (return_to)."""
    query = urlencode(list(args.items(multi=True)))
    return url_for("moderation.queue") + (f"?{query}" if query else "")


@bp.get("/counts")
@cached_page
def counts():
    """The tab counts; the page polls it, so new comments announce themselves without a reload."""
    return _counts()


def _back(return_to: str | None):
    return redirect(same_site_path(return_to, url_for("moderation.queue")), 303)


def _queue_status(message: str, kind: str = "success") -> str:
    """An action's outcome, out of band into the queue's #queue-status live region (its content only:
    see moderation/_queue_status.html), where a screen reader hears of it."""
    return render_template(
        "moderation/_queue_status.html", oob=True, status_message=message, status_kind=kind
    )


def _done_row(comment: Comment, message: str, status: int = 200):
    body = render_template("moderation/_queue_row_done.html", comment=comment, message=message)
    kind = "success" if status < 400 else "error"
    return body + _counts(oob=True) + _queue_status(f"#{comment.id} {message}", kind), status


def _row(comment: Comment, return_to: str | None, **extra) -> str:
    """The comment's row again, as the queue page it was sent from shows it."""
    return render_template(
        "moderation/_queue_row.html",
        c=comment,
        here=same_site_path(return_to, url_for("moderation.queue")),
        **_row_context([comment]),
        **extra,
    )


# A choice that is not on the form (a made-up decision, a forged reason), in the desk's words.
CHOICE_MESSAGES = {
    "decision": "請選擇處理方式",
    "ruling": "請選擇裁定結果",
    "reason": "請選擇處理理由",
    "ids": "請先勾選評論",
}


def _shape_problem(form: DecisionForm | ReportRulingForm | BulkForm) -> str:
    """A decision form that does not hold together. A bad token is 400; anything else the
    moderator can fix, so the row comes back with what they chose and typed: a choice's message
    for the row, the note's beside the note."""
    if "csrf_token" in form and form.csrf_token.errors:
        abort(400)
    for name, message in CHOICE_MESSAGES.items():
        if name in form and form[name].errors:
            form[name].errors[:] = [message]
            return message
    return ""


@bp.post("/comments/<int:comment_id>/decision")
def decide(comment_id: int):
    comment = _comment_in_scope(comment_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _refused(comment, _shape_problem(form), 422, form.return_to.data, form)
    on_edit = moderation.decides_edit(comment, form.decision.data)
    try:
        moderation.decide(
            db.session,
            comment=comment,
            moderator=current_user,
            decision=form.decision.data,
            reason_code=form.reason.data or "",
            note=form.note.data or "",
            scope=scope(),
            seen=form.seen.data,
            now=utc_now(),
            today=_today(),
        )
    except moderation.ChangedMeanwhile as changed:
        db.session.rollback()
        return _refused(comment, str(changed), 409, form.return_to.data, form, show_again=True)
    except moderation.AlreadyDecided as decided:
        db.session.rollback()
        return _refused(comment, str(decided), 409, form.return_to.data)
    except moderation.InvalidTransition:
        db.session.rollback()
        return _refused(comment, moderation.CANNOT_DECIDE, 409, form.return_to.data)
    except Rejected as refusal:
        db.session.rollback()
        return _refused(comment, refusal.message, 422, form.return_to.data, form)
    except NotAllowed:
        abort(404)
    db.session.commit()
    message = moderation.outcome(form.decision.data, on_edit=on_edit)
    if wants_fragment():
        return _done_row(comment, message)
    flash_in(QUEUE_STATUS, f"評論 #{comment.id} {message}")
    return _back(form.return_to.data)


def _refused(
    comment: Comment,
    message: str,
    status: int,
    return_to: str | None,
    form: DecisionForm | ReportRulingForm | None = None,
    show_again: bool = False,
):
    """Decided meanwhile: the row says so. A form mistake, or a text the author changed since the
    row showed it (show_again): the same row again, as it is now, with the message (without
    JavaScript: the same queue page, the message beside the row)."""
    if not wants_fragment():
        if show_again:
            return render_queue(errors={comment.id: message}, status=status)
        if status == 422:
            return render_queue(
                errors={comment.id: message}, submitted={comment.id: form} if form else None, status=422
            )
        flash_in(QUEUE_STATUS, message, "error")
        return _back(return_to)
    db.session.refresh(comment)
    if status == 409 and not show_again:
        return _done_row(comment, message, status)
    # The row again with its message (role="alert", announced as it arrives), where the focus goes back.
    return _row(comment, return_to, error=message, submitted={comment.id: form} if form else {}), status


@bp.post("/bulk")
def bulk():
    form = BulkForm()
    if not form.validate_on_submit():
        _shape_problem(form)
        return _bulk_refused(form)
    if not form.ids.data:
        form.ids.errors.append("請先勾選評論")
        return _bulk_refused(form)
    ticked = form.ticked_ids()[:200]
    edits = {
        comment_id
        for comment_id in ticked
        if (comment := db.session.get(Comment, comment_id)) is not None
        and moderation.decides_edit(comment, form.decision.data)
    }
    try:
        done, skipped = moderation.decide_many(
            db.session,
            comment_ids=ticked,
            seen=form.seen_stamps(),
            moderator=current_user,
            decision=form.decision.data,
            reason_code=form.reason.data or "",
            note=form.note.data or "",
            scope=scope(),
            now=utc_now(),
            today=_today(),
        )
    except Rejected as refusal:
        db.session.rollback()
        form.reason.errors.append(refusal.message)
        return _bulk_refused(form)
    db.session.commit()
    label = moderation.DECISION_LABELS[form.decision.data]
    if wants_fragment():
        return _bulk_done(form.decision.data, done, skipped, form.return_to.data, edits)
    flash_in(QUEUE_STATUS, _bulk_summary(label, done, skipped), "success" if done else "error")
    return _back(form.return_to.data)


def _bulk_summary(label: str, done: list[Comment], skipped: dict[int, str]) -> str:
    tally = Counter(SKIPPED_SUMMARY.get(why, why) for why in skipped.values())
    return f"已{label} {len(done)} 條" + "".join(f"；{n} 條{why}" for why, n in tally.items())


def _bulk_form(form: BulkForm, outcome: tuple[str, str] | None = None) -> str:
    args = page_args()
    return render_template(
        "moderation/_bulk_form.html", bulk_form=form, here=_here(args), tab=_queue_tab(args), outcome=outcome
    )


def _bulk_refused(form: BulkForm):
    """Nothing ticked, no reason, a note too long: the bulk form again with its message and what
    was chosen and typed (the ticks are in the rows, which stay as they are); without JavaScript,
    the queue page with them, 422."""
    if not wants_fragment():
        return render_queue(bulk_form=form, status=422)
    return _bulk_form(form), 422


# Why a ticked comment was left as it was, in the bulk's summary ("；2 條已由其他審核員處理").
SKIPPED_SUMMARY = {
    moderation.ALREADY_DECIDED: "已由其他審核員處理",
    moderation.DECIDED_BY_YOU: "您已處理過",
    moderation.WITHDRAWN_BY_AUTHOR: "作者已撤回",
    moderation.CANNOT_DECIDE: "目前的狀態不能這樣處理",
    moderation.NOT_IN_REACH: moderation.NOT_IN_REACH,
    moderation.CHANGED_MEANWHILE: "作者剛修改過，請看過修改後的內容再處理",
}


def _bulk_done(
    decision: str, done: list[Comment], skipped: dict[int, str], return_to: str | None, edits: set[int]
):
    """A bulk decision with htmx: the form blank again (no ticks left) with what became of the
    ticked rows, each row decided in its place out of band, the tab counts, and the summary read
    out from #queue-status. A comment that is unknown or outside the moderator's sections has no
    row to answer: only the summary says so, in words that do not tell which it was. A row whose
    edit was decided says so (`edits`)."""
    label = moderation.DECISION_LABELS[decision]
    rows = [
        render_template(
            "moderation/_queue_row_done.html",
            comment=c,
            message=moderation.outcome(decision, on_edit=c.id in edits),
            oob=True,
        )
        for c in done
    ]
    for comment_id, why in skipped.items():
        if why == moderation.CHANGED_MEANWHILE:  # the row again, with the text now to decide
            rows.append(_row(db.session.get(Comment, comment_id), return_to, error=why, oob=True))
        elif (
            why != moderation.NOT_IN_REACH
        ):  # decided meanwhile: the row says so, as a single decision's does
            comment = db.session.get(Comment, comment_id)
            rows.append(
                render_template("moderation/_queue_row_done.html", comment=comment, message=why, oob=True)
            )
    summary = _bulk_summary(label, done, skipped)
    if done:
        kind, status = "success", 200
    else:  # nothing decided: 409 when rows were taken meanwhile, else none of them was there to decide
        kind, status = "error", 409 if rows else 404
    blank = BulkForm(formdata=None)
    html = (
        _bulk_form(blank, (kind, summary)) + "".join(rows) + _counts(oob=True) + _queue_status(summary, kind)
    )
    return html, status


@bp.post("/comments/<int:comment_id>/reports")
def rule_reports(comment_id: int):
    comment = _comment_in_scope(comment_id)
    form = ReportRulingForm()
    if not form.validate_on_submit():
        return _refused(comment, _shape_problem(form), 422, form.return_to.data, form)
    try:
        moderation.rule_reports(
            db.session,
            comment=comment,
            moderator=current_user,
            ruling=form.ruling.data,
            reason_code=form.reason.data or "",
            note=form.note.data or "",
            scope=scope(),
            now=utc_now(),
        )
    except (moderation.AlreadyDecided, moderation.InvalidTransition):
        db.session.rollback()
        return _refused(comment, moderation.ALREADY_DECIDED, 409, form.return_to.data)
    except Rejected as refusal:
        db.session.rollback()
        return _refused(comment, refusal.message, 422, form.return_to.data, form)
    db.session.commit()
    message = {"upheld": "舉報成立，評論已刪除", "not_upheld": "舉報不成立", "malicious": "已判定為惡意舉報"}[
        form.ruling.data
    ]
    if wants_fragment():
        return _done_row(comment, message)
    flash_in(QUEUE_STATUS, f"評論 #{comment.id} {message}")
    return _back(form.return_to.data)


@bp.post("/comments/<int:comment_id>/pin")
def pin(comment_id: int):
    return _toggle(comment_id, moderation.toggle_pin, lambda c: "已置頂" if c.pinned_at else "已取消置頂")


@bp.post("/comments/<int:comment_id>/feature")
def feature(comment_id: int):
    return _toggle(
        comment_id, moderation.toggle_feature, lambda c: "已設為精選" if c.featured else "已取消精選"
    )


def _toggle(comment_id: int, change, done: Callable[[Comment], str]):
    """置頂 or 精選, on or off. With htmx: the row again, its button saying what a press does now,
    and the outcome read out from #queue-status; without, the queue page again with it."""
    comment = _comment_in_scope(comment_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return_to = request.form.get("return_to")
    try:
        change(db.session, comment=comment, moderator=current_user, now=utc_now())
    except Rejected as refusal:
        db.session.rollback()
        message, kind, status = refusal.message, "error", refusal.status
    else:
        db.session.commit()
        message, kind, status = done(comment), "success", 200
    if wants_fragment():
        db.session.refresh(comment)
        if kind == "error":  # said in the row, as a decision's refusal is
            return _row(comment, return_to, error=message), status
        return _row(comment, return_to) + _queue_status(f"#{comment.id} {message}"), status
    flash_in(QUEUE_STATUS, f"評論 #{comment.id} {message}", kind)
    return _back(return_to)


# --- users and the ladder -------------------------------------------------------------------------


@bp.get("/users/<int:user_id>")
def user(user_id: int):
    person = db.session.get(User, user_id)
    if person is None:
        abort(404)
    return render_user(person)


# What the record keeps of a 解除 given without a note (an appeal's ruling records its own).
LIFT_NOTE = "手動解除"


def render_user(
    person: User, form: MeasureForm | None = None, lift: tuple[int, LiftForm] | None = None
) -> str:
    """`lift`: a refused 解除 (the sanction's id and its form), shown again as typed."""
    now = utc_now()
    recent = moderation.recent_comments(db.session, person, scope())
    sanctions = list(
        db.session.scalars(
            db.select(Sanction).where(Sanction.user_id == person.id).order_by(Sanction.created_at.desc())
        )
    )
    return render_template(
        "moderation/user.html",
        person=person,
        masked_phone=mask_phone(phone_vault().decrypt(person.phone_cipher)),
        record=moderation.author_records(db.session, [person], now=now)[person.id],
        suggestion=moderation.suggest_measure(db.session, person, now=now),
        recent=recent,
        # Listed with the way to where each is decided: the 待審 tab, filtered to this user.
        waiting_edits=moderation.waiting_edits(db.session, person, scope()),
        sanctions=sanctions,
        # Only what this moderator may lift gets a button (an admin's 停用, staff: admins only).
        lift_refusals={s.id: moderation.lift_refusal(s, person, current_user) for s in sanctions},
        measure_refusal=moderation.measure_refusal(person, current_user),
        form=form or MeasureForm(formdata=None),
        action_form=ActionForm(),
        lift_forms={s.id: LiftForm(formdata=None) for s in sanctions} | (dict([lift]) if lift else {}),
        reason_labels=pledge.REASON_LABELS,
        measures=moderation.MEASURES,
    )


@bp.post("/users/<int:user_id>/phone")
def reveal_phone(user_id: int):
    """The unmasked phone for holders of `pii`; every view is logged."""
    person = db.session.get(User, user_id)
    if person is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        phone = moderation.reveal_phone(
            db.session, viewer=current_user, user=person, vault=phone_vault(), now=utc_now(), ip=client_ip()
        )
    except NotAllowed:
        abort(403)
    db.session.commit()
    return render_template("moderation/phone.html", person=person, phone=phone)


@bp.post("/users/<int:user_id>/measures")
def measure(user_id: int):
    person = db.session.get(User, user_id)
    if person is None:
        abort(404)
    form = MeasureForm()
    if form.validate_on_submit():
        try:
            moderation.apply_measure(
                db.session,
                user=person,
                moderator=current_user,
                measure=form.measure.data,
                reason_code=form.reason.data,
                note=form.note.data or "",
                days=int(form.days.data) if (form.days.data or "").isdigit() else None,
                now=utc_now(),
                zone=zone(),
            )
        except Rejected as refusal:
            db.session.rollback()
            form[refusal.field if refusal.field in form else "measure"].errors.append(refusal.message)
        except NotAllowed:
            abort(403)
        else:
            db.session.commit()
            flash(f"已對 {person.nickname} 採取措施：{moderation.MEASURES[form.measure.data]}")
            return redirect(url_for("moderation.user", user_id=person.id), 303)
    return render_user(person, form), 422


@bp.post("/sanctions/<int:sanction_id>/lift")
def lift(sanction_id: int):
    sanction = db.session.get(Sanction, sanction_id)
    if sanction is None:
        abort(404)
    person = db.get_or_404(User, sanction.user_id)
    form = LiftForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return render_user(person, lift=(sanction.id, form)), 422  # the note too long: kept, said beside it
    refusal = moderation.lift_refusal(sanction, person, current_user)
    if not refusal and sanction.lifted_at is None:  # asked only of what this desk may still lift
        question = f"確定解除 {person.nickname} 的措施「{moderation.MEASURES.get(sanction.measure, sanction.measure)}」？"
        if (asking := unconfirmed(question, url_for("moderation.user", user_id=person.id))) is not None:
            return asking
    try:
        moderation.lift_measure(
            db.session,
            sanction=sanction,
            moderator=current_user,
            note=form.note.data or LIFT_NOTE,
            now=utc_now(),
        )
    except Rejected as refused:  # not this moderator's to lift: the user page again, with why
        db.session.rollback()
        flash(refused.message, "error")
        return render_user(person), refused.status
    except moderation.AlreadyDecided as lifted:
        db.session.rollback()
        flash(str(lifted), "error")
    else:
        db.session.commit()
        flash("已解除措施")
    return redirect(url_for("moderation.user", user_id=sanction.user_id), 303)


# --- appeals --------------------------------------------------------------------------------------


def appeals(status: int = 200, refused: tuple[int, AppealRulingForm] | None = None):
    """The open appeals; `refused`, a ruling's form that did not validate, shows again as typed."""
    rows = moderation.open_appeals(db.session, scope())
    html = render_template(
        "moderation/appeals.html",
        rows=rows,
        **_appeals_context(rows),
        **{**_counts_context(), "tab": "appeals"},
        forms=dict([refused]) if refused else {},
    )
    return html, status


def _appeals_context(rows: list[Appeal]) -> dict:
    # Why this desk may not rule an appeal (their own decision or appeal, an admin's to rule),
    # or why the decider rules it all the same (本人覆核): said on the row, instead of a form.
    refusals = {a.id: moderation.appeal_refusal(db.session, a, current_user) for a in rows}
    return {
        "targets": {a.id: moderation.appeal_subject(db.session, a) for a in rows},
        "authors": {a.id: db.session.get(User, a.author_id) for a in rows},
        "refusals": refusals,
        "self_reviews": {
            a.id: moderation.self_review(db.session, a, current_user) for a in rows if not refusals[a.id]
        },
        "form": AppealRulingForm(formdata=None),
        "reason_labels": pledge.REASON_LABELS,
        "measures": moderation.MEASURES,
    }


def _appeal_row(appeal: Appeal, *, form: AppealRulingForm | None = None, error: str = "") -> str:
    """The appeal's row again: the form as typed, or why this desk may not rule it (`error`)."""
    return render_template(
        "moderation/_appeal_row.html",
        appeal=appeal,
        **_appeals_context([appeal]),
        forms={appeal.id: form} if form else {},
        error=error,
    )


def _appeal_done(appeal: Appeal, message: str, status: int = 200):
    """A ruled appeal with htmx: its decided line in place, the tab counts, and the outcome read out."""
    db.session.refresh(appeal)
    body = render_template("moderation/_appeal_row_done.html", appeal=appeal, message=message)
    kind = "success" if status < 400 else "error"
    return body + _counts(oob=True) + _queue_status(f"申訴 #{appeal.id} {message}", kind), status


OVERTURN_LABELS = {"0": "已處理：維持原決定", "1": "已處理：撤銷原決定"}
DECIDER_MAY_NOT_RULE = "原決定的審核員不能處理對其決定的申訴，請由其他審核員處理"
APPEAL_NOT_IN_REACH = "此申訴不存在或不在您的審核範圍內"


@bp.post("/appeals/<int:appeal_id>/ruling")
def rule_appeal(appeal_id: int):
    appeal = db.session.get(Appeal, appeal_id)
    if appeal is None or not moderation.appeal_in_scope(db.session, appeal, scope()):
        if wants_fragment():  # said where htmx errors go, in words that do not tell which it was
            return _out_of_reach(APPEAL_NOT_IN_REACH)
        abort(404)
    form = AppealRulingForm()
    if not form.validate_on_submit():  # a note over its length or a made-up ruling: said, and kept
        if wants_fragment():
            return _appeal_row(appeal, form=form), 422
        return appeals(422, refused=(appeal.id, form))
    try:
        moderation.rule_appeal(
            db.session,
            appeal=appeal,
            moderator=current_user,
            overturn=form.overturn.data == "1",
            note=form.note.data or "",
            now=utc_now(),
        )
    except NotAllowed:
        db.session.rollback()
        if wants_fragment():
            return _appeal_row(appeal, error=DECIDER_MAY_NOT_RULE), 403
        flash_in(QUEUE_STATUS, DECIDER_MAY_NOT_RULE, "error")
    except Rejected as refusal:  # an admin's to rule: the appeals again, with why
        db.session.rollback()
        if wants_fragment():
            return _appeal_row(appeal, error=refusal.message), refusal.status
        flash_in(QUEUE_STATUS, refusal.message, "error")
        return appeals(refusal.status)
    except moderation.AlreadyDecided as decided:
        db.session.rollback()
        if wants_fragment():
            return _appeal_done(appeal, str(decided), 409)
        flash_in(QUEUE_STATUS, str(decided), "error")
    else:
        db.session.commit()
        if wants_fragment():
            return _appeal_done(appeal, OVERTURN_LABELS[form.overturn.data])
        flash_in(QUEUE_STATUS, f"申訴 #{appeal.id} 已處理")
    return redirect(url_for("moderation.queue", tab="appeals"), 303)


def _out_of_reach(message: str):
    """An htmx action on something unknown or outside the moderator's sections: 404 and why, in
    #messages like any htmx error (portal/errors.py), not the page's generic 頁面不存在."""
    response = current_app.response_class(render_template("errors/_message.html", message=message), 404)
    response.headers.update({"HX-Retarget": "#messages", "HX-Reswap": "innerHTML"})
    return response


# --- emergencies and patrol ----------------------------------------------------------------------


@bp.get("/emergency")
def emergency():
    return render_emergency()


def render_emergency(close_form: CloseForm | None = None, hide_form: BulkHideForm | None = None) -> str:
    within = reach()
    recent, undone = records.recent_emergencies(db.session, reach=within)
    close_form = close_form or CloseForm(formdata=None)
    if current_user.role != Role.ADMIN:  # 全站 is the admins' (SITE_CLOSE_ADMINS_ONLY): not offered
        close_form.target_type.choices = [c for c in close_form.target_type.choices if c.value != "site"]
    return render_template(
        "moderation/emergency.html",
        close_form=close_form,
        hide_form=hide_form or BulkHideForm(formdata=None),
        action_form=ActionForm(),
        recent=recent,
        undone=undone,
        hidden=records.hidden_parts(db.session, recent, reach=within),  # a scoped reach: their part only
        undoable={action.id for action in recent if records.may_undo(action, within)},
        scoped=within is not None,
        site_closed=_site_closed(),
    )


def _site_closed() -> bool:
    return settings().get("comments_closed_site") == "1"


SITE_CLOSE_ADMINS_ONLY = "只有管理員可以關閉或重新開放全站評論；請選擇文章或欄目"


@bp.post("/emergency/close")
def close_comments():
    form = CloseForm()
    if not form.validate_on_submit():
        return render_emergency(close_form=form), 422
    if form.target_type.data != "site" and not form.target_id.data:
        form.target_id.errors.append("請填寫文章或欄目的編號")
        return render_emergency(close_form=form), 422
    if form.target_type.data == "site" and current_user.role != Role.ADMIN:
        # Said beside the choice, the form kept: a bare 403 page lost it and did not say why.
        form.target_type.errors.append(SITE_CLOSE_ADMINS_ONLY)
        return render_emergency(close_form=form), 403
    try:
        moderation.close_comments(
            db.session,
            moderator=current_user,
            target_type=form.target_type.data,
            target_id=form.target_id.data,
            closed=form.closed.data,
            now=utc_now(),
            scope=scope(),
        )
    except Rejected as refusal:
        db.session.rollback()
        form.target_id.errors.append(refusal.message)
        return render_emergency(close_form=form), refusal.status
    except NotAllowed:
        abort(404)
    db.session.commit()
    flash("已關閉評論" if form.closed.data else "已重新開放評論")
    return redirect(url_for("moderation.emergency"), 303)


@bp.post("/emergency/hide")
def bulk_hide():
    form = BulkHideForm()
    if not form.validate_on_submit():
        return render_emergency(hide_form=form), 422
    try:
        action = moderation.bulk_hide(
            db.session,
            moderator=current_user,
            user_id=form.user_id.data,
            ip_prefix=form.ip_prefix.data or "",
            term=form.term.data or "",
            reason_code=form.reason.data,
            note=form.note.data or "",
            scope=scope(),
            now=utc_now(),
        )
    except Rejected as refusal:
        db.session.rollback()
        form[refusal.field if refusal.field in form else "term"].errors.append(refusal.message)
        return render_emergency(hide_form=form), 422
    db.session.commit()
    flash(f"已隱藏 {len(json.loads(action.after)['hidden'])} 條評論，可在下方撤銷")
    return redirect(url_for("moderation.emergency"), 303)


@bp.post("/emergency/<int:action_id>/undo")
def undo(action_id: int):
    action, within = db.session.get(ModerationAction, action_id), reach()
    if (
        action is None
        or action.action != "emergency.bulk_hide"
        or not records.within_reach(db.session, action, within)
        or not records.may_undo(action, within)
    ):
        abort(404)  # a scoped moderator undoes their own bulk hides only, though they read others'
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        restored = moderation.undo_bulk_hide(
            db.session, action=action, moderator=current_user, now=utc_now(), scope=scope()
        )
    except moderation.AlreadyDecided:
        db.session.rollback()
        flash("這次操作已撤銷過", "error")
    else:
        db.session.commit()
        flash(f"已恢復 {len(restored)} 條評論")
    return redirect(url_for("moderation.emergency"), 303)


@bp.post("/patrol")
def run_patrol():
    if not ActionForm().validate_on_submit():
        abort(400)
    hits = moderation.patrol(
        db.session, words=current_word_list(), now=utc_now(), actor=current_user, scope=scope()
    )
    db.session.commit()
    flash_in(QUEUE_STATUS, f"巡查完成：{len(hits)} 條評論命中詞庫")
    return redirect(url_for("moderation.queue", tab="patrol"), 303)
