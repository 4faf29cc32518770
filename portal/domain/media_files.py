"""Uploads checked by their content, not their name: pictures re-encoded and resized with Pillow,
audio and video probed with PyAV (FFmpeg) and kept as sent."""

from __future__ import annotations

import contextlib
import secrets
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from portal.domain import audit
from portal.domain.errors import Rejected
from portal.models import Article, GalleryPicture, Media, MediaKind, Page, User

if TYPE_CHECKING:
    from PIL import Image

PICTURE_WIDTHS = (320, 640, 960, 1280)
MAX_PIXELS = 40_000_000  # larger pictures are refused before they are decoded
UNKNOWN = "無法識別的文件：只接受 JPEG、PNG、WebP 圖片，以及 MP3、WAV、OGG、M4A 音頻和 MP4、WebM 視頻"

# Container format names as FFmpeg reports them → (extension, MIME type).
VIDEO_FORMATS = {"webm": ("webm", "video/webm"), "mov": ("mp4", "video/mp4"), "mp4": ("mp4", "video/mp4")}
AUDIO_FORMATS = {
    "wav": ("wav", "audio/wav"),
    "mp3": ("mp3", "audio/mpeg"),
    "ogg": ("ogg", "audio/ogg"),
    "mov": ("m4a", "audio/mp4"),
    "mp4": ("m4a", "audio/mp4"),
    "webm": ("weba", "audio/webm"),
}


@dataclass(frozen=True)
class Upload:
    data: bytes
    caption: str
    credit: str
    filename: str = ""  # as the browser named it; a browser sends "" when no file was chosen


def _picture(data: bytes) -> Image.Image | None:
    from PIL import Image  # Pillow: loaded by the upload that needs it, not by every worker

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(BytesIO(data))
            if probe.format not in ("JPEG", "PNG", "WEBP"):
                return None
            if probe.width * probe.height > MAX_PIXELS:
                raise Rejected("file", "圖片尺寸過大（超過4000萬像素）")
            probe.verify()
            picture = Image.open(BytesIO(data))
            picture.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as bomb:
        raise Rejected("file", "圖片尺寸過大（超過4000萬像素）") from bomb
    except (OSError, SyntaxError, ValueError):
        return None
    return picture


def _stream_kind(data: bytes) -> tuple[MediaKind, str, str] | None:
    """Audio or video by what FFmpeg finds inside, with the extension and type to serve it as."""
    import av  # FFmpeg's libraries: loaded by the upload that needs them, not by every worker

    try:
        with av.open(BytesIO(data), mode="r") as container:
            names = container.format.name.split(",")
            has_video = any(
                s.type == "video" and not (s.disposition & av.stream.Disposition.attached_pic)
                for s in container.streams
            )
            has_audio = any(s.type == "audio" for s in container.streams)
            if has_video:
                # Decoding one frame proves the stream is real, not a header on garbage.
                next(container.decode(video=0))
    except (av.error.FFmpegError, StopIteration, ValueError, OSError, UnicodeDecodeError):
        return None
    table, kind = (VIDEO_FORMATS, MediaKind.VIDEO) if has_video else (AUDIO_FORMATS, MediaKind.AUDIO)
    if not (has_video or has_audio):
        return None
    for name in names:
        if name in table:
            return (kind, *table[name])
    return None


