from typing import NamedTuple

from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from portal.domain.moderation import DECISION_LABELS, DECISION_REASONS, MEASURES, MUTE_DAYS
from portal.domain.pledge import REASON_LABELS
from portal.domain.records import parse_id
from portal.forms import Between, Form, normalised

NOTE_MAX = 300
NOTE_TOO_LONG = f"備註不能超過{NOTE_MAX}字"


def reason_choices(codes=DECISION_REASONS) -> list[SelectChoice]:
    return [SelectChoice("", "選擇理由")] + [
        SelectChoice(code, f"{code} {REASON_LABELS[code]}") for code in codes
    ]


class DecisionForm(Form):
    decision = SelectField(
        "處理", choices=[SelectChoice(k, v) for k, v in DECISION_LABELS.items()], validators=[DataRequired()]
    )
    reason = SelectField("理由", choices=reason_choices(), validators=[Optional()])
    note = StringField(
        "備註", filters=[normalised], validators=[Optional(), Length(max=NOTE_MAX, message=NOTE_TOO_LONG)]
    )
    return_to = HiddenField()
    seen = HiddenField()  # the review_stamp of the text the row showed


class Ticked(NamedTuple):
    id: int
    seen: str | None  # the review_stamp of the text the row showed, when the tick carried it


def ticked(value: object) -> Ticked:
    """A ticked row, 「id@stamp」 (or a bare id): not a number is the form's 請先勾選評論; beyond a
    64-bit column the id is 0, which no comment has (int() alone let 2**64 through to the database:
    an OverflowError)."""
    if isinstance(value, Ticked):
        return value
    number, at, seen = str(value).strip().partition("@")
    if not (number.isascii() and number.isdigit()):
        raise ValueError(number)
    return Ticked(parse_id(number) or 0, seen if at else None)


class BulkForm(DecisionForm):
    ids = SelectMultipleField("評論", coerce=ticked, validate_choice=False)
    seen = None  # each tick carries its own

    def ticked_ids(self) -> list[int]:
        return [tick.id for tick in self.data["ids"] or ()]

    def seen_stamps(self) -> dict[int, str]:
        return {tick.id: tick.seen for tick in self.data["ids"] or () if tick.seen is not None}


class ReportRulingForm(Form):
    ruling = SelectField(
        "裁定",
        choices=[
            SelectChoice("upheld", "舉報成立（刪除評論）"),
            SelectChoice("not_upheld", "R90 舉報不成立"),
            SelectChoice("malicious", "R91 惡意舉報"),
        ],
        validators=[DataRequired()],
    )
    reason = SelectField("刪除理由", choices=reason_choices(), validators=[Optional()])
    note = StringField(
        "備註", filters=[normalised], validators=[Optional(), Length(max=NOTE_MAX, message=NOTE_TOO_LONG)]
    )
    return_to = HiddenField()


class MeasureForm(Form):
    measure = SelectField(
        "措施", choices=[SelectChoice(k, v) for k, v in MEASURES.items()], validators=[DataRequired()]
    )
    days = SelectField(
        "禁言天數",
        choices=[SelectChoice("", "—")] + [SelectChoice(str(d), f"{d}天") for d in MUTE_DAYS],
        validators=[Optional()],
    )
    reason = SelectField("理由", choices=reason_choices(), validators=[DataRequired("請選擇理由")])
    note = StringField("備註", filters=[normalised], validators=[Optional(), Length(max=300)])


class LiftForm(Form):
    """解除 of a measure: the moderator's note (optional) is what the record keeps."""

    note = StringField(
        "解除備註", filters=[normalised], validators=[Optional(), Length(max=NOTE_MAX, message=NOTE_TOO_LONG)]
    )


class AppealRulingForm(Form):
    overturn = SelectField(
        "裁定",
        choices=[SelectChoice("0", "維持原決定"), SelectChoice("1", "撤銷原決定")],
        validators=[DataRequired()],
    )
    note = StringField("說明", filters=[normalised], validators=[Optional(), Length(max=300)])


class HoldForm(Form):
    note = StringField("說明", filters=[normalised], validators=[Optional(), Length(max=200)])


# An id typed into a form: beyond the databases' 64-bit integers it was an OverflowError (a 500).
ROW_ID = Between(min=1, max=2**63 - 1, message="請填寫有效的編號")


class CloseForm(Form):
    target_type = SelectField(
        "範圍",
        choices=[
            SelectChoice("article", "文章"),
            SelectChoice("section", "欄目"),
            SelectChoice("site", "全站"),
        ],
    )
    target_id = IntegerField("編號", validators=[Optional(), ROW_ID])
    closed = BooleanField("關閉評論", default=True)


class BulkHideForm(Form):
    user_id = IntegerField("用戶編號", validators=[Optional(), ROW_ID])
    ip_prefix = StringField("IP前綴", filters=[normalised], validators=[Optional(), Length(max=45)])
    term = StringField("關鍵詞", filters=[normalised], validators=[Optional(), Length(max=50)])
    reason = SelectField("理由", choices=reason_choices(), validators=[DataRequired("請選擇理由")])
    note = TextAreaField("備註", filters=[normalised], validators=[Optional(), Length(max=300)])
