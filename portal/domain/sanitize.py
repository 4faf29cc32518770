"""The only module that imports bleach: Markdown written by editors becomes clean HTML."""

from __future__ import annotations

import html as html_entities
import re
from collections.abc import Iterator
from typing import Any

import bleach
import markdown
from bleach import html5lib_shim

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


def _link_attrs(attrs: dict, new: bool = False) -> dict | None:
    href = attrs.get((None, "href"), "")
    if not href.startswith(("http://", "https://", "/", "mailto:", "tel:")) or href.startswith("//"):
        return None  # stays text
    attrs[(None, "rel")] = "nofollow noopener"
    attrs.pop((None, "target"), None)
    return attrs


# Elements whose content is code or raw text, never part of the page: bleach strips their tags and
# keeps what is inside, so a pasted <style> or <script> showed its CSS or JavaScript as the article's text.
HIDDEN_ELEMENTS = frozenset(
    {"script", "style", "template", "noscript", "noembed", "noframes", "iframe", "textarea", "title", "xmp"}
)


class _DropHiddenElements(html5lib_shim.Filter):
    """The parsed tree's tokens without those elements and everything inside them."""

    def __iter__(self) -> Iterator[dict]:
        depth = 0  # a parsed tree's tags nest: each start tag comes with its end tag
        for token in super().__iter__():
            if token["type"] in ("StartTag", "EndTag", "EmptyTag") and token["name"] in HIDDEN_ELEMENTS:
                depth += {"StartTag": 1, "EndTag": -1}.get(token["type"], 0)
            elif depth == 0:
                yield token


class _Cleaner(bleach.Cleaner):
    """bleach's Cleaner, whose parser also reads the hidden elements as elements (their content as the
    raw text a browser reads: an unclosed one runs to the end; a tag inside an attribute, a comment or
    another one's text is no tag), so that they are dropped with their content before sanitizing.
    bleach's own parser turns a tag it does not allow into text before the tree is built, so it never
    knows where such an element ends."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.parser = html5lib_shim.BleachHTMLParser(
            tags=frozenset(self.tags) | HIDDEN_ELEMENTS,
            strip=self.strip,
            consume_entities=False,
            namespaceHTMLElements=False,
        )
        walk = self.walker
        self.walker = lambda tree: _DropHiddenElements(walk(tree))


_cleaner = _Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
)


def markdown_to_html(source: str) -> str:
    """Render editor Markdown and keep only the small allow-list; the result is safe to show."""
    if len(source) > MAX_SOURCE_CHARS:
        raise ValueError(f"正文不能超過{MAX_SOURCE_CHARS}字")
    rendered = markdown.markdown(source, extensions=["tables"], output_format="html")
    cleaned = _cleaner.clean(rendered)
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
