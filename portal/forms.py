"""Form pieces shared by the areas: input normalisation, the CSRF-only action form."""

from flask_wtf import FlaskForm
from wtforms.validators import DataRequired, NumberRange, StopValidation

from portal.domain.pledge import drop_invisible, input_normalise


def normalised(value: str | None) -> str | None:
    """CRLF → LF, control characters dropped, trimmed (SECURITY.md §1); everything else kept."""
    return input_normalise(value) if isinstance(value, str) else value


class VisibleRequired(DataRequired):
    """DataRequired that also refuses text of nothing but what takes no room (zero-width spaces,
    direction marks, blank letters): a title of 「\u200b」 is as empty on the page as no title."""

    def __call__(self, form, field):
        super().__call__(form, field)
        if isinstance(field.data, str) and not drop_invisible(field.data).strip():
            field.errors[:] = []
            raise StopValidation(self.message)


class Between(NumberRange):
    """NumberRange that stays quiet when the value did not even parse: WTForms' 「不是有效的整數值。」
    says so already, and 「數字必須介於 0 和 1000 之間。」 beside it read as a second mistake."""

    def __call__(self, form, field):
        if field.data is None:
            return
        super().__call__(form, field)


class Form(FlaskForm):
    """Every form of the site: WTForms' own messages in Traditional Chinese."""

    class Meta:
        locales = ("zh_TW",)


class ActionForm(Form):
    """A button that changes something: CSRF and nothing else."""
