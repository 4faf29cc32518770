"""Demo content: the seed article, 90 local articles, the footer's pages and settings.

`load_demo` is idempotent: sections, pages and settings are keyed by slug or key, articles by
section and title, media by path; a second run adds nothing and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.demo import media as make
from portal.demo.comments import load_demo_comments
from portal.demo.seed_page import load_seed_article
from portal.domain.pii import PhoneVault
from portal.domain.sanitize import html_to_text, markdown_to_html
from portal.domain.sensitive_words import replace_word_list
from portal.domain.wordlist import parse_word_csv
from portal.models import (
    Article,
    ArticleKind,
    ArticleState,
    Media,
    MediaKind,
    Page,
    Section,
    SectionLayout,
    SensitiveWord,
    SiteSetting,
)

DATA = Path(__file__).parent / "data"
LOCAL = ZoneInfo("Asia/Shanghai")

# (slug, name, children): the ten top-level sections of the seed page, in its order.
SECTIONS: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("ruiping", "銳評", []),
    ("yaowen", "要聞", [("liaocheng", "聊城"), ("shandong", "山東"), ("guonei", "國內"), ("guoji", "國際")]),
    ("shiting", "視聽", []),
    ("tushuo", "圖說", []),
    ("rexian", "熱線", []),
    ("bumen", "部門", []),
    (
        "xianyu",
        "縣域",
        [
            ("dongchangfu", "東昌府區"),
            ("linqing", "臨清市"),
            ("chiping", "茌平區"),
            ("yanggu", "陽谷縣"),
            ("shenxian", "莘縣"),
            ("dong-e", "東阿縣"),
            ("guanxian", "冠縣"),
            ("gaotang", "高唐縣"),
        ],
    ),
    ("shuzibao", "數字報", []),
    ("kandianshi", "看電視", []),
    ("tingguangbo", "聽廣播", []),
]
DESCRIPTIONS = {
    "ruiping": "本網評論員的銳利評說",
    "yaowen": "聊城、山東、國內外要聞",
    "shiting": "視頻與音頻新聞",
    "tushuo": "用圖片講述聊城故事",
    "rexian": "市民熱線，有問必答",
    "bumen": "市直部門動態",
    "xianyu": "八個縣（市、區）的新鮮事",
    "shuzibao": "聊城日報數字版，按期瀏覽",
    "kandianshi": "聊城廣播電視台節目點播",
    "tingguangbo": "聊城人民廣播電台節目收聽",
}
# Footer pages in the seed's order, then pages linked from elsewhere.
PAGES = [
    ("about", True),
    ("ads", True),
    ("copyright", True),
    ("contact", True),
    ("pledge", True),
    ("rules", False),
    ("privacy", False),
    ("terms", False),
]


@dataclass
class DemoReport:
    sections: int = 0
    articles: int = 0
    pages: int = 0
    settings: int = 0
    media: int = 0
    words: int = 0
    comments: int = 0


def _to_utc(local: datetime) -> datetime:
    return local.replace(tzinfo=LOCAL).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def _key(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:12]


def load_sections(session: Session, report: DemoReport) -> dict[str, Section]:
    existing = {s.slug: s for s in session.scalars(select(Section))}
    for position, (slug, name, children) in enumerate(SECTIONS):
        parent = existing.get(slug)
        if parent is None:
            layout = SectionLayout.PAPER if slug == "shuzibao" else SectionLayout.LIST
            parent = Section(
                slug=slug, name=name, position=position, description=DESCRIPTIONS[slug], layout=layout
            )
            session.add(parent)
            existing[slug] = parent
            report.sections += 1
        for child_position, (child_slug, child_name) in enumerate(children):
            if child_slug not in existing:
                child = Section(slug=child_slug, name=child_name, position=child_position, parent=parent)
                session.add(child)
                existing[child_slug] = child
                report.sections += 1
    session.flush()
    return existing


def load_pages(session: Session, report: DemoReport) -> None:
    existing = set(session.scalars(select(Page.slug)))
    for position, (slug, in_footer) in enumerate(PAGES):
        if slug in existing:
            continue
        heading, _, body = (DATA / "pages" / f"{slug}.md").read_text(encoding="utf-8").partition("\n")
        session.add(
            Page(
                slug=slug,
                title=heading.removeprefix("# ").strip(),
                body_md=body.strip(),
                body_html=markdown_to_html(body.strip()),
                in_footer=in_footer,
                position=position,
            )
        )
        report.pages += 1


def load_settings(session: Session, report: DemoReport, footer_lines: list[str]) -> None:
    """The footer of the seed page becomes settings an admin can edit."""
    copyright_line, *licence_lines, report_line = footer_lines
    phone = report_line.split("舉報電話:")[1].split()[0]
    email = report_line.split("舉報郵箱:")[1].strip()
    values = {
        "site_name": "聊城新聞網",
        "footer_copyright": copyright_line,
        "footer_licences": "\n".join(licence_lines),
        "report_phone": phone,
        "report_email": email,
    }
    existing = set(session.scalars(select(SiteSetting.key)))
    for key, value in values.items():
        if key not in existing:
            session.add(SiteSetting(key=key, value=value))
            report.settings += 1


class MediaMaker:
    def __init__(self, session: Session, media_root: Path, report: DemoReport) -> None:
        self.session, self.root, self.report = session, media_root, report
        self.known = {m.path: m for m in session.scalars(select(Media).where(Media.path.like("demo/%")))}

    def _get_or_make(self, path: str, build) -> Media:
        found = self.known.get(path)
        if found is not None and (self.root / path).exists():
            return found
        item = build()
        if found is not None:  # the row survived, the file did not: write the file again
            return found
        self.session.add(item)
        self.known[path] = item
        self.report.media += 1
        return item

    def picture(self, key: str, caption: str, credit: str) -> Media:
        path = f"demo/{key}.jpg"

        def build() -> Media:
            width, height, size = make.make_picture(self.root, path, key)
            return Media(
                kind=MediaKind.IMAGE,
                path=path,
                mime="image/jpeg",
                caption=caption,
                credit=credit,
                width=width,
                height=height,
                size=size,
                variants=",".join(str(w) for w in make.PICTURE_WIDTHS),
            )

        return self._get_or_make(path, build)

    def player(self, key: str, kind: ArticleKind, caption: str) -> Media:
        video = kind is ArticleKind.VIDEO
        path = f"demo/{key}.{'webm' if video else 'wav'}"

        def build() -> Media:
            size = (make.make_video if video else make.make_audio)(self.root, path, key, caption)
            return Media(
                kind=MediaKind.VIDEO if video else MediaKind.AUDIO,
                path=path,
                mime="video/webm" if video else "audio/wav",
                caption=caption,
                size=size,
            )

        return self._get_or_make(path, build)


def _article_exists(session: Session, section: Section, title: str) -> bool:
    return (
        session.scalar(select(Article.id).where(Article.section_id == section.id, Article.title == title))
        is not None
    )


def _new_article(section: Section, body_md: str, **fields) -> Article:
    body_html = markdown_to_html(body_md)
    return Article(
        section=section,
        body_md=body_md,
        body_html=body_html,
        body_text=html_to_text(body_html),
        state=ArticleState.PUBLISHED,
        **fields,
    )


def load_seed(session: Session, sections: dict[str, Section], media: MediaMaker, report: DemoReport):
    seed = load_seed_article()
    section = sections["shandong"]
    # Media first: a file lost from disk is written again even when its article exists.
    cover = media.picture(_key("seed", seed.title), seed.cover_caption, seed.cover_credit)
    if _article_exists(session, section, seed.title):
        return seed
    published = _to_utc(seed.published_local)
    session.add(
        _new_article(
            section,
            seed.body_md,
            title=seed.title,
            source=seed.source,
            published_at=published,
            created_at=published,
            updated_at=published,
            reporters=seed.reporters,
            editor=seed.editor,
            editor_note=seed.editor_note,
            summary=seed.editor_note[:120],
            cover=cover,
        )
    )
    report.articles += 1
    return seed


def load_articles(session: Session, sections: dict[str, Section], media: MediaMaker, report: DemoReport):
    for data_file in sorted(DATA.glob("articles_*.json")):
        for item in json.loads(data_file.read_text(encoding="utf-8")):
            section = sections[item["section"]]
            key = _key(item["section"], item["title"])
            kind = ArticleKind(item["kind"])
            # Media first: a file lost from disk is written again even when its article exists.
            cover = (
                media.picture(key, item["cover_caption"], item["cover_credit"])
                if item["cover_caption"]
                else None
            )
            player = (
                media.player(key, kind, item["media_caption"])
                if kind in (ArticleKind.VIDEO, ArticleKind.AUDIO)
                else None
            )
            photos = [
                media.picture(_key(key, str(position)), picture["caption"], picture["credit"])
                for position, picture in enumerate(item.get("gallery") or [])
            ]
            if _article_exists(session, section, item["title"]):
                continue
            published = _to_utc(datetime.strptime(item["published_at"], "%Y-%m-%d %H:%M:%S"))
            article = _new_article(
                section,
                item["body"],
                title=item["title"],
                source=item["source"],
                published_at=published,
                created_at=published,
                updated_at=published,
                reporters=item["reporters"],
                editor=item["editor"],
                editor_note=item["editor_note"],
                summary=item["summary"],
                kind=kind,
                cover=cover,
            )
            article.player = player
            article.set_gallery(photos)
            session.add(article)
            report.articles += 1


def load_words(session: Session, report: DemoReport, now: datetime) -> None:
    """The starter word list, unless the site already has one."""
    if session.scalar(select(SensitiveWord.id).limit(1)) is not None:
        return
    entries = parse_word_csv((DATA / "words.csv").read_text(encoding="utf-8"))
    had_version = session.get(SiteSetting, "wordlist_version") is not None
    replace_word_list(session, entries, now=now)
    report.words = len(entries)
    report.settings += 0 if had_version else 1


def load_demo(
    session: Session,
    *,
    media_root: Path,
    vault: PhoneVault | None = None,
    hasher: PasswordHasher | None = None,
    now: datetime | None = None,
) -> DemoReport:
    """Load everything missing; the caller commits. With a vault, demo readers and comments too."""
    report = DemoReport()
    sections = load_sections(session, report)
    media = MediaMaker(session, media_root, report)
    seed = load_seed(session, sections, media, report)
    load_articles(session, sections, media, report)
    load_pages(session, report)
    load_settings(session, report, seed.footer_lines)
    session.flush()
    if now is not None:
        load_words(session, report, now)
    if vault is not None and hasher is not None and now is not None:
        report.comments = load_demo_comments(session, vault=vault, hasher=hasher, now=now)
    session.flush()
    return report
