"""Pictures, video and audio made on the spot for the demo (no download is possible or needed).

Each file is a real one a browser shows or plays: JPEG pictures in the widths the pages use,
WebM (VP8) video and WAV audio. The same key always gives the same file.
"""

from __future__ import annotations

import hashlib
import math
import random
import struct
import wave
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageDraw, ImageFilter

PICTURE_WIDTHS = (320, 640, 960)
PICTURE_SIZE = (960, 540)


def _rng(key: str) -> random.Random:
    return random.Random(int(hashlib.sha256(key.encode()).hexdigest()[:16], 16))


def _scene(key: str, size: tuple[int, int]) -> Image.Image:
    """A calm landscape: a sky gradient, a sun, hills and a row of buildings."""
    rng = _rng(key)
    width, height = size
    top = (rng.randint(40, 120), rng.randint(90, 170), rng.randint(170, 235))
    bottom = (rng.randint(200, 250), rng.randint(170, 230), rng.randint(120, 200))
    picture = Image.new("RGB", size)
    draw = ImageDraw.Draw(picture)
    for y in range(height):
        t = y / height
        draw.line(
            [(0, y), (width, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        )
    sun_x, sun_y, radius = rng.randint(80, width - 80), rng.randint(40, height // 3), rng.randint(25, 55)
    draw.ellipse([sun_x - radius, sun_y - radius, sun_x + radius, sun_y + radius], fill=(255, 236, 179))
    for layer in range(3):
        base = int(height * (0.55 + 0.12 * layer))
        shade = 60 + 40 * layer
        colour = (shade // 2, shade + rng.randint(0, 40), shade // 2 + rng.randint(0, 30))
        points = [(0, height)]
        for x in range(0, width + 40, 40):
            points.append((x, base + int(25 * math.sin(x / (90 + 30 * layer) + rng.random() * 6))))
        points.append((width, height))
        draw.polygon(points, fill=colour)
    x = rng.randint(0, 60)
    while x < width:
        building_w, building_h = rng.randint(30, 70), rng.randint(40, 160)
        grey = rng.randint(70, 140)
        draw.rectangle([x, height - building_h, x + building_w, height], fill=(grey, grey, grey + 10))
        for wy in range(height - building_h + 8, height - 8, 14):
            for wx in range(x + 6, x + building_w - 6, 12):
                if rng.random() < 0.5:
                    draw.rectangle([wx, wy, wx + 5, wy + 7], fill=(250, 230, 150))
        x += building_w + rng.randint(10, 60)
    return picture.filter(ImageFilter.SMOOTH)


def make_picture(media_root: Path, relative: str, key: str) -> tuple[int, int, int]:
    """Write the picture and its narrower copies; returns (width, height, bytes of the largest)."""
    target = media_root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    picture = _scene(key, PICTURE_SIZE)
    stem, _, ext = str(target).rpartition(".")
    for width in PICTURE_WIDTHS:
        copy = picture.resize((width, round(width * PICTURE_SIZE[1] / PICTURE_SIZE[0])), Image.LANCZOS)
        copy.save(f"{stem}-{width}.{ext}", "JPEG", quality=82, optimize=True, progressive=True)
    picture.save(target, "JPEG", quality=82, optimize=True, progressive=True)
    return *PICTURE_SIZE, target.stat().st_size


def make_video(media_root: Path, relative: str, key: str, caption: str, seconds: int = 3) -> int:
    """A short WebM (VP8) clip, the scene with the sun moving across it, and its captions (WebVTT)."""
    target = media_root / relative
    target.with_suffix(".vtt").parent.mkdir(parents=True, exist_ok=True)
    target.with_suffix(".vtt").write_text(
        f"WEBVTT\n\n00:00:00.000 --> 00:00:{seconds:02d}.000\n{caption or '（無對白）'}\n", encoding="utf-8"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    frames, fps, size = seconds * 12, 12, (320, 180)
    background = _scene(key, size)
    with av.open(str(target), mode="w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=fps)
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        stream.codec_context.time_base = Fraction(1, fps)
        stream.options = {"deadline": "realtime", "cpu-used": "8"}
        for index in range(frames):
            frame_picture = background.copy()
            draw = ImageDraw.Draw(frame_picture)
            x = int(size[0] * index / frames)
            draw.ellipse([x - 12, 20, x + 12, 44], fill=(255, 200, 80))
            frame = av.VideoFrame.from_image(frame_picture)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return target.stat().st_size


def make_audio(media_root: Path, relative: str, key: str, caption: str = "", seconds: int = 4) -> int:
    """A WAV jingle: a few soft notes of the pentatonic scale."""
    target = media_root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    rng, rate = _rng(key), 16_000
    scale = [261.63, 293.66, 329.63, 392.0, 440.0, 523.25]
    notes = [rng.choice(scale) for _ in range(seconds * 2)]
    samples = bytearray()
    for note in notes:
        length = rate // 2
        for n in range(length):
            envelope = min(1.0, n / 400) * (1 - n / length)
            samples += struct.pack("<h", int(9000 * envelope * math.sin(2 * math.pi * note * n / rate)))
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(samples))
    return target.stat().st_size
