"""Accounts: register with an SMS code, log in and out, 我的評論, 消息 and 賬號設置."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Literal
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter import RequestLimit
from flask_login import current_user, login_required, login_user, logout_user

from portal.accounts.forms import (
    AppealForm,
    CodeRequestForm,
    DeregisterForm,
    LoginForm,
    NicknameForm,
    PasswordChangeForm,
    PasswordResetForm,
    PhoneChangeForm,
    RegisterForm,
)
from portal.auth import client_ip, login_reason, password_hasher, phone_vault
from portal.comments.context import local_day_start
from portal.domain import accounts, comments, moderation, notifications, records
from portal.domain.errors import NotAllowed, Refusals, Rejected
from portal.domain.pagination import Cursor
from portal.domain.pii import mask_phone, normalise_phone
from portal.domain.pledge import REASON_LABELS
from portal.domain.records import code_label
from portal.domain.site import comment_rules
from portal.extensions import db, limiter
from portal.flashes import flash_in, flash_landing
from portal.forms import ActionForm
from portal.fragments import wants_fragment
from portal.models import Sanction, User, utc_now
from portal.page_context import settings, zone
from portal.rate_limits import breach_wait
from portal.safe_redirect import same_site_path
from portal.words import current_word_list

bp = Blueprint("accounts", __name__, url_prefix="/accounts")


def sms_sender():
    """The sender named in settings: an object, or "module:Class"."""
    configured = current_app.config["SMS_SENDER"]
    if not isinstance(configured, str):
        return configured  # an object, as tests pass a recording sender
    configured = settings().get("sms_sender") or configured
    module, _, name = configured.partition(":")
    return getattr(import_module(module), name)()


def account_key() -> str:
    raw = request.form.get("phone", "")
    try:
        return "acct:" + normalise_phone(raw)
    except Rejected:
        return "acct:" + raw.strip().casefold()


def _next_url() -> str:
    return same_site_path(request.values.get("next"), url_for("news.home"))


def _refusal_status(form, refusal: Rejected) -> int:
    """Each message of the refusal beside its field (all of them, when it names several)."""
    for each in refusal.each():
        field = form[each.field] if each.field in form else form["phone" if "phone" in form else _first(form)]
        errors = field.errors if isinstance(field.errors, list) else list(field.errors)
        if each.message not in errors:
            errors.append(each.message)
        field.errors = errors
    if refusal.retry_after:  # the wait the message names, not the hourly limit's reset
        g.retry_after = refusal.retry_after
    return refusal.status


def _first(form) -> str:
    return next(field.name for field in form if field.name != "csrf_token")


def _typed(form, name: str) -> str | None:
    """A field's value for the domain's checks, or None when the form has already refused its shape
    (that message is the one to show)."""
    field = form[name]
    return None if field.errors else field.data


def _every_problem(form, problems: list[Rejected]) -> int:
    """After the form refused a field's shape, the domain's own checks of the other fields, so that
    every problem shows at once (an unticked box and a refused nickname), not one per try."""
    return _refusal_status(form, Refusals(problems)) if problems else 422


# A limit reached on a form of these pages: which form it was, and the field its wait goes beside.
_LIMITED_FORMS = {
    "accounts.register": (RegisterForm, "phone"),
    "accounts.password_reset": (PasswordResetForm, "phone"),
    "accounts.change_nickname": (NicknameForm, "nickname"),
    "accounts.change_password": (PasswordChangeForm, "current_password"),
    "accounts.change_phone": (PhoneChangeForm, "phone_password"),
    "accounts.deregister": (DeregisterForm, "deregister_password"),
}
_SETTINGS_FORMS = {
    NicknameForm: "nickname_form",
    PasswordChangeForm: "password_form",
    PhoneChangeForm: "phone_form",
    DeregisterForm: "deregister_form",
}


def _too_often(limit: RequestLimit) -> Response:
    """The page again, what was typed (passwords are never sent back) and how long to wait beside
    the field, as login answers (_login_too_often): the bare 429 page lost the form of a reader
    without JavaScript and said neither how long nor which of the settings' forms it was."""
    wait = breach_wait(limit)
    form_class, field = _LIMITED_FORMS[request.endpoint]
    form = form_class()  # not validated: its fields hold what was typed, and no errors yet
    form[field].errors = [f"操作過於頻繁，請{comments.wait_in_words(wait)}後再試"]
    if form_class in _SETTINGS_FORMS:
        page, status = _settings_page(429, **{_SETTINGS_FORMS[form_class]: form})
    else:
        template = "accounts/register.html" if form_class is RegisterForm else "accounts/password_reset.html"
        page, status = render_template(template, form=form, next=_next_url()), 429
    return current_app.make_response((page, status))


