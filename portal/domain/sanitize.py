"""The only module that imports bleach: Markdown written by editors becomes clean HTML."""

from __future__ import annotations

import html as html_entities
import re

import bleach
import markdown

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "h2", "h3", "strong", "em", "blockquote", "figure", "img", "figcaption", "a",
        "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": ["href", "title"], "img": ["src", "alt", "width", "height"]}
# mailto and tel: a 聯繫我們 page links the newsroom's address and hotline.
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto", "tel"})
# Bodies beyond this are refused before bleach sees them: it is quadratic on nested markup.
MAX_SOURCE_CHARS = 200_000

_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
)


def _link_attrs(attrs: dict, new: bool = False) -> dict | None:
    href = attrs.get((None, "href"), "")
    if not href.startswith(("http://", "https://", "/", "mailto:", "tel:")) or href.startswith("//"):
        return None  # stays text
    attrs[(None, "rel")] = "nofollow noopener"
    attrs.pop((None, "target"), None)
    return attrs


# Elements whose content is code or raw text, never part of the page: bleach strips their tags and
# keeps what is inside, so a pasted <style> or <script> showed its CSS or JavaScript as the article's text.
_HIDDEN_OPEN = re.compile(
    r"<(script|style|template|noscript|noembed|noframes|iframe|textarea|title|xmp)\b", re.IGNORECASE
)


def _drop_hidden_content(html: str) -> str:
    """The HTML without those elements, content included; one pass (an unclosed one runs to the end,
    as a browser reads it)."""
    if not _HIDDEN_OPEN.search(html):
        return html
    lower = html.lower()
    pieces: list[str] = []
    position = 0
    while (opening := _HIDDEN_OPEN.search(html, position)) is not None:
        pieces.append(html[position : opening.start()])
        closing = lower.find(f"</{opening.group(1).lower()}", opening.end())
        end = lower.find(">", closing) if closing != -1 else -1
        position = len(html) if end == -1 else end + 1
    pieces.append(html[position:])
    return "".join(pieces)


def markdown_to_html(source: str) -> str:
    """Render editor Markdown and keep only the small allow-list; the result is safe to show."""
    if len(source) > MAX_SOURCE_CHARS:
        raise ValueError(f"正文不能超過{MAX_SOURCE_CHARS}字")
    rendered = markdown.markdown(source, extensions=["tables"], output_format="html")
    cleaned = _cleaner.clean(_drop_hidden_content(rendered))
    return bleach.linkify(cleaned, callbacks=[_link_attrs], parse_email=False)


_OUTSIDE_IMAGE = re.compile(r'<img\b[^>]*\ssrc="((?:https?:)?//[^"]*)"', re.IGNORECASE)


def outside_images(html: str) -> list[str]:
    """Pictures served from other sites: the CSP (img-src 'self') would not show them, and a reader's
    browser would tell those sites who is reading what."""
    return _OUTSIDE_IMAGE.findall(html)


def html_to_text(html: str) -> str:
    """Plain text of clean HTML (for search, excerpts and feeds)."""
    text = bleach.clean(html.replace("<br>", "\n").replace("</p>", "</p>\n"), tags=set(), strip=True)
    # bleach returns escaped text; a plain-text column holds it unescaped.
    return html_entities.unescape(text).strip()
