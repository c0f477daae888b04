"""Real, playable sandbox clips: ffmpeg's moving test pattern with the prompt written on it.

The caption is drawn with Pillow's built-in font into a transparent PNG and laid over the
video with ffmpeg's `overlay` filter, so no system font or fontconfig is needed (drawtext
would need both). Small frames, 12 fps and x264 `ultrafast` keep a 5 s clip well under a
second of work.
"""

from __future__ import annotations

import functools
import io
import subprocess
import tempfile
import textwrap
from pathlib import Path

import imageio_ffmpeg
from PIL import Image, ImageDraw, ImageFont

FPS = 12
TIMEOUT_SECONDS = 60
MAX_CAPTION_LINES = 4
# Frame sizes per ratio: small for speed, even numbers for yuv420p.
SIZES: dict[str, tuple[int, int]] = {
    "16:9": (320, 180),
    "9:16": (180, 320),
    "1:1": (240, 240),
    "4:3": (256, 192),
    "3:4": (192, 256),
    "21:9": (336, 144),
}


class ClipError(Exception):
    """ffmpeg failed or took too long."""


def frame_size(ratio: str | None) -> tuple[int, int]:
    """Width and height for a ratio; `adaptive` and unknown ratios get 16:9."""
    return SIZES.get(ratio or "", SIZES["16:9"])


def caption_png(prompt: str, size: tuple[int, int]) -> bytes:
    """A transparent PNG of `size` with the prompt wrapped on a dark band at the bottom."""
    width, height = size
    font_size = max(10, min(width, height) // 14)
    try:
        font: ImageFont.ImageFont | ImageFont.FreeTypeFont = ImageFont.load_default(size=font_size)
    except (AttributeError, ImportError, OSError):  # Pillow built without FreeType
        font = ImageFont.load_default()
    chars_per_line = max(8, int(width / (font_size * 0.55)))
    lines = textwrap.wrap(" ".join(prompt.split()), chars_per_line) or [""]
    if len(lines) > MAX_CAPTION_LINES:
        lines = lines[:MAX_CAPTION_LINES]
        lines[-1] = lines[-1][: chars_per_line - 1] + "…"
    text = "\n".join(lines)

    image = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = draw.multiline_textbbox((0, 0), text, font=font, spacing=2)
    pad = 4
    band_top = max(0, height - (bottom - top) - 2 * pad)
    draw.rectangle((0, band_top, width, height), fill=(0, 0, 0, 150))
    draw.multiline_text((pad - left, band_top + pad - top), text, font=font, spacing=2,
                        fill=(255, 255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def make_clip(*, prompt: str, ratio: str | None, seconds: int, audio: bool) -> bytes:
    """The bytes of an H.264 MP4 (faststart) lasting `seconds`, with a sine-tone AAC track
    when `audio`. Raises ClipError if ffmpeg fails or runs past TIMEOUT_SECONDS. With
    SANDBOX_CLIP_CACHE on (benchmarks), one clip per shape is rendered and reused, captioned
    "Studio sandbox", so the fake upstream's CPU does not drown what is measured."""
    from django.conf import settings

    if settings.SANDBOX_CLIP_CACHE:
        return _cached_clip(ratio, seconds, audio)
    return _render_clip(prompt, ratio, seconds, audio)


@functools.lru_cache(maxsize=64)
def _cached_clip(ratio: str | None, seconds: int, audio: bool) -> bytes:
    return _render_clip("Studio sandbox", ratio, seconds, audio)


def _render_clip(prompt: str, ratio: str | None, seconds: int, audio: bool) -> bytes:
    width, height = frame_size(ratio)
    with tempfile.TemporaryDirectory(prefix="sandbox-clip-") as tmp:
        caption = Path(tmp) / "caption.png"
        caption.write_bytes(caption_png(prompt, (width, height)))
        output = Path(tmp) / "clip.mp4"
        command = [
            imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={FPS}:duration={seconds}",
            "-i", str(caption),
        ]
        if audio:
            command += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={seconds}"]
        command += ["-filter_complex", "[0:v][1:v]overlay=0:0[v]", "-map", "[v]"]
        if audio:
            command += ["-map", "2:a", "-c:a", "aac", "-b:a", "64k"]
        command += [
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-t", str(seconds), "-movflags", "+faststart", str(output),
        ]
        try:
            result = subprocess.run(command, capture_output=True, timeout=TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            raise ClipError(f"ffmpeg ran longer than {TIMEOUT_SECONDS} s") from None
        if result.returncode != 0 or not output.exists():
            tail = result.stderr.decode(errors="replace").strip()[-500:]
            raise ClipError(f"ffmpeg exited with {result.returncode}: {tail}")
        return output.read_bytes()