def _already_signed_in() -> Response:
    """The login or registration page, asked for by a reader who is signed in (the back button
    right after logging in, an old tab): it showed the empty form, as though they were signed out,
    and offered a second account. On to where they were going instead, saying who they are."""
    target = _next_url()
    if urlsplit(target).path in (url_for("accounts.login_form"), url_for("accounts.register_form")):
        target = url_for("news.home")  # next=/accounts/login would come straight back here
    message = f"您已登錄為「{current_user.nickname}」。如需使用其他賬號，請先退出登錄。"
    return redirect(flash_landing(target, message), 303)


@bp.get("/register")
def register_form():
    if current_user.is_authenticated:
        return _already_signed_in()
    return render_template("accounts/register.html", form=RegisterForm(), next=_next_url())


@bp.post("/register/code")
@limiter.limit(lambda: current_app.config["REGISTER_LIMITS"])
def send_code():
    """獲取驗證碼 for registering."""
    return _send_code("accounts/register.html", RegisterForm, "register")


@bp.post("/password-reset/code")
@limiter.limit(lambda: current_app.config["REGISTER_LIMITS"])
def send_reset_code():
    """獲取驗證碼 for 忘記密碼."""
    return _send_code("accounts/password_reset.html", PasswordResetForm, "reset")


def _send_code(page: str, page_form: type, purpose: Literal["register", "reset"]):
    """The code goes to the phone (the log, in development), never to the page. With htmx the
    answer is the status line; without, the page again with what was typed, password aside."""
    form, status, sent_to = CodeRequestForm(), 422, None
    if form.validate_on_submit():
        try:
            sent_to = accounts.request_code(
                db.session,
                phone=form.phone.data,
                ip=client_ip(),
                vault=phone_vault(),
                sender=sms_sender(),
                now=utc_now(),
                purpose=purpose,
            )
        except Rejected as refusal:
            status = _refusal_status(form, refusal)
        else:
            db.session.commit()
            status = 200
    if wants_fragment():
        return render_template(
            "accounts/_code_status.html", form=form, sent_to=sent_to, fragment=True
        ), status
    whole = page_form()  # keeps what was typed, except the password
    whole.phone.errors = list(form.phone.errors)
    return render_template(page, form=whole, sent_to=sent_to, next=_next_url()), status


def _spending_a_code(form, change: Callable[[], User]) -> tuple[User | None, int]:
    """Runs a change that checks an SMS code. Committed either way: a wrong code's attempt counts."""
    try:
        user = change()
    except Rejected as refusal:
        status = _refusal_status(form, refusal)
        db.session.commit()
        return None, status
    db.session.commit()
    return user, 200


@bp.get("/password-reset")
def password_reset_form():
    return render_template("accounts/password_reset.html", form=PasswordResetForm(), next=_next_url())


@bp.post("/password-reset")
@limiter.limit(lambda: current_app.config["LOGIN_LIMITS"], on_breach=_too_often)
def password_reset():
    form, status = PasswordResetForm(), 422
    if form.validate_on_submit():
        user, status = _spending_a_code(
            form,
            lambda: accounts.reset_password(
                db.session,
                phone=form.phone.data,
                code=form.code.data,
                password=form.password.data,
                vault=phone_vault(),
                hasher=password_hasher(),
                ip=client_ip(),
                now=utc_now(),
            ),
        )
        if user is not None:
            flash("密碼已重設，請用新密碼登錄。其他設備上的登錄已全部退出。")
            return redirect(url_for("accounts.login_form", next=_next_url()), 303)
    else:
        status = _every_problem(
            form,
            accounts.reset_problems(
                db.session,
                phone=_typed(form, "phone"),
                code=_typed(form, "code"),
                password=_typed(form, "password"),
                vault=phone_vault(),
                now=utc_now(),
            ),
        )
        db.session.commit()  # a wrong code's attempt counts
    return render_template("accounts/password_reset.html", form=form, next=_next_url()), status


