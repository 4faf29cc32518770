"""portal.domain.sanitize: editor Markdown becomes HTML with only the allow-listed tags and safe links."""

from __future__ import annotations

import time

import html5lib
import pytest

from portal.domain.sanitize import MAX_SOURCE_CHARS, html_to_text, markdown_to_html


def _elements(html: str):
    root = html5lib.parse(html, namespaceHTMLElements=False)
    return list(root.find("body").iter())[1:]  # every element below <body>


def _tags(html: str) -> set[str]:
    return {element.tag for element in _elements(html)}


def test_markdown_blocks_and_inline_markup_are_kept():
    html = markdown_to_html("段落 **粗** *斜*\n\n## 小標\n\n### 三級<br>兩行\n\n> 引用\n")
    assert {"p", "strong", "em", "h2", "h3", "br", "blockquote"} <= _tags(html)
    assert "<strong>粗</strong>" in html
    assert "<h3>三級<br>兩行</h3>" in html


def test_lists_are_kept():
    assert {"ul", "li"} <= _tags(markdown_to_html("- 一\n- 二\n"))
    assert {"ol", "li"} <= _tags(markdown_to_html("1. 甲\n2. 乙\n"))


def test_tables_are_kept():
    html = markdown_to_html("| 區縣 | 人數 |\n|---|---|\n| 冠縣 | 12 |\n")
    assert {"table", "thead", "tbody", "tr", "th", "td"} <= _tags(html)
    assert "<td>冠縣</td>" in html


def test_figures_with_images_and_captions_are_kept():
    html = markdown_to_html('<figure><img src="/media/a.jpg" alt="圖"><figcaption>說明</figcaption></figure>')
    assert {"figure", "img", "figcaption"} <= _tags(html)
    image = next(e for e in _elements(html) if e.tag == "img")
    assert image.get("src") == "/media/a.jpg"
    assert image.get("alt") == "圖"


def test_markdown_images_keep_src_and_alt():
    image = next(
        e for e in _elements(markdown_to_html("![圖片](https://example.com/a.jpg)")) if e.tag == "img"
    )
    assert image.attrib == {"src": "https://example.com/a.jpg", "alt": "圖片"}


@pytest.mark.parametrize(
    ("source", "tag"),
    [
        ("<script>alert(1)</script>文字", "script"),
        ("<style>p{color:red}</style>文字", "style"),
        ('<iframe src="https://evil.example"></iframe>文字', "iframe"),
        ('<object data="x.swf"></object>文字', "object"),
        ("<svg><style><img src=x onerror=alert(1)></style></svg>文字", "svg"),
    ],
)
def test_dangerous_elements_are_stripped(source, tag):
    html = markdown_to_html(source)
    assert tag not in _tags(html)
    assert f"<{tag}" not in html.lower()
    assert "文字" in html


@pytest.mark.parametrize(
    "source",
    [
        "<style>p{color:red}</style>\n\n正文",
        "<script>alert(1)</script>\n\n正文",
        "<SCRIPT type=x>var a = 1;</Script >正文",
        "正文<style>.x{}",  # unclosed: runs to the end, as in a browser
        "<title>標題</title><noscript>請開啟</noscript><textarea>框</textarea>正文",
    ],
)
def test_code_inside_script_and_style_is_not_shown_as_text(source):
    """bleach drops the tags and keeps their content: the CSS or JavaScript read as the article."""
    text = html_to_text(markdown_to_html(source))
    assert text == "正文"


@pytest.mark.parametrize(
    ("source", "text"),
    [
        # A tag written inside an attribute value is no tag: the paragraphs stay.
        ('<p title="<style>">前文</p>\n\n正文', "前文\n\n\n\n正文"),
        ('<p><span data-x="</style><style>">前文</span></p>\n\n正文', "前文\n\n\n\n正文"),
        # Nor inside a comment, or a CDATA section (in HTML a bogus comment up to the first >).
        ("<!-- <style> -->正文", "正文"),
        ("<!-- <script> --><p>正文</p>", "正文"),
        ("<![CDATA[<style>]]>正文", "]]>\n正文"),
        # Any case; the element's own end tag ends it, not another's, nor a longer name.
        ("<StYlE>p{}</sTyLe>正文", "正文"),
        ('<script>var s = "</style>";</script>正文', "正文"),
        ("<style>a</styles>b</style>正文", "正文"),
        # Nested: a script's text ends at the first </script>, as in a browser; others inside go along.
        ("<script><script>a</script>b</script>正文", "b正文"),
        ("<noscript><style>a</style>b</noscript>正文", "正文"),
        ("<template><style>x</style>模板</template>正文", "正文"),
        ("<svg><style>svg{}</style></svg>正文", "正文"),
        # Unclosed at the end; and a name that only begins like one is another element.
        ("正文<script>", "正文"),
        ("<script-x>自訂</script-x>正文", "自訂正文"),
        ("<styles>樣式</styles>正文", "樣式正文"),
    ],
)
def test_hidden_elements_are_found_as_a_browser_parses_them(source, text):
    html = markdown_to_html(source)
    assert html_to_text(html) == text
    assert "<style" not in html.lower() and "<script" not in html.lower()


