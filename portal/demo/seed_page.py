"""The seed article (聊城新聞網, 2022-02-08) from the page text kept in data/seed_page.txt.

The text came through a converter that wrote pinyin after characters it was unsure of
(`動(dòng)`); those notes are stripped here. Two parentheses are real text: (街道) and (魯).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

SEED_FILE = Path(__file__).parent / "data" / "seed_page.txt"

# A note is lower-case Latin with at least one tone mark, in ASCII parentheses.
TONE_MARKS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
CONVERSION_NOTE = re.compile(rf"\((?=[a-zü{TONE_MARKS}]*[{TONE_MARKS}])[a-zü{TONE_MARKS}]+\)")
# Where the converter lost characters and wrote `?` with stray bytes; repaired by hand.
REPAIRS = (
    (re.compile(r"來源:大眾日\?qǐng\)\?bào\)"), "來源:大眾日報"),
    (re.compile(r"當\(dāng\)\?shù\)厝肆.Y源供給"), "當地人力資源供給"),
)


def strip_conversion_notes(text: str) -> str:
    for pattern, repaired in REPAIRS:
        text = pattern.sub(repaired, text)
    return CONVERSION_NOTE.sub("", text)


@dataclass
class SeedArticle:
    title: str
    source: str
    published_local: datetime
    cover_credit: str
    cover_caption: str
    editor_note: str
    reporters: str
    body_md: str
    editor: str
    footer_lines: list[str] = field(default_factory=list)


def _is_heading(line: str) -> bool:
    # Place names and sub-heading lines are short and carry no sentence punctuation.
    return len(line) <= 14 and not re.search("[。，,；]", line)


def parse_seed(text: str) -> SeedArticle:
    lines = [line.strip() for line in strip_conversion_notes(text).splitlines()]
    lines = [line for line in lines if line]
    title_at = lines.index("動起來 跑起來 干起來")
    source_line = lines[title_at + 1]
    source, _, stamp = source_line.removeprefix("來源:").partition("  ")
    credit_line = next(line for line in lines if line.startswith("□新華社發"))
    credit, _, caption = credit_line.partition(" ")
    note = next(line for line in lines if line.startswith("■編者按"))
    byline = next(line for line in lines if line.startswith("□ 本報記者"))
    editor_at = next(i for i, line in enumerate(lines) if line.startswith("編輯:"))
    body_lines = lines[lines.index(byline) + 1 : editor_at]

    blocks: list[str] = []
    index = 0
    while index < len(body_lines):
        line = body_lines[index]
        if _is_heading(line) and index + 2 < len(body_lines) and _is_heading(body_lines[index + 1]):
            blocks.append(f"## {line}")
            blocks.append(f"### {body_lines[index + 1]}<br>{body_lines[index + 2]}")
            index += 3
            continue
        blocks.append(line)
        index += 1
    footer_from = lines.index("網友評論") + 2
    return SeedArticle(
        title=lines[title_at],
        source=source.strip(),
        published_local=datetime.strptime(stamp.strip(), "%Y-%m-%d %H:%M:%S"),
        cover_credit=credit,
        cover_caption=caption.strip(),
        editor_note=note.removeprefix("■編者按").strip(),
        reporters=byline.removeprefix("□").strip(),
        body_md="\n\n".join(blocks),
        editor=lines[editor_at].removeprefix("編輯:").strip(),
        footer_lines=lines[footer_from:],
    )


def load_seed_article() -> SeedArticle:
    return parse_seed(SEED_FILE.read_text(encoding="utf-8"))