@bp.post("/register")
@limiter.limit(lambda: current_app.config["REGISTER_LIMITS"], on_breach=_too_often)
def register():
    form, status = RegisterForm(), 422
    if form.validate_on_submit():
        user, status = _spending_a_code(
            form,
            lambda: accounts.register(
                db.session,
                phone=form.phone.data,
                code=form.code.data,
                nickname=form.nickname.data,
                password=form.password.data,
                accepted_terms=form.accept_terms.data,
                terms_version=current_app.config["TERMS_VERSION"],
                words=current_word_list(),
                vault=phone_vault(),
                hasher=password_hasher(),
                ip=client_ip(),
                now=utc_now(),
            ),
        )
        if user is not None:
            session.clear()
            login_user(user)
            # Back where they were: into the comment area (請先登錄或註冊後再發表評論), the message too.
            return redirect(flash_landing(_next_url(), "註冊成功，歡迎加入！"), 303)
    else:
        status = _every_problem(
            form,
            accounts.registration_problems(
                db.session,
                phone=_typed(form, "phone"),
                code=_typed(form, "code"),
                nickname=_typed(form, "nickname"),
                password=_typed(form, "password"),
                accepted_terms=bool(form.accept_terms.data),
                words=current_word_list(),
                vault=phone_vault(),
                ip=client_ip(),
                now=utc_now(),
            ),
        )
        db.session.commit()  # a wrong code's attempt counts, a refused name is kept on record
    return render_template("accounts/register.html", form=form, next=_next_url()), status


@bp.get("/login")
def login_form():
    if current_user.is_authenticated:
        return _already_signed_in()
    # Opened from a link (點贊, the prompt's 登錄): the page says why, as the redirects do.
    reason = login_reason()
    return render_template(
        "accounts/login.html", form=LoginForm(), next=_next_url(), page_messages=[reason] if reason else []
    )


def _login_too_often(limit: RequestLimit) -> Response:
    """Throttled: the form again, the phone as typed, and how long to wait, as the SMS and comment
    limits answer (not the bare 429 page)."""
    wait = breach_wait(limit)
    form = LoginForm()  # not validated: its fields hold what was typed, and no errors yet
    form.password.errors = [f"嘗試次數過多，請{wait}秒後再試"]
    return current_app.make_response(
        (render_template("accounts/login.html", form=form, next=_next_url()), 429)
    )


@bp.post("/login")
@limiter.limit(lambda: current_app.config["LOGIN_LIMITS"], on_breach=_login_too_often)
@limiter.limit(
    lambda: current_app.config["LOGIN_ACCOUNT_LIMITS"],
    key_func=account_key,
    deduct_when=lambda response: response.status_code == 422,
    on_breach=_login_too_often,
)
def login():
    form, status = LoginForm(), 422
    shaped = form.validate_on_submit()
    # A phone that is no mobile number is said beside it, with any other message of the form.
    problems = accounts.login_problems(_typed(form, "phone"))
    _every_problem(form, problems)
    if shaped and not problems:
        try:
            user = accounts.authenticate(
                db.session,
                phone=form.phone.data,
                password=form.password.data,
                vault=phone_vault(),
                hasher=password_hasher(),
            )
        except Rejected as refusal:
            form.password.errors.append(refusal.message)
            status = refusal.status
        else:
            db.session.commit()  # a rehash, if any
            session.clear()
            login_user(user)
            return redirect(flash_landing(_next_url(), f"{user.nickname}，歡迎回來。"), 303)
    return render_template("accounts/login.html", form=form, next=_next_url()), status


@bp.post("/logout")
def logout():
    if ActionForm().validate_on_submit():
        logout_user()
        session.clear()
        flash("您已退出登錄。")
    return redirect(url_for("news.home"), 303)


@bp.post("/logout-everywhere")
@login_required
def logout_everywhere():
    if not ActionForm().validate_on_submit():
        abort(400)
    accounts.end_every_session(db.session, current_user, ip=client_ip(), now=utc_now())
    db.session.commit()
    logout_user()
    session.clear()
    flash("您已退出所有設備：此前在任何瀏覽器上的登錄都已失效。")
    return redirect(url_for("news.home"), 303)


