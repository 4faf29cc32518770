"""The newsroom's back office (/admin): plain forms, POST → redirect → flash. Admins only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import maxminddb
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.admin.forms import (
    AccountStateForm,
    ArticleForm,
    MediaForm,
    PageForm,
    PasswordForm,
    SectionForm,
    SettingsForm,
    StaffForm,
    UserAccessForm,
    WordForm,
    WordImportForm,
    WordTestForm,
    ids_of,
)
from portal.auth import password_hasher, phone_vault, unauthorized
from portal.confirm import unconfirmed
from portal.domain import (
    accounts,
    audit,
    editorial,
    media_files,
    moderation,
    news,
    records,
    region,
    sensitive_words,
    staff,
)
from portal.domain.errors import Rejected
from portal.domain.media_files import Upload, store_upload
from portal.domain.pagination import Cursor
from portal.domain.pii import mask_phone, normalise_phone
from portal.domain.pledge import CATEGORY_LABELS, check_text
from portal.domain.site import comment_rules, load_settings
from portal.domain.wordlist import to_csv
from portal.extensions import db
from portal.forms import ActionForm
from portal.models import Article, Media, Page, Role, Section, SensitiveWord, User, utc_now
from portal.page_context import settings, to_local, zone
from portal.words import current_word_list

Saved = TypeVar("Saved")

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def admins_only():
    if not current_user.is_authenticated:
        return unauthorized()
    if current_user.role != Role.ADMIN:
        abort(403)
    return None


def as_id(raw: str | None) -> int | None:
    """An id typed or posted: ASCII digits within 64 bits, else nothing (no ValueError, no overflow)."""
    raw = (raw or "").strip()
    if raw.isascii() and raw.isdecimal() and len(raw) <= 18:
        return int(raw)
    return None


def _attempt(form, change: Callable[[], Saved]) -> tuple[Saved | None, int]:
    """Runs one domain change: committed and returned with 200, or rolled back with the refusal
    shown on the form (None and the refusal's status)."""
    try:
        saved = change()
    except Rejected as refusal:
        db.session.rollback()
        return None, _fail(form, refusal)
    db.session.commit()
    return saved, 200


def _fail(form, refusal: Rejected) -> int:
    field = form._fields.get(refusal.field)
    if field is not None:
        field.errors.append(refusal.message)
    else:
        flash(refusal.message, "error")
    return refusal.status


def _utc(local: datetime) -> datetime:
    """A local time typed by an editor, in UTC; the first and last days of the calendar clamp."""
    try:
        return local.replace(tzinfo=zone()).astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        return datetime.min if local.year < 2 else datetime.max


@bp.get("/")
def index():
    counts = {
        "articles": db.session.scalar(select(func.count()).select_from(Article)),
        "sections": db.session.scalar(select(func.count()).select_from(Section)),
        "media": db.session.scalar(select(func.count()).select_from(Media)),
        "words": db.session.scalar(select(func.count()).select_from(SensitiveWord)),
        "users": db.session.scalar(select(func.count()).select_from(User)),
    }
    return render_template("admin/index.html", counts=counts)


# --- sections ---------------------------------------------------------------------------------


def _all_sections() -> list[Section]:
    return list(
        db.session.scalars(
            select(Section).order_by(Section.parent_id.is_not(None), Section.position, Section.id)
        )
    )


def _section_options(exclude: int | None = None) -> list[tuple[int, str]]:
    """Every section (hidden ones too) as a choice, under its parent and named by its path."""
    return [(section.id, label) for section, label in news.section_paths(_all_sections(), exclude=exclude)]


def _section_choices(form: SectionForm, exclude: int | None = None) -> None:
    form.parent_id.choices = [("", "（頂級欄目）")] + [
        (str(i), label) for i, label in _section_options(exclude)
    ]


@bp.get("/sections")
def sections():
    rows = _all_sections()
    children: dict[int | None, list[Section]] = {}
    for section in rows:
        children.setdefault(section.parent_id, []).append(section)
    counts = dict(
        db.session.execute(select(Article.section_id, func.count()).group_by(Article.section_id)).all()
    )
    return render_template("admin/sections.html", children=children, counts=counts, action_form=ActionForm())


@bp.route("/sections/new", methods=["GET", "POST"])
@bp.route("/sections/<int:section_id>", methods=["GET", "POST"])
def section_form(section_id: int | None = None):
    section = db.get_or_404(Section, section_id) if section_id is not None else None
    form = SectionForm(obj=section if request.method == "GET" else None)
    if request.method == "GET" and section is not None:
        form.parent_id.data = str(section.parent_id or "")
    _section_choices(form, exclude=section.id if section else None)
    status = 200
    if request.method == "POST":
        status = 422
        valid = form.validate_on_submit()
        if form.parent_id.data and as_id(form.parent_id.data) is None:
            form.parent_id.errors = [*form.parent_id.errors, "上級欄目不存在"]
            valid = False
        if valid:
            data = editorial.SectionInput(
                slug=form.slug.data,
                name=form.name.data,
                parent_id=as_id(form.parent_id.data),
                position=form.position.data or 0,
                description=form.description.data or "",
                layout=form.layout.data,
                hidden=form.hidden.data,
                comments_closed=form.comments_closed.data,
                auto_close_days=form.auto_close_days.data,
            )
            saved, status = _attempt(
                form,
                lambda: editorial.save_section(
                    db.session, section=section, data=data, actor=current_user, now=utc_now()
                ),
            )
            if saved is not None:
                flash(f"欄目「{saved.name}」已保存")
                return redirect(url_for("admin.sections"), 303)
    return render_template("admin/section_form.html", form=form, section=section), status


def _delete(change: Callable[[], object], done: str, listing: str, question: str) -> Response | str:
    """A delete button (CSRF only): asked first, then back to the list with `done`, or with the refusal."""
    if not ActionForm().validate_on_submit():
        abort(400)
    if (asking := unconfirmed(question, url_for(listing))) is not None:
        return asking
    try:
        change()
    except Rejected as refusal:
        db.session.rollback()
        flash(refusal.message, "error")
    else:
        db.session.commit()
        flash(done)
    return redirect(url_for(listing), 303)


@bp.post("/sections/<int:section_id>/delete")
def delete_section(section_id: int):
    section = db.get_or_404(Section, section_id)
    return _delete(
        lambda: editorial.delete_section(db.session, section=section, actor=current_user, now=utc_now()),
        "欄目已刪除",
        "admin.sections",
        f"確定刪除欄目「{section.name}」？",
    )


# --- articles ---------------------------------------------------------------------------------


@bp.get("/articles")
def articles():
    args = request.args
    query = select(Article)
    if q := args.get("q", "").strip()[:50]:
        query = query.where(Article.title.contains(q, autoescape=True))
    if (section_id := as_id(args.get("section"))) is not None:
        query = query.where(Article.section_id == section_id)
    if args.get("state") in ("draft", "published"):
        query = query.where(Article.state == args["state"])
    days = records.day_range(args, "since", "until")  # local days, both ends included
    if days.since is not None:
        query = query.where(Article.published_at >= records.day_start(days.since, zone()))
    if days.until is not None:
        query = query.where(Article.published_at < records.day_start(days.until + timedelta(days=1), zone()))
    cursor = Cursor.decode(args.get("after"))
    if cursor is not None:
        query = query.where(
            (Article.published_at < cursor.at)
            | ((Article.published_at == cursor.at) & (Article.id < cursor.id))
        )
    rows = list(db.session.scalars(query.order_by(Article.published_at.desc(), Article.id.desc()).limit(51)))
    next_cursor = Cursor(rows[49].published_at, rows[49].id) if len(rows) > 50 else None
    html = render_template(
        "admin/articles.html",
        rows=rows[:50],
        next_cursor=next_cursor,
        sections=_section_options(),
        args=args,
        filter_errors=days.errors,
        now=utc_now(),
    )
    return html, 422 if days.errors else 200  # a date that cannot be applied: said beside it, kept


def _media_choices(kinds: tuple[str, ...]) -> list[tuple[str, str]]:
    rows = db.session.scalars(select(Media).where(Media.kind.in_(kinds)).order_by(Media.id.desc()).limit(300))
    return [("", "（無）")] + [(str(m.id), f"#{m.id} {m.caption[:30] or m.path}") for m in rows]


def _article_choices(form: ArticleForm) -> None:
    form.section_id.choices = [(str(i), label) for i, label in _section_options()]
    form.cover_id.choices = _media_choices(("image",))
    form.player_id.choices = _media_choices(("video", "audio"))


def _article_input(form: ArticleForm) -> editorial.ArticleInput:
    def media_id(field) -> int | None:
        return as_id(field.data)

    return editorial.ArticleInput(
        title=form.title.data,
        section_id=as_id(form.section_id.data) or 0,
        source=form.source.data or "",
        published_at=_utc(form.published_at.data),
        reporters=form.reporters.data or "",
        editor=form.editor.data or "",
        editor_note=form.editor_note.data or "",
        summary=form.summary.data or "",
        body_md=form.body_md.data or "",
        kind=form.kind.data,
        state=form.state.data,
        comments_state=form.comments_state.data,
        cover_id=media_id(form.cover_id),
        player_id=media_id(form.player_id),
        gallery_ids=ids_of(form.gallery_ids),
        related_ids=ids_of(form.related_ids),
        edit_stamp=form.edit_stamp.data or "",
    )


@bp.route("/articles/new", methods=["GET", "POST"])
@bp.route("/articles/<int:article_id>", methods=["GET", "POST"])
def article_form(article_id: int | None = None):
    article = db.get_or_404(Article, article_id) if article_id is not None else None
    form = ArticleForm(obj=article if request.method == "GET" else None)
    _article_choices(form)
    if request.method == "GET":
        if article is not None:
            form.section_id.data = str(article.section_id)
            form.cover_id.data = str(article.cover_id or "")
            form.player_id.data = str(article.player_id or "")
            form.published_at.data = to_local(article.published_at)
            form.gallery_ids.data = ",".join(str(m.id) for m in article.gallery)
            form.edit_stamp.data = editorial.edit_stamp(article)
        else:
            form.published_at.data = to_local(utc_now()).replace(second=0, microsecond=0)
            form.state.data = "draft"
    status = 200
    if request.method == "POST":
        status = 422
        valid = form.validate_on_submit()
        for field in (form.cover_id, form.player_id):
            if field.data and as_id(field.data) is None:
                field.errors = [*field.errors, "所選的媒體不存在或類型不符"]
                valid = False
        if form.published_at.data and not 1990 <= form.published_at.data.year <= 2200:
            form.published_at.errors = [*form.published_at.errors, "請填寫1990至2200年之間的發布時間"]
            valid = False
        if valid:
            saved, status = _attempt(
                form,
                lambda: editorial.save_article(
                    db.session, article=article, data=_article_input(form), actor=current_user, now=utc_now()
                ),
            )
            if saved is not None:
                flash(f"文章「{saved.title}」已保存")
                return redirect(url_for("admin.article_form", article_id=saved.id), 303)
            if form.edit_stamp.errors and article is not None:
                # Told once: saving again, after a look, writes over the other editor's version.
                form.edit_stamp.data = editorial.edit_stamp(article)
    return render_template("admin/article_form.html", form=form, article=article), status


@bp.get("/articles/<int:article_id>/preview")
def preview(article_id: int):
    """The article as readers will see it, drafts and scheduled ones included."""
    from portal.news.views import render_article

    article = db.get_or_404(Article, article_id)
    response = current_app.make_response(render_article(article, preview=True))
    response.headers["X-Robots-Tag"] = "noindex"
    return response


# --- media ------------------------------------------------------------------------------------


@bp.get("/media")
def media():
    cursor = Cursor.decode(request.args.get("after"))
    query = select(Media)
    if kind := request.args.get("kind"):
        query = query.where(Media.kind == kind)
    if cursor is not None:
        query = query.where(Media.id < cursor.id)
    rows = list(db.session.scalars(query.order_by(Media.id.desc()).limit(41)))
    next_cursor = Cursor(rows[39].created_at, rows[39].id) if len(rows) > 40 else None
    return render_template(
        "admin/media.html",
        rows=rows[:40],
        next_cursor=next_cursor,
        form=MediaForm(formdata=None),
        action_form=ActionForm(),
    )


def _media_page(form: MediaForm, status: int):
    rows = list(db.session.scalars(select(Media).order_by(Media.id.desc()).limit(40)))
    return render_template(
        "admin/media.html", rows=rows, next_cursor=None, form=form, action_form=ActionForm()
    ), status


@bp.post("/media")
def upload_media():
    form = MediaForm()
    if not form.validate_on_submit():  # a caption or credit too long: said beside it, text kept
        return _media_page(form, 422)
    file = request.files.get("file")
    try:
        item = store_upload(
            db.session,
            upload=Upload(
                data=file.read() if file else b"",
                caption=form.caption.data or "",
                credit=form.credit.data or "",
                filename=(file.filename or "") if file else "",
            ),
            media_root=Path(current_app.config["MEDIA_ROOT"]),
            actor=current_user,
            now=utc_now(),
        )
    except Rejected as refusal:
        db.session.rollback()
        form.file.errors = [refusal.message]
        return _media_page(form, refusal.status)
    db.session.commit()
    flash(f"已上傳媒體 #{item.id}")
    return redirect(url_for("admin.media"), 303)


@bp.post("/media/<int:media_id>/delete")
def delete_media(media_id: int):
    item = db.get_or_404(Media, media_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if (
        asking := unconfirmed(f"確定刪除媒體 #{item.id}？文件將一併刪除。", url_for("admin.media"))
    ) is not None:
        return asking
    try:
        files = media_files.delete_media(db.session, media=item, actor=current_user, now=utc_now())
        db.session.commit()
    except Rejected as refusal:
        db.session.rollback()
        flash(refusal.message, "error")
    except IntegrityError:  # an editor chose it while it was being deleted: the row stays
        db.session.rollback()
        flash(f"媒體 #{media_id} 剛被文章選用，未刪除。", "error")
    else:
        media_files.remove_files(Path(current_app.config["MEDIA_ROOT"]), files)  # only once the row is gone
        flash(f"媒體 #{media_id} 已刪除")
    return redirect(url_for("admin.media"), 303)


# --- static pages ---------------------------------------------------------------------------


@bp.get("/pages")
def pages():
    rows = list(db.session.scalars(select(Page).order_by(Page.position, Page.id)))
    return render_template(
        "admin/pages.html", rows=rows, fixed=editorial.LINKED_PAGES, action_form=ActionForm()
    )


@bp.route("/pages/new", methods=["GET", "POST"])
@bp.route("/pages/<int:page_id>", methods=["GET", "POST"])
def page_form(page_id: int | None = None):
    page = db.get_or_404(Page, page_id) if page_id is not None else None
    form = PageForm(obj=page if request.method == "GET" else None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            saved, status = _attempt(
                form,
                lambda: editorial.save_page(
                    db.session,
                    page=page,
                    slug=form.slug.data,
                    title=form.title.data,
                    body_md=form.body_md.data or "",
                    in_footer=form.in_footer.data,
                    position=form.position.data or 0,
                    actor=current_user,
                    now=utc_now(),
                ),
            )
            if saved is not None:
                flash(f"頁面「{saved.title}」已保存")
                return redirect(url_for("admin.pages"), 303)
    return render_template("admin/page_form.html", form=form, page=page), status


@bp.post("/pages/<int:page_id>/delete")
def delete_page(page_id: int):
    page = db.get_or_404(Page, page_id)
    return _delete(
        lambda: editorial.delete_page(db.session, page=page, actor=current_user, now=utc_now()),
        f"頁面「{page.title}」已刪除",
        "admin.pages",
        f"確定刪除頁面「{page.title}」？",
    )


# --- settings ---------------------------------------------------------------------------------


def region_database_problem(path: str) -> str | None:
    """Why a path cannot be the 屬地 database, or None when MaxMind's reader opens it."""
    try:
        if not Path(path).is_file():
            return "找不到這個文件"
        with maxminddb.open_database(path):
            return None
    except OSError:
        return "找不到這個文件"
    except (ValueError, maxminddb.InvalidDatabaseError):
        return "不是 MaxMind 格式的數據庫"


BUILT_IN_REGIONS = "內建 GeoLite2（2018 年版）"


def _settings_form() -> SettingsForm:
    form = SettingsForm() if request.method == "POST" else SettingsForm(formdata=None)
    folder = Path(current_app.config["REGION_DATABASES_FOLDER"])
    form.region_database.choices = [("", BUILT_IN_REGIONS), *((n, n) for n in region.databases_in(folder))]
    return form


def _setting_names(form: SettingsForm) -> list[str]:
    return [field.name for field in form if field.name != "csrf_token"]


@bp.route("/settings", methods=["GET", "POST"])
def site_settings():
    form = _settings_form()
    current = load_settings(db.session)
    if request.method == "GET":
        for name in _setting_names(form):
            value = current.get(name, "")
            form[name].data = (
                int(value) if form[name].type == "IntegerField" and value.lstrip("-").isdigit() else value
            )
        form.sms_sender.data = current.get("sms_sender") or current_app.config["SMS_SENDER"]
        return render_template("admin/settings.html", form=form)
    if form.validate_on_submit():
        folder = Path(current_app.config["REGION_DATABASES_FOLDER"])
        path = region.chosen_database(folder, form.region_database.data or "")
        if path and (problem := region_database_problem(path)):
            form.region_database.errors.append(problem)
        else:
            values = {
                name: "" if form[name].data is None else str(form[name].data) for name in _setting_names(form)
            }
            changed = editorial.save_settings(db.session, values=values, actor=current_user, now=utc_now())
            db.session.commit()
            flash(f"設置已保存（{len(changed)} 項變更），即時生效")
            return redirect(url_for("admin.site_settings"), 303)
    return render_template("admin/settings.html", form=form), 422


# --- sensitive words --------------------------------------------------------------------------


def _patrol_after_response(response: Response) -> Response:
    """A changed list rechecks the last 30 days of approved comments once the page is sent (P22)."""
    app = current_app._get_current_object()
    actor_id = current_user.id

    def run() -> None:
        with app.app_context():
            moderation.patrol(
                db.session, words=current_word_list(), now=utc_now(), actor=db.session.get(User, actor_id)
            )
            db.session.commit()

    response.call_on_close(run)
    return response


@bp.get("/words")
def words():
    q = request.args.get("q", "").strip()[:50]
    query = select(SensitiveWord)
    if q:
        query = query.where(SensitiveWord.term.contains(q, autoescape=True))
    cursor = Cursor.decode(request.args.get("after"))
    if cursor is not None:
        query = query.where(SensitiveWord.id < cursor.id)
    rows = list(db.session.scalars(query.order_by(SensitiveWord.id.desc()).limit(51)))
    next_cursor = Cursor(rows[49].created_at, rows[49].id) if len(rows) > 50 else None
    return render_template(
        "admin/words.html",
        rows=rows[:50],
        next_cursor=next_cursor,
        q=q,
        total=db.session.scalar(select(func.count()).select_from(SensitiveWord)),
        form=WordForm(formdata=None),
        import_form=WordImportForm(formdata=None),
        test_form=WordTestForm(formdata=None),
        action_form=ActionForm(),
        version=settings().get("wordlist_version"),
    )


@bp.route("/words/new", methods=["GET", "POST"])
@bp.route("/words/<int:word_id>", methods=["GET", "POST"])
def word_form(word_id: int | None = None):
    word = db.get_or_404(SensitiveWord, word_id) if word_id is not None else None
    form = WordForm(formdata=None) if request.method == "GET" else WordForm()
    if request.method == "GET" and word is not None:
        form.term.data, form.action.data, form.pinyin.data = word.term, word.action, word.pinyin
        form.categories.data = [c for c in word.categories.split("/") if c]
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            saved, status = _attempt(
                form,
                lambda: sensitive_words.save_word(
                    db.session,
                    word=word,
                    term=form.term.data,
                    categories="/".join(form.categories.data or []),
                    action=form.action.data,
                    pinyin=form.pinyin.data,
                    actor=current_user,
                    now=utc_now(),
                ),
            )
            if saved is not None:
                flash("詞條已保存，巡查將重新檢查近30天的評論")
                return _patrol_after_response(redirect(url_for("admin.words"), 303))
    return render_template("admin/word_form.html", form=form, word=word), status


@bp.post("/words/<int:word_id>/delete")
def delete_word(word_id: int):
    word = db.get_or_404(SensitiveWord, word_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if (asking := unconfirmed(f"確定刪除詞條「{word.term}」？", url_for("admin.words"))) is not None:
        return asking
    sensitive_words.delete_word(db.session, word=word, actor=current_user, now=utc_now())
    db.session.commit()
    flash("詞條已刪除")
    return redirect(url_for("admin.words"), 303)


@bp.post("/words/import")
def import_words():
    form = WordImportForm()
    if not form.validate_on_submit():
        abort(400)
    file = request.files.get("file")
    if file is None or not file.filename:  # 導入 with no file chosen: not a file with a bad header
        flash("請先選擇要導入的 CSV 文件", "error")
        return redirect(url_for("admin.words"), 303)
    raw = file.read()
    try:
        text = raw.decode("utf-8-sig")
        report = sensitive_words.import_csv(db.session, text=text, actor=current_user, now=utc_now())
    except UnicodeDecodeError:
        flash("文件不是 UTF-8 編碼的 CSV，未導入任何詞條", "error")
        return redirect(url_for("admin.words"), 303)
    except Rejected as refusal:
        db.session.rollback()
        flash(f"未導入任何詞條：{refusal.message}", "error")
        return redirect(url_for("admin.words"), 303)
    db.session.commit()
    flash(f"導入完成：新增 {len(report.added)} 條，修改 {len(report.changed)} 條，未變 {report.unchanged} 條")
    return _patrol_after_response(redirect(url_for("admin.words"), 303))


@bp.get("/words/export.csv")
def export_words():
    body = "\ufeff" + to_csv(sensitive_words.current_entries(db.session))
    response = current_app.response_class(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=words.csv"
    return response


@bp.post("/words/test")
def test_words():
    """The verdict the site would give, before anything is published (the `pledge check` engine)."""
    form = WordTestForm()
    verdict = None
    if form.validate_on_submit():
        rules = comment_rules(settings())
        verdict = check_text(
            form.text.data, current_word_list(), min_length=rules.min_length, max_length=rules.max_length
        )
    return render_template(
        "admin/word_test.html", form=form, verdict=verdict, category_labels=CATEGORY_LABELS
    ), 200 if verdict else 422


# --- users ------------------------------------------------------------------------------------


@bp.get("/users")
def users():
    return render_users()


def render_users(form: StaffForm | None = None) -> str:
    args = request.args
    phone_hmac = ""
    if args.get("phone"):
        if not current_user.can_view_pii:
            abort(403)
        try:
            phone_hmac = phone_vault().lookup_hash(normalise_phone(args["phone"]))
        except Rejected:
            phone_hmac = "-"
    rows, next_cursor = staff.find_users(
        db.session,
        nickname=args.get("nickname", "").strip()[:32],
        phone_hmac=phone_hmac,
        state=args.get("state", ""),
        role=args.get("role", ""),
        cursor=Cursor.decode(args.get("after")),
    )
    vault = phone_vault()
    masked = {u.id: mask_phone(vault.decrypt(u.phone_cipher)) for u in rows}
    return render_template(
        "admin/users.html",
        rows=rows,
        masked=masked,
        next_cursor=next_cursor,
        args=args,
        form=form or StaffForm(formdata=None),
    )


def render_user(
    person: User,
    form: UserAccessForm | None = None,
    state_form: AccountStateForm | None = None,
    password_form: PasswordForm | None = None,
) -> str:
    """The account's page: access, state (停用/啟用) and password, each its own form; the one that
    was posted comes back with its messages and what was typed, the others as they stand."""
    if form is None:
        form = UserAccessForm(formdata=None)
        form.role.data, form.can_view_pii.data = str(person.role), person.can_view_pii
        form.sections.data = staff.scopes_of(db.session, person.id)
    form.sections.choices = _section_options()
    return render_template(
        "admin/user_form.html",
        form=form,
        person=person,
        own=person.id == current_user.id,
        state_form=state_form or AccountStateForm(formdata=None),
        password_form=password_form or PasswordForm(formdata=None),
        action_form=ActionForm(),
    )


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_form(user_id: int):
    person = db.get_or_404(User, user_id)
    if request.method == "GET":
        return render_user(person)
    form = UserAccessForm()
    form.sections.choices = _section_options()
    status = 422
    if form.validate_on_submit():
        saved, status = _attempt(
            form,
            lambda: staff.set_access(
                db.session,
                user=person,
                role=form.role.data,
                section_ids=form.sections.data or [],
                can_view_pii=form.can_view_pii.data,
                actor=current_user,
                now=utc_now(),
            ),
        )
        if saved is not None:
            flash(f"已更新 {person.nickname} 的權限")
            return redirect(url_for("admin.user_form", user_id=person.id), 303)
    return render_user(person, form=form), status


def _change_account(
    person: User, form, change: Callable[[], object], done: str, question: str | None = None, **shown
):
    """One account action posted from the account's page: done, back to it with `done`; refused,
    the page again with the refusal beside the field (or on top) and the refusal's status. A
    `question` is asked first (portal.confirm)."""
    status = 422
    if form.validate_on_submit():
        back = url_for("admin.user_form", user_id=person.id)
        if question and (asking := unconfirmed(question, back)) is not None:
            return asking
        saved, status = _attempt(form, change)
        if saved is not None:
            if person.id == current_user.id:
                login_user(person)  # their own new password: this session stays, the others end
            flash(done)
            return redirect(url_for("admin.user_form", user_id=person.id), 303)
    return render_user(person, **shown), status


def _account_state(user_id: int, change: Callable[..., object], done: str, question: str | None = None):
    person = db.get_or_404(User, user_id)
    form = AccountStateForm()
    return _change_account(
        person,
        form,
        lambda: change(db.session, user=person, actor=current_user, note=form.note.data or "", now=utc_now()),
        done.format(person.nickname),
        question.format(person.nickname) if question else None,
        state_form=form,
    )


@bp.post("/users/<int:user_id>/disable")
def disable_user(user_id: int):
    return _account_state(
        user_id,
        staff.disable_account,
        "已停用 {} 的賬號，其所有登錄已退出",
        "確定停用 {} 的賬號？其所有登錄將立即退出。",
    )


@bp.post("/users/<int:user_id>/enable")
def enable_user(user_id: int):
    return _account_state(user_id, staff.enable_account, "已啟用 {} 的賬號")


@bp.post("/users/<int:user_id>/password")
def set_password(user_id: int):
    person = db.get_or_404(User, user_id)
    form = PasswordForm()
    return _change_account(
        person,
        form,
        lambda: accounts.set_password(
            db.session,
            user=person,
            password=form.password.data,
            hasher=password_hasher(),
            actor=current_user,
            now=utc_now(),
        ),
        f"已為 {person.nickname} 設置新密碼，其他設備上的登錄已全部退出",
        password_form=form,
    )


@bp.post("/users/<int:user_id>/password-reset")
def force_password_reset(user_id: int):
    person = db.get_or_404(User, user_id)
    return _change_account(
        person,
        ActionForm(),
        lambda: accounts.force_password_reset(
            db.session, user=person, hasher=password_hasher(), actor=current_user, now=utc_now()
        ),
        f"{person.nickname} 的密碼已失效、登錄已全部退出：請其用「忘記密碼」以手機驗證碼設置新密碼",
        f"確定讓 {person.nickname} 的密碼失效？其需用「忘記密碼」重新設置。",
    )


@bp.post("/users")
def create_staff():
    form = StaffForm()
    if form.validate_on_submit():
        try:
            person = accounts.create_verified_user(
                db.session,
                phone=form.phone.data,
                nickname=form.nickname.data,
                password=form.password.data,
                role=Role(form.role.data),
                vault=phone_vault(),
                hasher=password_hasher(),
                now=utc_now(),
            )
        except Rejected as refusal:
            db.session.rollback()
            _fail(form, refusal)
        else:
            audit.record(
                db.session,
                actor=current_user,
                action="admin.staff_created",
                target_type="user",
                target_id=person.id,
                after={"nickname": person.nickname, "role": str(person.role)},
                now=utc_now(),
            )
            db.session.commit()
            flash(f"已建立{'審核員' if person.role == Role.MODERATOR else '管理員'}賬號 {person.nickname}")
            return redirect(url_for("admin.user_form", user_id=person.id), 303)
    form.password.data = ""  # typed fields come back, the password does not
    return render_users(form), 422
