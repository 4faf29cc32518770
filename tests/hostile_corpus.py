"""The project's own hostile-input corpus (SECURITY.md §14): one list, every family, used by the
test-client checks (tests/views/test_hostile_comments.py) and, as a sample, in Chromium.

Each payload says whether the pledge rules must refuse it (`refused`: a URL, a contact number, a
listed word, nothing meaningful); everything else must be accepted, stored exactly as typed (after
SECURITY.md §1's input normalisation) and read back exactly, as inert text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from portal.domain.pledge import input_normalise


@dataclass(frozen=True)
class Payload:
    family: str
    text: str
    refused: bool = False  # the pledge rules refuse it: 422 with the rule's message, nothing stored

    @property
    def expected(self) -> str:
        """What must read back: CRLF/CR → LF, C0/C1 controls but LF and TAB dropped, trimmed."""
        return input_normalise(self.text)


def _family(family: str, *texts: str, refused: bool = False) -> list[Payload]:
    return [Payload(family, text, refused) for text in texts]


SCRIPT_TAGS = _family(
    "script",
    "<script>alert(1)</script>",
    "<SCRIPT>alert(document.cookie)</SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "</bdi></div></li></ol><script>alert(1)</script>",
    '<script type="module">alert(1)</script>評論',
    "<template><script>alert(1)</script></template>",
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    '<script src="data:text/javascript,alert(1)"></script>',
)

EVENT_HANDLERS = _family(
    "handlers",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>展開</details>",
    "<input autofocus onfocus=alert(1)>",
    '<video><source onerror="alert(1)"></video>',
    "<marquee onstart=alert(1)>跑馬燈</marquee>",
    "<a onmouseover=alert(1)>懸停這裡</a>",
    '<div onclick="alert(1)">點我</div>',
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    '<audio src=x onerror="alert(1)">',
    "<select autofocus onfocusin=alert(1)><option>選項</option></select>",
)

URL_SCHEMES = _family(
    "url-schemes",
    '<a href="javascript:alert(1)">點我</a>',
    '<a href="jav&#x09;ascript:alert(1)">點我</a>',
    '<a href="jav\tascript:alert(1)">點我</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">點我</a>',
    '<a href="JaVaScRiPt:alert(1)">點我</a>',
    '<a href=" &#14; javascript:alert(1)">點我</a>',
    '<a href="java\u200bscript:alert(1)">點我</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">點我</a>',
    '<a href="vbscript:msgbox(1)">點我</a>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<form action="javascript:alert(1)"><button>提交</button></form>',
    '<button formaction="javascript:alert(1)">提交</button>',
    "javascript:alert(1)",
    "%3Cscript%3Ealert(1)%3C/script%3E",
    "&lt;script&gt;alert(1)&lt;/script&gt; 與 &amp;lt; 都要原樣顯示",
    "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e",
    "a < b && c > d，\"引號\" 'single' &amp; &#60;",
)

SVG_MATHML = _family(
    "svg-mathml",
    "<svg><style><img src=x onerror=alert(1)></style></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<svg><p><style><img src=x onerror=alert(1)>",
    "<math><mi><style><img src=x onerror=alert(1)></style></mi></math>",
    "<noscript><style></noscript><img src=x onerror=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">點</text></a></svg>',
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
    '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">',
    '<math><annotation-xml encoding="text/html"><style><img src=x onerror=alert(1)>',
    '<svg><foreignObject><iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;">',
)

MALFORMED = _family(
    "malformed",
    "<img src=x onerror=alert(1)//",
    "<<script>alert(1);//<</script>",
    '<img """><script>alert(1)</script>">',
    '<a href="x',
    "</li></ol><button>假按鈕</button>",
    "</div></section><h1>假標題</h1><form><input name=body></form>",
    "<!-- 註釋開始",
    "結束 -->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<p <b <i>未閉合</p",
    "<table><tr><td>表格</td>",
    "</bdi></div><div hx-get=/moderation hx-trigger=load>越獄</div>",
    '<?xml version="1.0"?><x>處理指令</x>',
    "<!DOCTYPE html><html><body>整頁</body></html>",
)