@bp.get("/comments")
@login_required
def my_comments():
    cursor = Cursor.decode(request.args.get("after"))
    rows, next_cursor = comments.my_comments(db.session, author_id=current_user.id, cursor=cursor)
    sanctions = list(
        db.session.scalars(
            db.select(Sanction)
            .where(Sanction.user_id == current_user.id)
            .order_by(Sanction.created_at.desc())
            .limit(20)
        )
    )
    appealable = {c.id for c in rows if moderation.appealable(c)}
    now = utc_now()
    return render_template(
        "accounts/my_comments.html",
        standing=comments.standing(
            db.session, current_user, comment_rules(settings()), now=now, day_start=local_day_start(now)
        ),
        rows=[(c, comments.state_label(c)) for c in rows],
        own_editable=set(comments.edit_windows(rows, rules=comment_rules(settings()), now=now)),
        own_deletable={c.id for c in rows if comments.withdrawable(c)},
        here=request.full_path.rstrip("?"),
        appealable=appealable,
        comment_appeals=moderation.appeal_states(
            db.session, author_id=current_user.id, target_type="comment", target_ids=appealable
        ),
        sanction_appeals=moderation.appeal_states(
            db.session,
            author_id=current_user.id,
            target_type="sanction",
            target_ids=[s.id for s in sanctions],
        ),
        max_appeals=moderation.MAX_APPEALS,
        sanctions=sanctions,
        measures=moderation.MEASURES,
        reason_labels=REASON_LABELS,
        next_cursor=next_cursor,
        paged=cursor is not None,
    )


def _appeal_target(target_type: str | None, target_id: str | None):
    """The reader's own comment or measure being appealed; anyone else's, or none, is 404."""
    raw = target_id or ""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:  # "²" is a digit int() refuses
        abort(404)
    try:
        return moderation.appeal_target(
            db.session, author=current_user, target_type=target_type or "", target_id=int(raw)
        )
    except NotAllowed:
        abort(404)


def _appeal_page(form: AppealForm, target, status: int = 200, *, refusal: str = ""):
    """The appeal page: what is appealed (text or measure, decision, reason, date), then the form,
    or why it can no longer be appealed."""
    is_comment = form.target_type.data == "comment"
    return render_template(
        "accounts/appeal.html",
        form=form,
        target=target,
        is_comment=is_comment,
        decision=code_label(target.status, "status") if is_comment else code_label(target.measure, "measure"),
        reason=code_label(target.reason_code, "reason") if target.reason_code else "",
        refusal=refusal,
        max_appeals=moderation.MAX_APPEALS,
        # Another staff member rules it, unless no one but the decider could (本人覆核).
        self_review=moderation.only_the_decider_can_rule(
            db.session,
            target=target,
            decider_id=moderation.decider_of(target),
            appellant_id=current_user.id,
        ),
    ), status


@bp.get("/appeals/new")
@login_required
def appeal_form():
    form = AppealForm(formdata=None)
    form.target_type.data = request.args.get("target", "comment")
    form.target_id.data = request.args.get("id", "")
    target = _appeal_target(form.target_type.data, form.target_id.data)
    if refusal := moderation.cannot_appeal(db.session, author=current_user, target=target):
        return _appeal_page(form, target, 403, refusal=refusal)
    return _appeal_page(form, target)


@bp.post("/appeals")
@login_required
def appeal():
    form, status = AppealForm(), 422
    target = _appeal_target(form.target_type.data, form.target_id.data)
    if form.validate_on_submit():
        try:
            moderation.file_appeal(
                db.session,
                author=current_user,
                target_type=form.target_type.data,
                target_id=target.id,
                text=form.text.data,
                now=utc_now(),
            )
        except Rejected as refusal:
            form.text.errors.append(refusal.message)
            status = refusal.status
        else:
            db.session.commit()
            flash("申訴已提交，處理結果會在「消息」中通知您")
            return redirect(url_for("accounts.my_comments"), 303)
    return _appeal_page(form, target, status)


@bp.get("/messages")
@login_required
def messages():
    cursor = Cursor.decode(request.args.get("after"))
    rows, next_cursor = notifications.notices_page(db.session, current_user.id, cursor=cursor)
    return render_template(
        "accounts/messages.html",
        rows=rows,
        next_cursor=next_cursor,
        paged=cursor is not None,
        form=ActionForm(),
    )


@bp.post("/messages/read")
@login_required
def mark_read():
    if ActionForm().validate_on_submit():
        notifications.mark_all_read(db.session, current_user.id, now=utc_now())
        db.session.commit()
        flash("已全部標為已讀。")
    return redirect(url_for("accounts.messages"), 303)


# --- 賬號設置 --------------------------------------------------------------------------------------


OWN_PASSWORD = "own-password"  # the limit's bucket: 修改密碼, 更換手機號 and 註銷 check one password


