from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from portal.domain.comments import REPORT_REASONS
from portal.domain.pledge import REASON_LABELS
from portal.domain.records import parse_id
from portal.domain.site import COMMENT_MAX_CEILING
from portal.forms import Form, normalised


class CommentForm(Form):
    # Shape only; the pledge rules (length included, with their own messages) run in the domain.
    body = TextAreaField(
        "評論內容",
        filters=[normalised],
        validators=[
            DataRequired("評論內容不能為空"),
            Length(max=COMMENT_MAX_CEILING, message=f"評論不能超過{COMMENT_MAX_CEILING}字"),
        ],
    )
    reply_to = HiddenField(validators=[Optional()])

    def reply_to_id(self) -> int | None:
        """None for a new comment; a reply's id, or 0 (no comment has it) when what came is no id
        ("²", "-1"): the reader is told the comment is gone instead of the reply going out as a
        new comment."""
        raw = (self.reply_to.data or "").strip()
        if not raw:
            return None
        return parse_id(raw) or 0


class EditForm(Form):
    body = TextAreaField(
        "評論內容",
        filters=[normalised],
        validators=[
            DataRequired("評論內容不能為空"),
            Length(max=COMMENT_MAX_CEILING, message=f"評論不能超過{COMMENT_MAX_CEILING}字"),
        ],
    )


class ReportForm(Form):
    reason = SelectField(
        "舉報理由",
        choices=[SelectChoice("", "請選擇")]
        + [SelectChoice(code, REASON_LABELS[code]) for code in REPORT_REASONS],
        validators=[DataRequired("請選擇舉報理由")],
        validate_choice=False,  # the domain refuses other codes with its own message
    )
    note = StringField("補充說明（選填）", filters=[normalised], validators=[Optional(), Length(max=200)])
