"""What readers browse: home, sections, articles, static pages, search, feeds, share, 繁/简."""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)

from portal.comments.context import thread_context
from portal.domain import news
from portal.domain.pagination import Cursor
from portal.domain.script import Script, to_simplified, to_traditional_variants
from portal.extensions import db
from portal.models import Article, Page, Section, SectionLayout, utc_now
from portal.page_cache import cached_page
from portal.page_context import SCRIPT_COOKIE, current_script, section_tree, settings, zone
from portal.safe_redirect import same_site_path

bp = Blueprint("news", __name__)
# The types our media files are declared with in pages; Python's table guesses others (audio/x-wav).
MEDIA_TYPES = {".wav": "audio/wav", ".webm": "video/webm", ".vtt": "text/vtt", ".mp3": "audio/mpeg"}
HOME_PER_SECTION = 6


def _section_or_404(slug: str) -> Section:
    section = section_tree().by_slug(slug)
    if section is None:
        abort(404)
    return section


def _absolute(endpoint: str, **values) -> str:
    base = current_app.config["SITE_URL"].rstrip("/")
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


@bp.get("/")
@cached_page
def home():
    tree, now = section_tree(), utc_now()
    yaowen = tree.by_slug("yaowen")
    lead = news.lead_story(
        db.session,
        now=now,
        visible=list(tree.by_id),
        section_ids=tree.subtree_ids(yaowen) if yaowen else None,
    )
    blocks = []
    for section in tree.top_level:
        articles = news.latest_articles(
            db.session, section_ids=tree.subtree_ids(section), now=now, count=HOME_PER_SECTION + 1
        )
        blocks.append((section, [a for a in articles if lead is None or a.id != lead.id][:HOME_PER_SECTION]))
    return render_template("news/home.html", lead=lead, blocks=blocks)


@bp.get("/sections/<slug>")
@cached_page
def section(slug: str):
    section = _section_or_404(slug)
    tree, now = section_tree(), utc_now()
    ids = tree.subtree_ids(section)
    context = {
        "section": section,
        "trail": tree.path(section) if section.id in tree.by_id else [section],
        "children": tree.children.get(section.id, []),
    }
    if section.layout == SectionLayout.PAPER:
        return _paper_page(ids, now, context)
    cursor, size = Cursor.decode(request.args.get("after")), current_app.config["SECTION_PAGE_SIZE"]
    articles, next_cursor = news.section_articles(
        db.session, section_ids=ids, now=now, cursor=cursor, size=size
    )
    previous = (
        news.section_previous_cursor(db.session, section_ids=ids, now=now, cursor=cursor, size=size)
        if cursor
        else None
    )
    return render_template(
        "news/section.html",
        articles=articles,
        next_cursor=next_cursor,
        previous_cursor=previous,
        paged=cursor is not None,
        **context,
    )


def _paper_page(ids: list[int], now: datetime, context: dict) -> str:
    """數字報: one edition (a local day) with 往期 beside it and 上一期 / 下一期 below."""
    listed = current_app.config["PAPER_EDITIONS_LISTED"]
    editions = news.paper_editions(db.session, section_ids=ids, now=now, zone=zone(), limit=listed)
    asked = _asked_day(request.args.get("date"))
    day, articles = _edition(asked, editions, ids, now)
    older, newer = (
        news.adjacent_editions(db.session, section_ids=ids, day=day, now=now, zone=zone())
        if day
        else (None, None)
    )
    return render_template(
        "news/paper.html",
        editions=editions,
        day=day,
        articles=articles,
        older_edition=older,
        newer_edition=newer,
        # A date without a paper (a Sunday, a typo) shows the newest one, and says so.
        missing_day=asked if asked and day and asked != day else None,
        **context,
    )


def _asked_day(raw: str | None) -> date | None:
    """?date=, or None when absent or malformed (no error)."""
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _edition(
    asked: date | None, editions: list[date], section_ids: list[int], now: datetime
) -> tuple[date | None, list[Article]]:
    """The asked-for edition if the paper has it (listed under 往期 or older), else the newest."""
    for day in (asked, editions[0] if editions else None):
        if day is not None:
            articles = news.paper_edition(db.session, section_ids=section_ids, day=day, now=now, zone=zone())
            if articles:
                return day, articles
    return None, []