ATTRIBUTE_BREAKOUTS = _family(
    "attribute",
    '" autofocus onfocus="alert(1)',
    "' onmouseover='alert(1)",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    '" style="position:fixed;inset:0" x="',
    "` onmouseover=alert(1) `",
    '"/><script>alert(1)</script>',
    '" hx-get="/moderation" hx-trigger="load',
)

CSS = _family(
    "css",
    '<p style="width:expression(alert(1))">舊版IE</p>',
    '<div style="position:fixed;top:0;left:0;width:100%;height:100%">覆蓋全頁</div>',
    "<style>*{display:none}</style>",
) + _family(  # a host with a path is a link whatever its TLD (P17): these are refused too
    "css",
    '<div style="background:url(//x.invalid/a.png)">背景</div>',
    "<style>@import url(//x.invalid/x.css);</style>",
    "<link rel=stylesheet href=//x.invalid/a.css>",
    '<img src="//x.invalid/pixel.gif">',
    refused=True,
)

TEMPLATE_INJECTION = _family(
    "template",
    "{{7*7}}",
    "{{ 7*7 }} 和 {{7*'7'}}",
    "{{ config }}",
    "{{ self.__init__.__globals__ }}",
    "{{ request.application.__globals__.__builtins__ }}",
    "{% for x in range(3) %}重複{% endfor %}",
    "{% raw %}原樣{% endraw %}",
    "{# 註釋 #}不見了嗎",
    "${7*7}",
    "#{7*7}",
    "<%= 7*7 %>",
    "{{constructor.constructor('alert(1)')()}}",
    "[[7*7]]",
    "{{'<b>粗</b>'|safe}}",
)

HTMX_ATTRIBUTES = _family(
    "htmx",
    '<div hx-get="/moderation" hx-trigger="load">審核</div>',
    '<button hx-post="/comments/1/like" hx-trigger="load">贊</button>',
    '<div data-hx-get="/moderation" data-hx-trigger="load">審核</div>',
    '<form hx-post="/accounts/logout" hx-trigger="load"><button>退出</button></form>',
    '<div hx-on:htmx:load="alert(1)">載入</div>',
    '<div hx-on="htmx:load: alert(1)">載入</div>',
    '<a hx-get="/" hx-trigger="load" hx-target="body" hx-swap="innerHTML">整頁替換</a>',
    '<div hx-vals=\'js:{a:alert(1)}\' hx-get="/" hx-trigger="load">變量</div>',
    '<img src=x hx-get="/moderation" hx-trigger="load">',
    '<div hx-disable="false"><button hx-post="/accounts/logout" hx-trigger="load">退出</button></div>',
    '<div hx-get="/moderation" hx-trigger="every 1s">輪詢</div>',
    '<div hx-get="/moderation" hx-trigger="load[alert(1)]">過濾器</div>',
    '<div hx-headers=\'{"X-CSRFToken": "x"}\' hx-post="/comments/1/report" hx-trigger="load">舉報</div>',
)

CONTROL_AND_INVISIBLE = _family(
    "controls",
    "正常\x00文字",
    "a\x00<script>alert(1)</script>",
    "評論\r\n第二行\r第三行\n第四行",
    "\u202e反轉文字abc\u202c之後",
    "\u202dLTR覆蓋\u202c與\u2066隔離\u2069",
    "零\u200b寬\u200c字\u200d符\ufeff號\u2060",
    "\x1b[31m紅色\x1b[0m終端",
    "\x85下一行\x9f控制",
    "%C0%BC%C0%BEscript 過長編碼",
    "%00空字符%0d%0a",
    "\t製表\t符號\t",
    "   前後空白   ",
    "\u2028行分隔\u2029段分隔",
    "\u00a0不換行\u3000全形空格",
    "＜script＞alert(1)＜/script＞",
    "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033dA\u0334\u0335\u031cL\u0320\u0368G\u0334\u033bO\u0335\u0339",
    "👍🏽👨‍👩‍👧‍👦🇨🇳 表情",
    "\ufffd替換字符\ufffe",
)

