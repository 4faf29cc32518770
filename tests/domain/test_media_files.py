"""store_upload: files are judged by their content, pictures re-encoded as JPEG in the page widths,
audio and video probed and kept as sent; every refusal stores nothing. delete_media: only an item
nothing shows goes, its files after the commit (remove_files); a refusal names every place of use."""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from portal.domain.errors import Rejected
from portal.domain.media_files import (
    PICTURE_WIDTHS,
    UNKNOWN,
    Upload,
    delete_media,
    files_of,
    media_uses,
    remove_files,
    store_upload,
)
from portal.domain.sanitize import markdown_to_html
from portal.models import ArticleKind, Media, MediaKind, ModerationAction, Page, Role, User, utc_now
from tests.factories import make_article, make_section
from tests.media_samples import (
    EXIF_MAKE,
    mp3_bytes,
    picture_bytes,
    png_claiming,
    transparent_png,
    wav_bytes,
    webm_bytes,
)


@pytest.fixture
def editor(session) -> User:
    user = User(nickname="編輯甲", phone_cipher=b"-", phone_hmac="editor", password_hash="-", role=Role.ADMIN)
    session.add(user)
    session.flush()
    return user


@pytest.fixture
def store(session, editor, tmp_path):
    def upload(data: bytes, caption: str = "說明", credit: str = "□本報記者 某某 攝") -> Media:
        return store_upload(
            session,
            upload=Upload(data=data, caption=caption, credit=credit),
            media_root=tmp_path,
            actor=editor,
            now=utc_now(),
        )

    return upload


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_a_picture_is_stored_as_jpeg_in_every_page_width_below_its_own(store, tmp_path, fmt):
    media = store(picture_bytes(fmt, (1400, 700)))
    assert (media.kind, media.mime) == (MediaKind.IMAGE, "image/jpeg")
    assert media.path.endswith(".jpg") and media.path.startswith("uploads/")
    # 1400 px wide: the largest copy is 1280 (the widest the pages use), the others are variants.
    assert (media.width, media.height) == (1280, 640)
    assert media.variant_widths() == [320, 640, 960]
    for width, path in [(1280, media.path)] + [(w, media.variant_path(w)) for w in (320, 640, 960)]:
        with Image.open(tmp_path / path) as copy:
            assert copy.format == "JPEG"
            assert copy.size == (width, width // 2)
    assert len(stored_files(tmp_path)) == 4
    assert media.size == (tmp_path / media.path).stat().st_size


def test_a_small_picture_is_not_enlarged(store, tmp_path):
    media = store(picture_bytes("PNG", (500, 250)))
    assert (media.width, media.height) == (500, 250)
    assert media.variant_widths() == [320]
    assert len(stored_files(tmp_path)) == 2


def test_exif_is_dropped_after_turning_the_picture_upright(store, tmp_path):
    # Orientation 6: the camera was turned; the pixels are stored sideways.
    media = store(picture_bytes("JPEG", (800, 400), exif=True, orientation=6))
    assert (media.width, media.height) == (400, 800)
    for path in [media.path, media.variant_path(320)]:
        with Image.open(tmp_path / path) as copy:
            assert dict(copy.getexif()) == {}
            assert "exif" not in copy.info
            assert EXIF_MAKE not in copy.getexif()


def test_transparency_is_flattened_onto_white(store, tmp_path):
    media = store(transparent_png((400, 200)))
    with Image.open(tmp_path / media.path) as copy:
        assert copy.mode == "RGB"
        left, right = copy.getpixel((50, 100)), copy.getpixel((350, 100))
    assert all(channel > 245 for channel in left), left
    assert right[0] > 180 and right[1] < 40 and right[2] < 40, right


def test_caption_and_credit_are_kept_trimmed_and_the_upload_is_recorded(store, session, editor):
    media = store(picture_bytes("PNG", (400, 200)), caption="  東昌湖畔  ", credit=" □本報記者 某某 攝 ")
    assert (media.caption, media.credit) == ("東昌湖畔", "□本報記者 某某 攝")
    (row,) = session.scalars(select(ModerationAction)).all()
    assert (row.action, row.target_type, row.target_id, row.actor_id) == (
        "admin.media_uploaded",
        "media",
        media.id,
        editor.id,
    )
    assert json.loads(row.after)["kind"] == "image"


@pytest.mark.parametrize(
    ("make", "kind", "extension", "mime"),
    [
        (wav_bytes, MediaKind.AUDIO, "wav", "audio/wav"),
        (mp3_bytes, MediaKind.AUDIO, "mp3", "audio/mpeg"),
        (webm_bytes, MediaKind.VIDEO, "webm", "video/webm"),
    ],
    ids=["wav", "mp3", "webm"],
)
def test_audio_and_video_are_recognised_by_content_and_kept_as_sent(
    store, tmp_path, make, kind, extension, mime
):
    data = make()
    media = store(data)
    assert (media.kind, media.mime) == (kind, mime)
    assert media.path.endswith(f".{extension}")
    assert (tmp_path / media.path).read_bytes() == data
    assert media.size == len(data)


def truncated_jpeg() -> bytes:
    data = picture_bytes("JPEG", (800, 400))
    return data[: len(data) // 2]


def mislabelled_text() -> bytes:
    return "這不是圖片，只是改了副檔名的文字檔。\n".encode() * 20


def html_page() -> bytes:
    return b"<!doctype html><html><body><script>alert(1)</script></body></html>"


def gif() -> bytes:
    out = BytesIO()
    Image.new("RGB", (40, 40), "red").save(out, "GIF")
    return out.getvalue()


@pytest.mark.parametrize(
    "make",
    [mislabelled_text, html_page, truncated_jpeg, gif, lambda: b"\xff\xd8\xff\xe0" + b"\0" * 200],
    ids=["text", "html", "truncated-jpeg", "gif", "jpeg-magic-only"],
)
def test_what_is_not_a_picture_audio_or_video_is_refused_and_nothing_is_stored(
    store, session, tmp_path, make
):
    with pytest.raises(Rejected) as refused:
        store(make())
    assert (refused.value.field, refused.value.message, refused.value.status) == ("file", UNKNOWN, 422)
    assert stored_files(tmp_path) == []
    assert count(session, Media) == count(session, ModerationAction) == 0


def test_an_empty_upload_asks_for_a_file(store, tmp_path):
    with pytest.raises(Rejected) as refused:
        store(b"")
    assert refused.value.message == "請選擇要上傳的文件"
    assert stored_files(tmp_path) == []


def test_a_picture_over_forty_million_pixels_is_refused_before_decoding(store, session, tmp_path):
    with pytest.raises(Rejected) as refused:
        store(png_claiming(7000, 7000))
    assert refused.value.message == "圖片尺寸過大（超過4000萬像素）"
    assert stored_files(tmp_path) == []
    assert count(session, Media) == 0


def test_a_decompression_bomb_header_is_refused_as_too_large(store, session, tmp_path):
    # 20,000 × 20,000: past Pillow's own bomb limit, which raises in Image.open. The editor should
    # still hear that the picture is too large, not that the file is of an unknown type.
    with pytest.raises(Rejected) as refused:
        store(png_claiming(20_000, 20_000))
    assert stored_files(tmp_path) == []
    assert count(session, Media) == 0
    assert refused.value.message == "圖片尺寸過大（超過4000萬像素）"


def test_each_upload_gets_its_own_file_name(store, tmp_path):
    data = picture_bytes("PNG", (400, 200))
    first, second = store(data), store(data)
    assert first.path != second.path
    assert len(stored_files(tmp_path)) == 4


def test_the_widths_are_the_ones_the_pages_use():
    assert PICTURE_WIDTHS == (320, 640, 960, 1280)


# --- deleting ------------------------------------------------------------------------------------


def deletion_refused(session, editor, media: Media) -> str:
    before = count(session, ModerationAction)
    with pytest.raises(Rejected) as refusal:
        delete_media(session, media=media, actor=editor, now=utc_now())
    session.flush()
    assert refusal.value.field == "delete"
    assert session.get(Media, media.id) is not None
    assert count(session, ModerationAction) == before
    return refusal.value.message


def test_an_unused_picture_is_deleted_recorded_and_its_files_removed_after(store, session, editor, tmp_path):
    media = store(picture_bytes("PNG", (1400, 700)), caption="東昌湖畔")
    media_id, files = media.id, stored_files(tmp_path)
    assert len(files) == 4
    returned = delete_media(session, media=media, actor=editor, now=utc_now())
    session.flush()
    assert session.get(Media, media_id) is None
    assert sorted(tmp_path / p for p in returned) == files
    assert stored_files(tmp_path) == files  # nothing leaves the disk before the caller commits
    remove_files(tmp_path, returned)
    assert stored_files(tmp_path) == []
    row = session.scalars(
        select(ModerationAction).where(ModerationAction.action == "admin.media_deleted")
    ).one()
    assert (row.target_type, row.target_id, row.actor_id) == ("media", media_id, editor.id)
    assert json.loads(row.before)["caption"] == "東昌湖畔"


def test_a_picture_in_use_is_refused_naming_every_place(store, session, editor):
    media = store(picture_bytes("PNG", (1400, 700)))
    other = store(picture_bytes("PNG", (300, 200)))
    section = make_section(session)
    cover = make_article(session, section, title="封面文章", cover_id=media.id)
    gallery = make_article(session, section, title="圖集文章", kind=ArticleKind.GALLERY)
    gallery.set_gallery([other, media])
    body = make_article(
        session, section, title="正文文章", body_md=f"![湖](/media/{media.variant_path(640)})"
    )
    page = Page(slug="about", title="關於我們", body_md=f"[原圖](/media/{media.path})")
    page.body_html = markdown_to_html(page.body_md)
    session.add(page)
    session.flush()
    message = deletion_refused(session, editor, media)
    assert message == (
        f"媒體 #{media.id} 仍在使用，不能刪除：文章 #{cover.id}《封面文章》的封面；"
        f"文章 #{gallery.id}《圖集文章》的圖集；文章 #{body.id}《正文文章》的正文；"
        "頁面「關於我們」的內容。請先從這些地方移除。"
    )


def test_a_player_in_use_is_refused(store, session, editor):
    clip = store(webm_bytes())
    article = make_article(
        session, make_section(session), title="視頻新聞", kind=ArticleKind.VIDEO, player_id=clip.id
    )
    assert media_uses(session, clip) == [f"文章 #{article.id}《視頻新聞》的播放媒體"]
    assert "播放媒體" in deletion_refused(session, editor, clip)


def test_a_refusal_counts_the_places_beyond_the_first_five(store, session, editor):
    media = store(picture_bytes("PNG", (300, 200)))
    section = make_section(session)
    for n in range(7):
        make_article(session, section, title=f"第{n}篇", cover_id=media.id)
    message = deletion_refused(session, editor, media)
    assert message.count("的封面") == 5
    assert "等7處" in message


def test_a_body_naming_a_similar_file_does_not_hold_the_item(session, editor):
    media = Media(kind=MediaKind.IMAGE, path="uploads/2026/11/abc.jpg", mime="image/jpeg", variants="320")
    session.add(media)
    session.flush()
    make_article(session, make_section(session), body_md="![](/media/uploads/2026/11/abc1.jpg)")
    assert media_uses(session, media) == []
    assert files_of(media) == ["uploads/2026/11/abc.jpg", "uploads/2026/11/abc-320.jpg"]


def test_removing_files_stays_inside_the_media_folder(tmp_path):
    root, outside = tmp_path / "media", tmp_path / "keep.txt"
    root.mkdir()
    outside.write_text("x")
    remove_files(root, ["../keep.txt", "uploads/missing.jpg"])
    assert outside.exists()