@bp.get("/articles/<int:article_id>")
@cached_page
def article(article_id: int):
    article = news.public_article(db.session, article_id, now=utc_now())
    if article is None:
        abort(404)
    return render_article(article)


def render_article(article: Article, form=None, *, preview: bool = False) -> str:
    """The article page: for GET, for a comment form that comes back with errors (no JS), and
    for the newsroom's preview of a draft."""
    tree = section_tree()
    section = tree.by_id.get(article.section_id)
    if section is None and preview:
        section = db.session.get(Section, article.section_id)
    if section is None:  # its section is hidden
        abort(404)
    related = news.related_articles(
        db.session,
        article,
        now=utc_now(),
        count=current_app.config["RELATED_COUNT"],
        visible=list(tree.by_id),
    )
    # A preview of a draft has no place among the published ones.
    older, newer = (None, None) if preview else news.neighbours(db.session, article, now=utc_now())
    page = {
        **thread_context(article, form),
        "older": older,
        "newer": newer,
        "article": article,
        "trail": tree.path(section) if section.id in tree.by_id else [section],
        "related": related,
        "share_url": _absolute("news.article", article_id=article.id),
        # On SITE_URL like og:url: behind a proxy the request's own host is not the site's.
        "og_image": _absolute("news.media_file", filename=article.cover.path) if article.cover else None,
        "preview": preview,
        **_player_files(article),
    }
    return render_template("news/article.html", **page)


def _player_files(article: Article) -> dict:
    """What of the player's files is there: a player whose file is gone (a restore without the
    media folder) is a dead control, so the page says so; only demo videos come with captions,
    and a <track> pointing at none was a 404 on every view of an uploaded video."""
    if article.player is None:
        return {"player_missing": False, "captions": None}
    root = Path(current_app.config["MEDIA_ROOT"])
    captions = article.player.captions_path()
    return {
        "player_missing": not (root / article.player.path).is_file(),
        "captions": captions if article.player.kind == "video" and (root / captions).is_file() else None,
    }


@bp.get("/articles/<int:article_id>/qr.svg")
@cached_page
def article_qr(article_id: int):
    """微信 share: a QR code of the article's address, drawn here as SVG (no third party)."""
    if news.public_article(db.session, article_id, now=utc_now()) is None:
        abort(404)
    # Lazy: qrcode (its SVG writer included) serves only this image, not every worker's start.
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(
        _absolute("news.article", article_id=article_id),
        image_factory=qrcode.image.svg.SvgPathImage,
        box_size=8,
        border=2,
    )
    buffer = BytesIO()
    image.save(buffer)
    response = make_response(buffer.getvalue())
    response.mimetype = "image/svg+xml"
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.get("/pages/<slug>")
@cached_page
def page(slug: str):
    page = db.session.scalar(db.select(Page).where(Page.slug == slug))
    if page is None:
        abort(404)
    return render_template("news/page.html", page=page)


@bp.get("/search")
def search():
    query = news.search_query(request.args.get("q") or "")
    terms = news.search_terms(query, converters=(to_traditional_variants, to_simplified))
    cursor, now = Cursor.decode(request.args.get("after")), utc_now()
    size, visible = current_app.config["SEARCH_PAGE_SIZE"], list(section_tree().by_id)
    articles, next_cursor = news.search_articles(
        db.session, terms=terms, now=now, cursor=cursor, size=size, visible=visible
    )
    previous = (
        news.search_previous_cursor(
            db.session, terms=terms, now=now, cursor=cursor, size=size, visible=visible
        )
        if cursor
        else None
    )
    words = [form for forms in terms for form in forms]
    results = [
        (
            a,
            news.highlight_segments(a.title, words),
            news.highlight_segments(news.excerpt(a.body_text, words), words),
        )
        for a in articles
    ]
    return render_template(
        "news/search.html",
        query=query,
        results=results,
        next_cursor=next_cursor,
        previous_cursor=previous,
        paged=cursor is not None,
    )


