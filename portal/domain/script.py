"""繁/简: the site is written in Traditional; OpenCC converts on the way out (and search terms in)."""

from __future__ import annotations

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