SQL_INJECTION = _family(
    "sql",
    "' OR 1=1 --",
    "'; DROP TABLE comment; --",
    '" OR ""="',
    "1; SELECT * FROM user_account",
    "admin'--",
    "') UNION SELECT nickname, password_hash FROM user_account --",
    "%' OR body LIKE '%",
    "1' AND (SELECT COUNT(*) FROM comment) > 0 --",
)

# What the pledge rules must refuse, however dressed up: URLs (P17), contact numbers (P18), listed
# words behind zero-width characters (P15), nothing meaningful (P12).
REFUSED = _family(
    "refused",
    '<script src="https://evil.example.com/x.js"></script>',
    '<a href="http://127.0.0.2/">點我</a>',
    "<img src=x onerror=\"location='//evil.com'\">",
    '<style>body{background:url("https://x.cn/a.png")}</style>',
    "<a href=www.example.cn>網站</a>",
    "<b>加我 13800138000</b>",
    "赌\u200b博<script>alert(1)</script>",
    "<><>",
    "\x00\x00",
    refused=True,
)

CORPUS: list[Payload] = [
    *SCRIPT_TAGS,
    *EVENT_HANDLERS,
    *URL_SCHEMES,
    *SVG_MATHML,
    *MALFORMED,
    *ATTRIBUTE_BREAKOUTS,
    *CSS,
    *TEMPLATE_INJECTION,
    *HTMX_ATTRIBUTES,
    *CONTROL_AND_INVISIBLE,
    *SQL_INJECTION,
    *REFUSED,
]

# One per family, for Chromium (about 0.6 s an input there: SECURITY.md §13).
BROWSER_SAMPLE: list[Payload] = [
    SCRIPT_TAGS[3],  # </textarea><script>
    EVENT_HANDLERS[0],  # <img onerror>
    URL_SCHEMES[1],  # jav&#x09;ascript:
    SVG_MATHML[0],  # <svg><style><img onerror>
    SVG_MATHML[1],  # <math><mtext><table><mglyph><style>
    MALFORMED[0],  # <img ... onerror=alert(1)//
    ATTRIBUTE_BREAKOUTS[0],  # " autofocus onfocus="
    CSS[0],  # style with expression()
    TEMPLATE_INJECTION[0],  # {{7*7}}
    HTMX_ATTRIBUTES[0],  # hx-get="/moderation" hx-trigger="load"
    HTMX_ATTRIBUTES[1],  # hx-post=".../like" hx-trigger="load"
    CONTROL_AND_INVISIBLE[3],  # RTL override
    SQL_INJECTION[1],  # '; DROP TABLE comment; --
]


def _repeat(unit: str, size: int = 100 * 1024) -> Callable[[], str]:
    return lambda: unit * (size // len(unit.encode()) + 1)


# 100 KB and more: the request is refused before any rule (or bleach) reads it (413).
LONG_GENERATORS: dict[str, Callable[[], str]] = {
    "b-tags": lambda: "<b>" * 34_000,
    "nested-divs": _repeat("<div>"),
    "anchors": _repeat('<a href="javascript:alert(1)">x</a>'),
    "ascii": _repeat("A"),
    "han": _repeat("評"),
    "emoji": _repeat("👍"),
    "entities": _repeat("&lt;"),
    "zero-width": _repeat("\u200b"),
}


def payload_id(payload: Payload) -> str:
    """A short, readable test id."""
    shown = payload.text.encode("unicode_escape").decode("ascii")
    return f"{payload.family}:{shown[:40]}"
