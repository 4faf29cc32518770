from wtforms import BooleanField, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.domain.accounts import NICKNAME_MAX, PASSWORD_MIN
from portal.domain.pii import PHONE_MAX_LENGTH, PHONE_TOO_LONG
from portal.forms import Form, normalised

PHONE_REQUIRED = "請輸入手機號碼"


class CodeRequestForm(Form):
    phone = StringField(
        "手機號碼",
        validators=[DataRequired(PHONE_REQUIRED), Length(max=PHONE_MAX_LENGTH, message=PHONE_TOO_LONG)],
    )


class RegisterForm(Form):
    phone = StringField(
        "手機號碼",
        validators=[DataRequired(PHONE_REQUIRED), Length(max=PHONE_MAX_LENGTH, message=PHONE_TOO_LONG)],
    )
    code = StringField("短信驗證碼", validators=[DataRequired("請輸入短信驗證碼"), Length(max=8)])
    nickname = StringField(
        "暱稱",
        filters=[normalised],
        validators=[DataRequired("請輸入暱稱"), Length(max=NICKNAME_MAX, message="暱稱太長")],
    )
    password = PasswordField(
        "密碼",
        validators=[
            DataRequired("請設置密碼"),
            Length(min=PASSWORD_MIN, max=128, message="密碼需為8至128個字符"),
        ],
    )
    accept_terms = BooleanField("我已閱讀並同意《用戶協議》《跟帖評論自律管理承諾書》《隱私政策》")


class PasswordResetForm(Form):
    phone = StringField(
        "手機號碼",
        validators=[DataRequired(PHONE_REQUIRED), Length(max=PHONE_MAX_LENGTH, message=PHONE_TOO_LONG)],
    )
    code = StringField("短信驗證碼", validators=[DataRequired("請輸入短信驗證碼"), Length(max=8)])
    password = PasswordField(
        "新密碼",
        validators=[
            DataRequired("請設置新密碼"),
            Length(min=PASSWORD_MIN, max=128, message="密碼需為8至128個字符"),
        ],
    )


class LoginForm(Form):
    phone = StringField(
        "手機號碼",
        validators=[DataRequired(PHONE_REQUIRED), Length(max=PHONE_MAX_LENGTH, message=PHONE_TOO_LONG)],
    )
    password = PasswordField("密碼", validators=[DataRequired("請輸入密碼"), Length(max=128)])


class AppealForm(Form):
    target_type = HiddenField()
    target_id = HiddenField()
    text = TextAreaField(
        "申訴理由",
        filters=[normalised],
        validators=[DataRequired("請填寫申訴理由"), Length(max=500, message="申訴理由不能超過500字")],
    )


# 賬號設置: four forms on one page, so each names its fields apart (one id per page).


class NicknameForm(Form):
    nickname = StringField(
        "新暱稱",
        filters=[normalised],
        validators=[DataRequired("請輸入新暱稱"), Length(max=NICKNAME_MAX, message="暱稱太長")],
    )


class PasswordChangeForm(Form):
    current_password = PasswordField("當前密碼", validators=[DataRequired("請輸入當前密碼"), Length(max=128)])
    new_password = PasswordField(
        "新密碼",
        validators=[
            DataRequired("請設置新密碼"),
            Length(min=PASSWORD_MIN, max=128, message="密碼需為8至128個字符"),
        ],
    )


class PhoneChangeForm(Form):
    phone = StringField(
        "新手機號碼",
        validators=[DataRequired(PHONE_REQUIRED), Length(max=PHONE_MAX_LENGTH, message=PHONE_TOO_LONG)],
    )
    code = StringField("短信驗證碼", validators=[DataRequired("請輸入短信驗證碼"), Length(max=8)])
    phone_password = PasswordField("當前密碼", validators=[DataRequired("請輸入當前密碼"), Length(max=128)])


class DeregisterForm(Form):
    deregister_password = PasswordField(
        "密碼", validators=[DataRequired("請輸入密碼以確認是您本人"), Length(max=128)]
    )
    confirm = BooleanField("我已了解以上後果，確認註銷賬號")
