"""Admin forms: shape only; the rules (unique slugs, the tree, news pre-review) are in the domain."""

from typing import ClassVar

from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from portal.domain.accounts import PASSWORD_MIN
from portal.domain.editorial import (
    ARTICLE_KIND_LABELS,
    ARTICLE_STATE_LABELS,
    COMMENTS_STATE_LABELS,
    SECTION_LAYOUT_LABELS,
)
from portal.domain.pii import PHONE_MAX_LENGTH, PHONE_TOO_LONG
from portal.domain.pledge import CATEGORY_LABELS, TLD_SHAPE, tld_entries
from portal.domain.sanitize import MAX_SOURCE_CHARS
from portal.domain.site import SETTING_LABELS
from portal.forms import Between, Form, VisibleRequired, normalised
from portal.models import ArticleKind, ArticleState, CommentsState, Role, SectionLayout, UserState

# A body's limit is said by the server, never enforced by the browser: a textarea's maxlength cuts
# a pasted article at the limit without a word, and the shortened article was saved as 已保存.
TOO_LONG = "{what}不能超過%(max)d字，現為%(length)d字：請刪減，或分成兩篇"
PASSWORD_LENGTH = Length(min=PASSWORD_MIN, max=128, message="密碼需為8至128個字符")
SLUG_RULE = Regexp(r"^[a-z0-9][a-z0-9-]*$", message="只能用小寫英文字母、數字和連字號")
ROLE_LABELS = {"reader": "讀者", "moderator": "審核員", "admin": "管理員"}
USER_STATE_LABELS = {"active": "正常", "restricted": "受限", "closed": "已關閉"}


class ListedChoices(SelectMultipleField):
    """A multiple choice where any value that is not one of the list's reads `message`: WTForms' own
    「無效的選擇：至少有一筆資料無法被強制轉化。」 (a crafted value the coercion refuses) tells an admin
    nothing."""

    def __init__(self, label: str, *, message: str, **options) -> None:
        super().__init__(label, **options)
        self.message = message

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(self.message) from error

    def pre_validate(self, form) -> None:
        try:
            super().pre_validate(form)
        except ValidationError as error:
            raise ValidationError(self.message) from error


def choices(labels: dict[str, str], values=None) -> list[SelectChoice]:
    return [SelectChoice(v, labels.get(v, v)) for v in (values or labels)]


class SectionForm(Form):
    name = StringField(
        "名稱", filters=[normalised], validators=[VisibleRequired("請填寫名稱"), Length(max=32)]
    )
    slug = StringField(
        "網址代號",
        filters=[normalised],
        validators=[DataRequired("請填寫網址代號"), Length(max=63), SLUG_RULE],
    )
    parent_id = SelectField("上級欄目", coerce=str, validate_choice=False)
    position = IntegerField("排序", default=0, validators=[Optional(), Between(min=0, max=1000)])
    description = StringField("簡介", filters=[normalised], validators=[Optional(), Length(max=200)])
    layout = SelectField(
        "版式", choices=choices(SECTION_LAYOUT_LABELS, [layout.value for layout in SectionLayout])
    )
    hidden = BooleanField("隱藏欄目")
    comments_closed = BooleanField("關閉本欄目評論")
    auto_close_days = IntegerField(
        "發布多少天後自動關閉評論", validators=[Optional(), Between(min=1, max=3650)]
    )


class ArticleForm(Form):
    message_names: ClassVar[dict[str, str]] = {
        "comments_state": "評論狀態",
        "kind": "文章類型",
        "state": "發布狀態",
    }

    title = StringField(
        "標題", filters=[normalised], validators=[VisibleRequired("請填寫標題"), Length(max=200)]
    )
    section_id = SelectField(
        "欄目", coerce=str, validators=[DataRequired("請選擇欄目")], validate_choice=False
    )
    source = StringField("來源", filters=[normalised], validators=[Optional(), Length(max=64)])
    published_at = DateTimeLocalField(
        "發布時間",
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[InputRequired("請填寫發布時間")],
    )
    reporters = StringField("記者", filters=[normalised], validators=[Optional(), Length(max=200)])
    editor = StringField("編輯", filters=[normalised], validators=[Optional(), Length(max=32)])
    editor_note = TextAreaField("編者按", filters=[normalised], validators=[Optional(), Length(max=2000)])
    summary = StringField("摘要", filters=[normalised], validators=[Optional(), Length(max=300)])
    body_md = TextAreaField(
        "正文（Markdown）",
        filters=[normalised],
        validators=[Optional(), Length(max=MAX_SOURCE_CHARS, message=TOO_LONG.format(what="正文"))],
    )
    kind = SelectField("類型", choices=choices(ARTICLE_KIND_LABELS, [k.value for k in ArticleKind]))
    state = SelectField("狀態", choices=choices(ARTICLE_STATE_LABELS, [s.value for s in ArticleState]))
    comments_state = SelectField(
        "評論", choices=choices(COMMENTS_STATE_LABELS, [c.value for c in CommentsState])
    )
    cover_id = SelectField("封面圖片", coerce=str, validate_choice=False)
    player_id = SelectField("播放的視頻或音頻", coerce=str, validate_choice=False)
    gallery_ids = StringField(
        "圖集圖片（媒體編號，逗號分隔，按順序）", validators=[Optional(), Length(max=400)]
    )
    related_ids = StringField(
        "相關推薦（文章編號，逗號分隔，留空則自動）", validators=[Optional(), Length(max=200)]
    )
    edit_stamp = HiddenField()  # what the editor opened (editorial.edit_stamp)

    def validate_gallery_ids(self, field):
        _ids(field)

    def validate_related_ids(self, field):
        _ids(field)


