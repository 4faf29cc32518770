"""Form pieces shared by the areas: input normalisation, the CSRF-only action form, and the
field-naming messages that replace WTForms' generic ones."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from flask_wtf import FlaskForm
from wtforms.fields import Field, SelectFieldBase
from wtforms.validators import DataRequired, NumberRange, StopValidation

from portal.domain.pledge import drop_invisible, input_normalise


def normalised(value: str | None) -> str | None:
    """CRLF → LF, control characters dropped, trimmed (SECURITY.md §1); everything else kept."""
    return input_normalise(value) if isinstance(value, str) else value


class Between(NumberRange):
    """NumberRange that stays quiet when the value did not even parse (its own message says so)."""

    def __call__(self, form, field):
        if field.data is None:
            return
        super().__call__(form, field)


class VisibleRequired(DataRequired):
    """DataRequired that also refuses text of nothing but what takes no room (zero-width spaces,
    direction marks, blank letters): a title of 「\u200b」 is as empty on the page as no title."""

    def __call__(self, form, field):
        super().__call__(form, field)
        if isinstance(field.data, str) and not drop_invisible(field.data).strip():
            field.errors[:] = []
            raise StopValidation(self.message)


class GenericMessage(str):
    """A message WTForms wrote for any field (「不是有效的選擇。」, 「數字必須介於 0 和 1000 之間。」):
    it names no field, so `Form.validate` puts one that does in its place. Keeps WTForms' message id
    and the values formatted into it (`%` on a plain str would forget both)."""

    msgid: str
    values: dict[str, Any]

    def __new__(cls, text: str, msgid: str, values: dict[str, Any] | None = None) -> GenericMessage:
        message = super().__new__(cls, text)
        message.msgid, message.values = msgid, values or {}
        return message

    def __mod__(self, values: Any) -> GenericMessage:
        return GenericMessage(
            str.__mod__(self, values), self.msgid, values if isinstance(values, dict) else {}
        )


class _MarkedTranslations:
    """WTForms' zh_TW catalogue, each message marked as generic."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def gettext(self, string: str) -> GenericMessage:
        return GenericMessage(self.inner.gettext(string), string)

    def ngettext(self, singular: str, plural: str, n: int) -> GenericMessage:
        return GenericMessage(self.inner.ngettext(singular, plural, n), singular)


_CHOICE = {
    "Not a valid choice.",
    "Invalid Choice: could not coerce.",
    "'%(value)s' is not a valid choice for this field.",
    "Invalid choice(s): one or more data inputs could not be coerced.",
    "Invalid value, must be one of: %(values)s.",
    "Invalid value, can't be any of: %(values)s.",
    "Choices cannot be None.",
}
_WHEN = {
    "Not a valid datetime value.",
    "Not a valid date value.",
    "Not a valid time value.",
    "Not a valid week value.",
}
_SAYS = {
    "Not a valid integer value.": "{label}須填寫整數。",
    "Not a valid decimal value.": "{label}須填寫數字。",
    "Not a valid float value.": "{label}須填寫數字。",
    "Number must be between %(min)s and %(max)s.": "{label}須介於{min}至{max}之間。",
    "Number must be at least %(min)s.": "{label}不能小於{min}。",
    "Number must be at most %(max)s.": "{label}不能大於{max}。",
    "Date must be between %(min)s and %(max)s.": "{label}須介於{min}至{max}之間。",
    "Date must be at least %(min)s.": "{label}不能早於{min}。",
    "Date must be at most %(max)s.": "{label}不能晚於{max}。",
    "Field must be between %(min)d and %(max)d characters long.": "{label}須為{min}至{max}個字。",
    "Field must be at least %(min)d character long.": "{label}至少需要{min}個字。",
    "Field cannot be longer than %(max)d character.": "{label}不能超過{max}個字。",
    "Field must be exactly %(max)d character long.": "{label}須為{max}個字。",
}
# A label's aside goes, a unit stays: 「記錄保存天數（不少於184天）」 → 記錄保存天數, 「（秒）」 stays.
_ASIDE = re.compile(r"\s*[（(](?:[^）)]{4,}|[^）)]*[A-Za-z][^）)]*)[）)]\s*$")


def field_name(field: Field) -> str:
    """The field as a message names it: its label without an aside, 「此項」 if it has none (a label
    WTForms made up from the field's name, 「Return To」, is none)."""
    named = getattr(field, "message_name", None)  # set by Form from its `message_names`
    if named:
        return named
    text = field.label.text
    if not text or isinstance(text, GenericMessage):
        return "此項"
    return _ASIDE.sub("", str(text)).strip() or "此項"


def specific_message(field: Field, message: str) -> str:
    """`message` as it stands, or, for one of WTForms' generic ones, a message naming the field."""
    if not isinstance(message, GenericMessage):
        return message
    label, msgid = field_name(field), message.msgid
    choosing = isinstance(field, SelectFieldBase)
    if msgid in _CHOICE:
        return f"請選擇有效的{label}。"
    if msgid in _WHEN:
        return f"請填寫有效的{label}。"
    if msgid == "This field is required.":
        return f"請選擇{label}。" if choosing else f"請填寫{label}。"
    if msgid in _SAYS:
        return _SAYS[msgid].format(label=label, **message.values)
    return f"請選擇有效的{label}。" if choosing else f"{label}填寫有誤，請檢查後再提交。"


class Form(FlaskForm):
    """Every form of the site: a refused value gets a Traditional Chinese message that names its
    field. Messages the form sets itself stand; WTForms' generic ones (「不是有效的選擇。」, which a
    crafted value gets and which says nothing of what to fix) are replaced by `specific_message`."""

    # A field whose label is too short to name it in a message: {"comments_state": "評論狀態"}.
    message_names: ClassVar[dict[str, str]] = {}

    class Meta:
        locales = ("zh_TW",)

        def get_translations(self, form):
            return _MarkedTranslations(super().get_translations(form))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for name, named in self.message_names.items():
            self[name].message_name = named
        for field in self:
            field.errors = [specific_message(field, message) for message in field.errors]
        return valid


class ActionForm(Form):
    """A button that changes something: CSRF and nothing else."""