def store_upload(session: Session, *, upload: Upload, media_root: Path, actor: User, now: datetime) -> Media:
    """Check, convert and store one upload; a renamed text file is refused with a message."""
    if not upload.data:
        # A chosen file with nothing in it is not a missing choice: 請選擇 left the editor
        # choosing the same file again and again.
        if upload.filename:
            shown = upload.filename[:60] + ("…" if len(upload.filename) > 60 else "")
            raise Rejected("file", f"文件「{shown}」是空的（0 字節），請選擇有內容的文件")
        raise Rejected("file", "請選擇要上傳的文件")
    stem = f"uploads/{now:%Y/%m}/{secrets.token_hex(8)}"
    (media_root / stem).parent.mkdir(parents=True, exist_ok=True)
    picture = _picture(upload.data)
    if picture is not None:
        from PIL import Image, ImageOps

        picture = ImageOps.exif_transpose(picture)
        if picture.mode not in ("RGB", "L"):
            background = Image.new("RGB", picture.size, (255, 255, 255))
            background.paste(picture.convert("RGBA"), mask=picture.convert("RGBA").split()[-1])
            picture = background
        picture = picture.convert("RGB")
        widths = [w for w in PICTURE_WIDTHS if w < picture.width] + [min(picture.width, PICTURE_WIDTHS[-1])]
        widths = sorted(set(widths))
        largest = widths[-1]

        def height_at(width: int) -> int:
            return max(1, round(width * picture.height / picture.width))  # a banner 1 pixel high stays 1

        for width in widths:
            copy = picture.resize((width, height_at(width)), Image.LANCZOS)
            target = media_root / (f"{stem}.jpg" if width == largest else f"{stem}-{width}.jpg")
            copy.save(target, "JPEG", quality=85, optimize=True, progressive=True)  # no EXIF kept
        main = media_root / f"{stem}.jpg"
        media = Media(
            kind=MediaKind.IMAGE,
            path=f"{stem}.jpg",
            mime="image/jpeg",
            width=largest,
            height=height_at(largest),
            size=main.stat().st_size,
            variants=",".join(str(w) for w in widths if w != largest),
        )
    else:
        found = _stream_kind(upload.data)
        if found is None:
            raise Rejected("file", UNKNOWN, 422)
        kind, extension, mime = found
        (media_root / f"{stem}.{extension}").write_bytes(upload.data)
        media = Media(kind=kind, path=f"{stem}.{extension}", mime=mime, size=len(upload.data))
    media.caption, media.credit, media.created_at = upload.caption.strip(), upload.credit.strip(), now
    session.add(media)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="admin.media_uploaded",
        target_type="media",
        target_id=media.id,
        after={"path": media.path, "kind": str(media.kind), "size": media.size},
        now=now,
    )
    return media


# --- deleting ------------------------------------------------------------------------------------

SHOWN_USES = 5  # a refusal names this many places, then counts the rest


def _mentioning(media: Media, *columns) -> ColumnElement[bool]:
    """A body mentions the file by its name: the picture itself (`stem.jpg`) or a width (`stem-640.jpg`)."""
    stem = media.path.rpartition(".")[0] or media.path
    return or_(*(column.contains(stem + end, autoescape=True) for column in columns for end in (".", "-")))


def media_uses(session: Session, media: Media) -> list[str]:
    """Where the item shows, in words: covers, players, photo sets, and pictures or links in the
    bodies of articles and static pages (editors paste the file's address there)."""

    def articles(*conditions) -> list[tuple[int, str]]:
        query = select(Article.id, Article.title).where(*conditions).distinct().order_by(Article.id)
        return [(row.id, row.title) for row in session.execute(query)]

    uses = [f"文章 #{i}《{t}》的封面" for i, t in articles(Article.cover_id == media.id)]
    uses += [f"文章 #{i}《{t}》的播放媒體" for i, t in articles(Article.player_id == media.id)]
    uses += [
        f"文章 #{i}《{t}》的圖集"
        for i, t in articles(
            Article.id.in_(select(GalleryPicture.article_id).where(GalleryPicture.media_id == media.id))
        )
    ]
    uses += [
        f"文章 #{i}《{t}》的正文" for i, t in articles(_mentioning(media, Article.body_md, Article.body_html))
    ]
    pages = session.scalars(
        select(Page.title).where(_mentioning(media, Page.body_md, Page.body_html)).order_by(Page.id)
    )
    uses += [f"頁面「{title}」的內容" for title in pages]
    return uses


def files_of(media: Media) -> list[str]:
    """The item's files under the media folder: the file itself and its resized copies."""
    return [media.path] + [media.variant_path(width) for width in media.variant_widths()]


def delete_media(session: Session, *, media: Media, actor: User, now: datetime) -> list[str]:
    """Deletes an item nothing shows, and returns its files for the caller to remove once the
    deletion is committed (`remove_files`); an item still in use is refused, naming where."""
    if uses := media_uses(session, media):
        shown = "；".join(uses[:SHOWN_USES])
        more = f"等{len(uses)}處" if len(uses) > SHOWN_USES else ""
        raise Rejected("delete", f"媒體 #{media.id} 仍在使用，不能刪除：{shown}{more}。請先從這些地方移除。")
    files = files_of(media)
    audit.record(
        session,
        actor=actor,
        action="admin.media_deleted",
        target_type="media",
        target_id=media.id,
        before={"path": media.path, "kind": str(media.kind), "size": media.size, "caption": media.caption},
        now=now,
    )
    session.delete(media)
    return files


def remove_files(media_root: Path, paths: Iterable[str]) -> None:
    """Removes files of a deleted item; one already gone, or outside the media folder, is skipped."""
    root = media_root.resolve()
    for path in paths:
        target = (root / path).resolve()
        if root in target.parents:
            with contextlib.suppress(OSError):  # the row is gone already: a stray file harms nothing
                target.unlink(missing_ok=True)