def _ids(field) -> list[int]:
    raw = (field.data or "").replace("，", ",")
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if any(not (p.isascii() and p.isdecimal()) or len(p) > 9 for p in parts):
        raise ValidationError("請填寫以逗號分隔的數字編號")
    return [int(p) for p in parts]


def bounded_id(value) -> int:
    """An id from a form: not a number is WTForms' own error; beyond 64 bits it becomes 0,
    which no row has (so the domain says the section does not exist)."""
    text = str(value).strip()
    if not (text.isascii() and text.isdecimal()):
        raise ValueError(text)
    return int(text) if len(text) <= 18 else 0


def ids_of(field) -> list[int]:
    return _ids(field)


class MediaForm(Form):
    file = FileField("文件")
    caption = TextAreaField("說明", filters=[normalised], validators=[Optional(), Length(max=500)])
    credit = StringField(
        "署名（如 □本報記者 某某 攝）", filters=[normalised], validators=[Optional(), Length(max=120)]
    )


class PageForm(Form):
    title = StringField(
        "標題", filters=[normalised], validators=[VisibleRequired("請填寫標題"), Length(max=100)]
    )
    slug = StringField(
        "網址代號",
        filters=[normalised],
        validators=[DataRequired("請填寫網址代號"), Length(max=64), SLUG_RULE],
    )
    body_md = TextAreaField(
        "內容（Markdown）",
        filters=[normalised],
        validators=[Optional(), Length(max=MAX_SOURCE_CHARS, message=TOO_LONG.format(what="內容"))],
    )
    in_footer = BooleanField("顯示在頁尾")
    position = IntegerField("排序", default=0, validators=[Optional(), Between(min=0, max=1000)])


