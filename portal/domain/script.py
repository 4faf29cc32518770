"""繁/简: the site is written in Traditional; OpenCC converts on the way out (and search terms in)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from enum import StrEnum
from functools import cache

import opencc


class Script(StrEnum):
    HANT = "hant"  # 繁體, the default, as the seed page
    HANS = "hans"  # 简体

    @classmethod
    def parse(cls, raw: str | None) -> Script:
        return cls.HANS if raw == cls.HANS.value else cls.HANT


@cache
def _converter(config: str) -> opencc.OpenCC:
    # Built once per process: loading the dictionaries costs far more than a conversion.
    return opencc.OpenCC(config)


def to_simplified(text: str) -> str:
    return _converter("t2s").convert(text)


def to_traditional(text: str) -> str:
    return _converter("s2t").convert(text)


# Letters of other alphabets that look like Latin ones, lowercase (η μ ν υ left out on purpose): the
# pledge's homoglyph fold (PLEDGE_RULES §6.1 step 6, pledge.py) and how a nickname reads use one table.
HOMOGLYPHS = str.maketrans(
    "авсеёһнііјкӏмоԛрѕтухԝαβεζικορτχ",
    "abceehhiijklmoqpstyxwabezikoptx",
)


def _letters_only(text: str) -> str:
    """NFKC, casefold, the homoglyph fold, and without spaces, punctuation and what takes no room:
    「運河 晨跑」, 「運河·晨跑」, 「運河晨跑。」 and 「Lаke湖」 (a Cyrillic а) pass for 運河晨跑 and Lake湖."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(HOMOGLYPHS)
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] not in "PZC")


def readings(texts: Sequence[str]) -> list[str]:
    """How each text reads in the 简体 view, whatever its script, width, case, spacing and
    punctuation (运河晨跑 for 運河晨跑 and 運河 晨跑, lake湖 for Ｌａｋｅ湖): `_letters_only`, then
    t2s. One OpenCC call for them all, one line each."""
    if not texts:
        return []
    return to_simplified("\n".join(_letters_only(text) for text in texts)).split("\n")


def reading(text: str) -> str:
    return readings([text])[0]


def to_traditional_variants(text: str) -> list[str]:
    """Each way the text may be written in Traditional: OpenCC's standard (這裏, 麪條, 看着) and the
    Taiwan and Hong Kong usage (這裡, 麵條, 看著; 台灣) our editors write. A search for 这里 must
    find 這裡, which plain s2t (這裏) misses; a search for 這裏 must find 這裡 too, hence t2s first."""
    simplified = to_simplified(text)
    forms = (_converter(config).convert(simplified) for config in ("s2t", "s2tw", "s2hk"))
    return list(dict.fromkeys(forms))


# What a person typed, or is about to save, stays as it is: a textarea's text and an input's value.
# Converted, an editor's Traditional article came back Simplified in its form (and was saved so), and a
# refused comment came back in the other script.
_TYPED = re.compile(
    r"(<textarea\b[^>]*>)(.*?)(?=</textarea)|(<input\b[^>]*?\svalue=)(\"[^\"]*\"|'[^']*')",
    re.IGNORECASE | re.DOTALL,
)


def to_simplified_page(html: str) -> str:
    """A page (or fragment, or feed) in Simplified, but for what its form fields hold."""
    pieces: list[str] = []
    position = 0
    for match in _TYPED.finditer(html):
        tag, kept = (match.group(1), match.group(2)) if match.group(1) is not None else match.group(3, 4)
        pieces.append(to_simplified(html[position : match.start()] + tag))
        pieces.append(kept)
        position = match.end()
    pieces.append(to_simplified(html[position:]))
    return "".join(pieces)