def _own_account_key() -> str:
    """The signed-in account, for limits on its password checks (an open session in other hands
    must not guess the password that deregisters or rebinds the account)."""
    return f"own:{getattr(current_user, 'id', '')}"


def _wrong_password(response: Response) -> bool:
    return response.status_code in (403, 422)


def _settings_page(
    status: int = 200,
    *,
    nickname_form: NicknameForm | None = None,
    password_form: PasswordChangeForm | None = None,
    phone_form: PhoneChangeForm | None = None,
    deregister_form: DeregisterForm | None = None,
    sent_to: str | None = None,
):
    """賬號設置: what the site holds about the reader (查詢) and the forms that change it; a form
    sent back with its messages, the others blank."""
    now = utc_now()
    user = current_user
    return render_template(
        "accounts/settings.html",
        refused=_refused_section(
            (nickname_form, "修改暱稱", "nickname-settings"),
            (password_form, "修改密碼", "password-settings"),
            (phone_form, "更換手機號", "phone-settings"),
            (deregister_form, "註銷賬號", "deregister-settings"),
        ),
        person=user,
        masked_phone=mask_phone(phone_vault().decrypt(user.phone_cipher)),
        muted_until=user.muted_until if user.muted_until and user.muted_until > now else None,
        next_rename=accounts.next_nickname_change(user, now=now),
        rename_days=accounts.NICKNAME_CHANGE_DAYS,
        retention_days=records.retention_days(settings()),
        nickname_form=nickname_form or NicknameForm(formdata=None),
        password_form=password_form or PasswordChangeForm(formdata=None),
        phone_form=phone_form or PhoneChangeForm(formdata=None),
        deregister_form=deregister_form or DeregisterForm(formdata=None),
        sent_to=sent_to,
    ), status


def _changed(section: str, message: str) -> Response:
    """A change went through: back to the page at the section that changed (303), its message in
    that section's status line. The page opens from the top otherwise, and 更換手機號 is two
    screens down: a reader would see the message of a change far below while the form they used is
    out of view. Sections and their status lines are named in accounts/settings.html."""
    flash_in(f"{section}-status", message)
    return redirect(url_for("accounts.account_settings", _anchor=f"{section}-settings"), 303)


def _refused_section(*forms: tuple) -> tuple[str, str] | None:
    """The title and anchor of the form sent back with its messages, if one was: the page comes
    back scrolled to the top, and 註銷賬號 is at the bottom, out of view and out of earshot."""
    return next(
        (
            (title, anchor)
            for form, title, anchor in forms
            if form is not None and any(f.errors for f in form)
        ),
        None,
    )


@bp.get("/settings")
@login_required
def account_settings():
    return _settings_page()


@bp.post("/settings/nickname")
@login_required
@limiter.limit(lambda: current_app.config["REGISTER_LIMITS"], on_breach=_too_often)
def change_nickname():
    form, status = NicknameForm(), 422
    if form.validate_on_submit():
        try:
            accounts.change_nickname(
                db.session,
                user=current_user,
                nickname=form.nickname.data,
                words=current_word_list(),
                zone=zone(),
                ip=client_ip(),
                now=utc_now(),
            )
        except Rejected as refusal:
            status = _refusal_status(form, refusal)
            db.session.commit()  # a refused name is kept on record (P4)
        else:
            db.session.commit()
            return _changed("nickname", f"暱稱已修改為「{current_user.nickname}」。")
    return _settings_page(status, nickname_form=form)


@bp.post("/settings/password")
@login_required
@limiter.limit(lambda: current_app.config["LOGIN_LIMITS"], on_breach=_too_often)  # per network, as login
@limiter.shared_limit(  # refusals per account, as login's per phone, shared by the three forms
    lambda: current_app.config["LOGIN_ACCOUNT_LIMITS"],
    scope=OWN_PASSWORD,
    key_func=_own_account_key,
    deduct_when=_wrong_password,
    on_breach=_too_often,
)
def change_password():
    form, status = PasswordChangeForm(), 422
    if form.validate_on_submit():
        try:
            user = accounts.change_password(
                db.session,
                user=current_user,
                current_password=form.current_password.data,
                new_password=form.new_password.data,
                hasher=password_hasher(),
                ip=client_ip(),
                now=utc_now(),
            )
        except Rejected as refusal:
            status = _refusal_status(form, refusal)
        else:
            db.session.commit()
            login_user(user)  # this session goes on under the new token; every other one ended
            return _changed("password", "密碼已修改，其他設備上的登錄已全部退出。")
    else:
        status = _every_problem(
            form,
            accounts.password_change_problems(
                current_user,
                current_password=_typed(form, "current_password"),
                new_password=None,  # its shape is refused, or it is empty: that message stands
                hasher=password_hasher(),
            ),
        )
    return _settings_page(status, password_form=form)