class SettingsForm(Form):
    message_names: ClassVar[dict[str, str]] = {"region_database": "IP屬地數據庫"}

    site_name = StringField(
        SETTING_LABELS["site_name"],
        filters=[normalised],
        validators=[VisibleRequired("請填寫網站名稱"), Length(max=40)],
    )
    site_description = StringField(
        SETTING_LABELS["site_description"], filters=[normalised], validators=[Optional(), Length(max=200)]
    )
    footer_copyright = StringField(
        SETTING_LABELS["footer_copyright"], filters=[normalised], validators=[Optional(), Length(max=200)]
    )
    footer_licences = TextAreaField(
        SETTING_LABELS["footer_licences"], filters=[normalised], validators=[Optional(), Length(max=1000)]
    )
    report_phone = StringField(
        SETTING_LABELS["report_phone"],
        filters=[normalised],
        validators=[Optional(), Regexp(r"^[0-9+\-() ]{5,20}$", message="請填寫有效的電話號碼")],
    )
    report_email = StringField(
        SETTING_LABELS["report_email"],
        filters=[normalised],
        validators=[Optional(), Regexp(r"^[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}$", message="請填寫有效的郵箱地址")],
    )
    comment_min_length = IntegerField(
        SETTING_LABELS["comment_min_length"], validators=[InputRequired(), Between(min=1, max=50)]
    )
    comment_max_length = IntegerField(
        SETTING_LABELS["comment_max_length"], validators=[InputRequired(), Between(min=10, max=2000)]
    )
    comment_cooldown_seconds = IntegerField(
        SETTING_LABELS["comment_cooldown_seconds"], validators=[InputRequired(), Between(min=0, max=3600)]
    )
    comment_ip_hourly = IntegerField(
        SETTING_LABELS["comment_ip_hourly"], validators=[InputRequired(), Between(min=1, max=10000)]
    )
    quota_new = IntegerField(
        SETTING_LABELS["quota_new"], validators=[InputRequired(), Between(min=1, max=10000)]
    )
    quota_normal = IntegerField(
        SETTING_LABELS["quota_normal"], validators=[InputRequired(), Between(min=1, max=10000)]
    )
    quota_good = IntegerField(
        SETTING_LABELS["quota_good"], validators=[InputRequired(), Between(min=1, max=10000)]
    )
    quota_restricted = IntegerField(
        SETTING_LABELS["quota_restricted"], validators=[InputRequired(), Between(min=1, max=10000)]
    )
    comment_edit_minutes = IntegerField(
        SETTING_LABELS["comment_edit_minutes"], validators=[InputRequired(), Between(min=0, max=60)]
    )
    report_hide_threshold = IntegerField(
        SETTING_LABELS["report_hide_threshold"], validators=[InputRequired(), Between(min=1, max=100)]
    )
    retention_days = IntegerField(
        SETTING_LABELS["retention_days"],
        validators=[InputRequired(), Between(min=184, max=3650)],
    )
    url_tlds = TextAreaField(
        SETTING_LABELS["url_tlds"],
        filters=[normalised, lambda text: " ".join(tld_entries(text or "")) or text],
        validators=[VisibleRequired("請至少填寫一個頂級域名"), Length(max=2000)],
    )
    # The choices are the files in REGION_DATABASES_FOLDER (the view sets them): a name, not a path.
    region_database = SelectField(SETTING_LABELS["region_database"], choices=[])
    sms_sender = SelectField(
        SETTING_LABELS["sms_sender"],
        choices=[SelectChoice("portal.domain.sms:ConsoleSender", "開發模式：寫入日誌與終端")],
    )

    def validate_url_tlds(self, field):
        if wrong := [entry for entry in tld_entries(field.data or "") if not TLD_SHAPE.fullmatch(entry)]:
            raise ValidationError(f"「{wrong[0][:20]}」不是頂級域名：只能由字母、數字、連字符或漢字組成")

    def validate_comment_max_length(self, field):
        if self.comment_min_length.data and field.data and field.data < self.comment_min_length.data:
            raise ValidationError("最多字數不能少於最少字數")


class WordForm(Form):
    term = StringField(
        "詞條（或 re: 加正則）",
        filters=[normalised],
        validators=[DataRequired("請填寫詞條"), Length(max=200)],
    )
    categories = SelectMultipleField(
        "類別", choices=[SelectChoice(code, f"{code} {label}") for code, label in CATEGORY_LABELS.items()]
    )
    action = SelectField(
        "處理方式",
        choices=[
            SelectChoice("block", "拒絕（block）"),
            SelectChoice("review", "送審（review）"),
            SelectChoice("allow", "放行（allow）"),
        ],
    )
    pinyin = BooleanField("同時匹配拼音")


class WordImportForm(Form):
    file = FileField("CSV 文件")


class WordTestForm(Form):
    text = TextAreaField("試一試", validators=[DataRequired("請輸入要檢查的文字"), Length(max=2000)])


class UserAccessForm(Form):
    role = SelectField("角色", choices=choices(ROLE_LABELS, [r.value for r in Role]))
    # A listed id whose section was deleted meanwhile is the domain's 所選欄目不存在.
    sections = ListedChoices(
        "審核範圍（不選則全部欄目）",
        message="請從列表中選擇欄目",
        coerce=lambda v: bounded_id(v),
        validate_choice=False,
    )
    can_view_pii = BooleanField("可查看完整手機號（pii）")


class StaffForm(Form):
    phone = StringField(
        "手機號碼",
        validators=[DataRequired("請填寫手機號碼"), Length(max=PHONE_MAX_LENGTH, message=PHONE_TOO_LONG)],
    )
    nickname = StringField(
        "暱稱", filters=[normalised], validators=[DataRequired("請填寫暱稱"), Length(max=16)]
    )
    password = StringField("初始密碼", validators=[DataRequired("請設置密碼"), PASSWORD_LENGTH])
    role = SelectField("角色", choices=choices(ROLE_LABELS, [Role.MODERATOR.value, Role.ADMIN.value]))


class AccountStateForm(Form):
    """停用 or 啟用: the reason goes into the record (the domain asks for one to 停用)."""

    note = StringField("原因", filters=[normalised], validators=[Optional(), Length(max=200)])


class PasswordForm(Form):
    password = PasswordField("新密碼", validators=[DataRequired("請填寫新密碼"), PASSWORD_LENGTH])


USER_STATES = [s.value for s in UserState]
LAYOUTS = [layout.value for layout in SectionLayout]
