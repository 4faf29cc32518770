"""What a straightforward implementation gets: Flask + Flask-SQLAlchemy rendering an article with
its 50 newest approved comments from the portal's own SQLite file, no caching."""

import os

from flask import Flask, abort, render_template_string
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import text

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.environ["BENCH_DATABASE"]
db = SQLAlchemy(app)
PAGE = """<!doctype html><html lang="zh-Hant"><head><meta charset="utf-8"><title>{{ a.title }}</title></head>
<body><h1>{{ a.title }}</h1><div>{{ a.body_html }}</div><h2>網友評論（{{ comments|length }}）</h2><ol>
{% for c in comments %}<li><b>{{ c.nickname }}</b> {{ c.ip_region }} {{ c.created_at }}<p>{{ c.body }}</p></li>{% endfor %}
</ol></body></html>"""


@app.get("/articles/<int:article_id>")
def article(article_id: int):
    a = (
        db.session.execute(text("SELECT * FROM article WHERE id = :id"), {"id": article_id})
        .mappings()
        .first()
    )
    if a is None:
        abort(404)
    comments = (
        db.session.execute(
            text(
                "SELECT c.body, c.ip_region, c.created_at, u.nickname FROM comment c JOIN user_account u ON u.id = c.author_id "
                "WHERE c.article_id = :id AND c.status = 'approved' ORDER BY c.created_at DESC LIMIT 50"
            ),
            {"id": article_id},
        )
        .mappings()
        .all()
    )
    return render_template_string(PAGE, a=a, comments=comments)