@bp.post("/settings/phone/code")
@login_required
@limiter.limit(lambda: current_app.config["REGISTER_LIMITS"])
def send_phone_code():
    """獲取驗證碼 for the new number, sent only to a free one. With htmx the status line; without,
    the page again with what was typed, the password aside."""
    form, status, sent_to = CodeRequestForm(), 422, None
    if form.validate_on_submit():
        try:
            sent_to = accounts.request_code(
                db.session,
                phone=form.phone.data,
                ip=client_ip(),
                vault=phone_vault(),
                sender=sms_sender(),
                now=utc_now(),
                purpose="bind",
            )
        except Rejected as refusal:
            status = _refusal_status(form, refusal)
        else:
            db.session.commit()
            status = 200
    if wants_fragment():
        return render_template(
            "accounts/_code_status.html", form=form, sent_to=sent_to, fragment=True
        ), status
    whole = PhoneChangeForm()
    whole.phone.errors = list(form.phone.errors)
    return _settings_page(status, phone_form=whole, sent_to=sent_to)


@bp.post("/settings/phone")
@login_required
@limiter.limit(lambda: current_app.config["LOGIN_LIMITS"], on_breach=_too_often)  # per network, as login
@limiter.shared_limit(  # refusals per account, as login's per phone, shared by the three forms
    lambda: current_app.config["LOGIN_ACCOUNT_LIMITS"],
    scope=OWN_PASSWORD,
    key_func=_own_account_key,
    deduct_when=_wrong_password,
    on_breach=_too_often,
)
def change_phone():
    form, status = PhoneChangeForm(), 422
    if form.validate_on_submit():
        user, status = _spending_a_code(
            form,
            lambda: accounts.change_phone(
                db.session,
                user=current_user,
                phone=form.phone.data,
                code=form.code.data,
                password=form.phone_password.data,
                vault=phone_vault(),
                hasher=password_hasher(),
                ip=client_ip(),
                now=utc_now(),
            ),
        )
        if user is not None:
            masked = mask_phone(normalise_phone(form.phone.data))
            return _changed("phone", f"手機號已更換為 {masked}，請用新手機號登錄。")
    else:
        status = _every_problem(
            form,
            accounts.phone_change_problems(
                db.session,
                user=current_user,
                phone=_typed(form, "phone"),
                code=_typed(form, "code"),
                password=_typed(form, "phone_password"),
                vault=phone_vault(),
                hasher=password_hasher(),
                now=utc_now(),
            ),
        )
        db.session.commit()  # a wrong code's attempt counts
    return _settings_page(status, phone_form=form)


@bp.post("/settings/deregister")
@login_required
@limiter.limit(lambda: current_app.config["LOGIN_LIMITS"], on_breach=_too_often)  # per network, as login
@limiter.shared_limit(  # refusals per account, as login's per phone, shared by the three forms
    lambda: current_app.config["LOGIN_ACCOUNT_LIMITS"],
    scope=OWN_PASSWORD,
    key_func=_own_account_key,
    deduct_when=_wrong_password,
    on_breach=_too_often,
)
def deregister():
    """註銷賬號: the password and the ticked box are the confirmation, in the form itself, so it
    works without JavaScript and the password is never sent back in a 請確認 page."""
    form, status = DeregisterForm(), 422
    if form.validate_on_submit():
        try:
            accounts.deregister(
                db.session,
                user=current_user,
                password=form.deregister_password.data,
                confirmed=bool(form.confirm.data),
                hasher=password_hasher(),
                ip=client_ip(),
                now=utc_now(),
            )
        except Rejected as refusal:
            status = _refusal_status(form, refusal)
        else:
            db.session.commit()
            logout_user()
            session.clear()
            flash("您的賬號已註銷，所有設備上的登錄均已退出。感謝您曾參與討論。")
            return redirect(url_for("news.home"), 303)
    elif not form.confirm.data:
        form.confirm.errors = [*form.confirm.errors, accounts.DEREGISTER_UNCONFIRMED]
    if current_user.is_staff:
        status = 403
    return _settings_page(status, deregister_form=form)
