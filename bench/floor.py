"""The floor under posting: the portal itself, with one more view that does everything a post does
before its own work and then answers 204.

It runs through the same app factory, extensions and hooks as `wsgi:app`: the session, sign-in
(Flask-Login loading the reader), the limiter, CSRF and the form's validation, and the article's
load. What it leaves out is exactly the post: the pledge's rules, the insert, its kept record, the
durable commit and the answer. Posting's ratio to this floor, measured in the same run, says how
much of a post's cost is the post's own.

Benchmark only: nothing in the portal imports this module.
"""

from flask import current_app
from flask_login import login_required

from portal import create_app
from portal.comments.forms import CommentForm
from portal.comments.views import _article_or_404, _user_key
from portal.extensions import limiter

app = create_app()


@login_required
@limiter.limit(lambda: current_app.config["COMMENT_LIMITS"], key_func=_user_key)
def post_without_posting(article_id: int):
    _article_or_404(article_id, media=False)
    if not CommentForm().validate_on_submit():
        return "", 422
    return "", 204


# The same URL and rule as a real post: only the view behind it differs.
app.view_functions["comments.create"] = post_without_posting
