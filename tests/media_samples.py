"""Real media files made on the spot for upload tests: pictures with Pillow, WAV with `wave`, WebM and
MP3 with PyAV (as portal/demo/media.py makes the demo's). Each is small: a few KiB to a few tens."""

from __future__ import annotations

import math
import struct
import wave
import zlib
from fractions import Fraction
from io import BytesIO

import av
from PIL import Image, ImageDraw

EXIF_MAKE, EXIF_ORIENTATION, EXIF_GPS = 0x010F, 0x0112, 0x8825


def scene(size: tuple[int, int] = (1400, 700), mode: str = "RGB") -> Image.Image:
    """A gradient with a few shapes: compresses well, and its corners have known colours."""
    width, height = size
    column = Image.linear_gradient("L").resize((1, height))
    picture = Image.merge(
        "RGB", (column.resize(size), Image.new("L", size, 120), column.resize(size).transpose(1))
    )
    draw = ImageDraw.Draw(picture)
    draw.ellipse(
        [width // 3, height // 4, width // 3 + height // 3, height // 4 + height // 3], fill="orange"
    )
    draw.rectangle([width // 2, height // 2, width // 2 + width // 6, height * 9 // 10], fill="navy")
    return picture.convert(mode) if mode != "RGB" else picture


def picture_bytes(
    fmt: str = "PNG", size: tuple[int, int] = (1400, 700), *, exif: bool = False, orientation: int = 1
) -> bytes:
    picture = scene(size)
    out = BytesIO()
    options: dict = {"quality": 70} if fmt in ("JPEG", "WEBP") else {}
    if exif:
        tags = Image.Exif()
        tags[EXIF_MAKE] = "TestCam"
        tags[EXIF_ORIENTATION] = orientation
        options["exif"] = tags.tobytes()
    picture.save(out, fmt, **options)
    return out.getvalue()


def transparent_png(size: tuple[int, int] = (400, 200)) -> bytes:
    """Left half fully transparent (black underneath), right half opaque red."""
    picture = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(picture).rectangle([size[0] // 2, 0, size[0], size[1]], fill=(200, 0, 0, 255))
    out = BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares another size: a decompression bomb's calling card."""
    data = bytearray(picture_bytes("PNG", (8, 8)))
    # IHDR is the first chunk: 8 signature bytes, 4 length, 4 type, then width and height.
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def wav_bytes(seconds: float = 0.5, rate: int = 8000) -> bytes:
    out = BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(rate)
        sound.writeframes(
            b"".join(
                struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / rate)))
                for n in range(int(seconds * rate))
            )
        )
    return out.getvalue()


def webm_bytes(frames: int = 6, size: tuple[int, int] = (64, 48)) -> bytes:
    out = BytesIO()
    with av.open(out, mode="w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=12)
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 12)
        stream.options = {"deadline": "realtime", "cpu-used": "8"}
        for index in range(frames):
            frame = av.VideoFrame.from_image(scene(size).rotate(index * 10))
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def mp3_bytes(seconds: float = 0.5, rate: int = 44100) -> bytes:
    out = BytesIO()
    with av.open(out, mode="w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=rate)
        stream.layout = "mono"
        samples = int(seconds * rate)
        pcm = struct.pack(
            f"<{samples}h", *(int(6000 * math.sin(2 * math.pi * 330 * n / rate)) for n in range(samples))
        )
        frame = av.AudioFrame(format="s16", layout="mono", samples=samples)
        frame.planes[0].update(pcm)
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()
