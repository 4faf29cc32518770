"""The moderation desk (/moderation): views.py holds the queue and decisions, records.py the
audit log, exports and the dashboard. Deny by default: every route needs a moderator or admin."""

from flask import Blueprint, abort
from flask_login import current_user

from portal.auth import unauthorized
from portal.domain.moderation import is_moderator

bp = Blueprint("moderation", __name__, url_prefix="/moderation")


@bp.before_request
def staff_only():
    if not current_user.is_authenticated:
        return unauthorized()
    if not is_moderator(current_user):
        abort(403)
    return None