@bp.get("/script/<target>")
def switch_script(target: str):
    """繁/简: remember the reader's choice in a cookie and go back where they were."""
    script = Script.parse(target)
    response = redirect(same_site_path(request.args.get("next")), 303)
    response.set_cookie(SCRIPT_COOKIE, script.value, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.get("/sections/<slug>/feed.atom")
@cached_page
def section_feed(slug: str):
    from feedgen.feed import FeedGenerator  # with lxml: loaded by the feed, not by every worker

    section = _section_or_404(slug)
    tree = section_tree()
    articles = news.latest_articles(
        db.session, section_ids=tree.subtree_ids(section), now=utc_now(), count=30
    )
    feed = FeedGenerator()
    site_name = settings()["site_name"]
    feed.id(_absolute("news.section", slug=slug))
    feed.title(f"{section.name} - {site_name}")
    feed.link(href=_absolute("news.section", slug=slug), rel="alternate")
    feed.link(href=_absolute("news.section_feed", slug=slug), rel="self")
    # The feed is converted for 简体 readers (convert_script), so its language says which it is.
    feed.language("zh-Hans" if current_script() is Script.HANS else "zh-Hant")
    # RFC 4287 §4.1.1: a feed needs an author unless every entry has one; articles without
    # reporters (銳評, 數字報 pages) have none, so the site signs the feed.
    feed.author(name=site_name)
    feed.subtitle(section.description or section.name)
    # The newest change of any entry (an edit counts, as in each entry's own updated).
    feed.updated(_utc(max(map(_changed, articles))) if articles else _utc(utc_now()))
    for item in reversed(articles):  # feedgen prepends entries
        entry = feed.add_entry()
        url = _absolute("news.article", article_id=item.id)
        entry.id(url)
        entry.title(item.title)
        entry.link(href=url)
        entry.published(_utc(item.published_at))
        entry.updated(_utc(_changed(item)))
        entry.summary(item.summary or item.body_text[:120])
        if item.reporters:
            entry.author(name=item.reporters)
    response = make_response(feed.atom_str(pretty=True))
    response.mimetype = "application/atom+xml"
    return response


def _changed(article: Article) -> datetime:
    """A scheduled article saved on Monday for Friday changed, for its readers, on Friday."""
    return max(article.published_at, article.updated_at)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC)


@bp.get("/sitemap.xml")
@cached_page
def sitemap():
    now, tree = utc_now(), section_tree()
    # lastmod is when the list last changed, not today: a date that always moves tells crawlers nothing.
    changed = news.section_last_changes(db.session, now=now, visible=list(tree.by_id))

    def last_change(ids: list[int]) -> datetime | None:
        return max((changed[i] for i in ids if i in changed), default=None)

    entries = [(_absolute("news.home"), last_change(list(tree.by_id)))]
    entries += [
        (_absolute("news.section", slug=s.slug), last_change(tree.subtree_ids(s)))
        for s in tree.by_id.values()
    ]
    entries += [
        (_absolute("news.article", article_id=aid), updated)
        for aid, updated in news.sitemap_articles(db.session, now=now, visible=list(tree.by_id))
    ]
    # Static pages (關於我們, 承諾書, ...) have no draft state: every one is public.
    entries += [
        (_absolute("news.page", slug=slug), updated)
        for slug, updated in db.session.execute(db.select(Page.slug, Page.updated_at).order_by(Page.position))
    ]
    response = make_response(render_template("news/sitemap.xml", entries=entries))
    response.mimetype = "application/xml"
    return response


# Crawlers read the news, not the staff pages, forms or per-reader pages, and find the sitemap here.
ROBOTS_DISALLOW = ("/accounts/", "/admin/", "/moderation/", "/comments/", "/script/", "/search")


@bp.get("/robots.txt")
def robots():
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in ROBOTS_DISALLOW)]
    lines.append(f"Sitemap: {_absolute('news.sitemap')}")
    response = make_response("\n".join(lines) + "\n")
    response.mimetype = "text/plain"
    return response


@bp.get("/media/<path:filename>")
def media_file(filename: str):
    """Pictures, audio and video under the instance's media folder (Range requests included)."""
    mimetype = MEDIA_TYPES.get(Path(filename).suffix.lower())
    response = send_from_directory(
        Path(current_app.config["MEDIA_ROOT"]), filename, max_age=7 * 24 * 3600, mimetype=mimetype
    )
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