def test_entities_around_a_dropped_element_stay_as_written():
    assert markdown_to_html("1&nbsp;2 <style>x</style>&amp; 正文") == "<p>1&nbsp;2 &amp; 正文</p>"


def test_script_and_style_written_as_code_stay_readable():
    html = markdown_to_html("用 `<style>` 標籤")
    assert "&lt;style&gt;" in html and "標籤" in html


def test_dropping_hidden_content_is_linear():
    started = time.perf_counter()
    markdown_to_html("<script>" * 20_000)
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize(
    "source",
    [
        '<p onclick="alert(1)">點我</p>',
        "<img src=x onerror=alert(1)>",
        '<a href="https://example.com" onmouseover="alert(1)">連結</a>',
        '<p style="color:red">紅字</p>',
        '<img src="/a.jpg" style="background:url(//x)">',
    ],
)
def test_event_handler_and_style_attributes_are_stripped(source):
    html = markdown_to_html(source)
    for element in _elements(html):
        assert not [name for name in element.attrib if name.startswith("on") or name == "style"]
    assert "alert" not in html
    assert "style=" not in html


@pytest.mark.parametrize(
    "source",
    [
        "[點我](javascript:alert(1))",
        '<a href="javascript:alert(1)">點我</a>',
        '<a href="JaVaScRiPt:alert(1)">點我</a>',
        '<a href="jav&#x09;ascript:alert(1)">點我</a>',
        '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">點我</a>',
        '<a href="//evil.example/x">點我</a>',
    ],
)
def test_dangerous_hrefs_are_dropped_and_the_text_stays(source):
    html = markdown_to_html(source)
    assert "點我" in html
    assert "a" not in _tags(html)
    assert "javascript" not in html.lower()
    assert "data:" not in html


@pytest.mark.parametrize("src", ["javascript:alert(1)", "data:image/svg+xml;base64,PHN2Zz4="])
def test_dangerous_image_sources_are_dropped(src):
    html = markdown_to_html(f'<img src="{src}">')
    assert src.split(":")[0] not in html


@pytest.mark.parametrize(
    "source",
    [
        "[連結](https://example.com/a)",
        "[本站](/articles/1)",
        '<a href="https://example.com/a" target="_blank" rel="opener">連結</a>',
        "見 https://example.com/a 文",
    ],
)
def test_links_get_nofollow_noopener_and_no_target(source):
    links = [e for e in _elements(markdown_to_html(source)) if e.tag == "a"]
    assert len(links) == 1
    assert links[0].get("rel") == "nofollow noopener"
    assert "target" not in links[0].attrib
    assert links[0].get("href") in ("https://example.com/a", "/articles/1")


@pytest.mark.parametrize(
    ("source", "href"),
    [
        ("[來信](mailto:news@example.com)", "mailto:news@example.com"),
        ("[熱線](tel:0635-8888888)", "tel:0635-8888888"),
    ],
)
def test_mail_and_phone_links_of_a_contact_page_are_kept(source, href):
    (link,) = [e for e in _elements(markdown_to_html(source)) if e.tag == "a"]
    assert link.get("href") == href


def test_source_over_the_cap_is_refused_before_rendering():
    assert markdown_to_html("字" * MAX_SOURCE_CHARS)  # at the cap: fine
    with pytest.raises(ValueError, match="正文不能超過"):
        markdown_to_html("字" * (MAX_SOURCE_CHARS + 1))


def test_html_to_text_unescapes_entities_and_drops_tags():
    text = html_to_text(
        "<p><strong>魚</strong> &amp; 熊掌 &quot;兼得&quot; &#39;難&#39; &lt;x&gt; 1&nbsp;2</p>"
    )
    assert text == "魚 & 熊掌 \"兼得\" '難' <x> 1\xa02"


def test_plain_text_survives_markdown_and_back():
    assert html_to_text(markdown_to_html("魚 & 熊掌 < 兩者")) == "魚 & 熊掌 < 兩者"


def test_html_to_text_keeps_literal_angle_brackets_as_text():
    assert html_to_text("<p>a &amp; b</p><p>c&lt;d&gt;e</p>") == "a & b\n\nc<d>e"


def test_html_to_text_breaks_lines_at_br_and_paragraphs():
    assert html_to_text(markdown_to_html("### 一<br>二\n\n段落")) == "一\n二\n\n段落"
