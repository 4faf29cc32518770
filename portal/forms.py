"""Form pieces shared by the areas: input normalisation, the CSRF-only action form."""

from flask_wtf import FlaskForm

from portal.domain.pledge import input_normalise


def normalised(value: str | None) -> str | None:
    """CRLF → LF, control characters dropped, trimmed (SECURITY.md §1); everything else kept."""
    return input_normalise(value) if isinstance(value, str) else value


class Form(FlaskForm):
    """Every form of the site: WTForms' own messages in Traditional Chinese."""

    class Meta:
        locales = ("zh_TW",)


class ActionForm(Form):
    """A button that changes something: CSRF and nothing else."""
