"""Checking uploaded media by content, and reading/making video files with ffmpeg."""

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

MB = 1024 * 1024
LIMITS = {"image": 10 * MB, "video": 50 * MB, "audio": 15 * MB}
IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


@dataclass(frozen=True)
class CheckedFile:
    content_type: str
    extension: str


def _head(upload, size: int = 64) -> bytes:
    upload.seek(0)
    head = upload.read(size)
    upload.seek(0)
    return head


def _sniff_video(head: bytes) -> CheckedFile | None:
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return CheckedFile("video/quicktime", "mov")
        if not brand.startswith(b"M4A"):
            return CheckedFile("video/mp4", "mp4")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return CheckedFile("video/webm", "webm")
    return None


def _sniff_audio(head: bytes) -> CheckedFile | None:
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return CheckedFile("audio/mpeg", "mp3")
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return CheckedFile("audio/wav", "wav")
    if head[4:8] == b"ftyp" and head[8:11] == b"M4A":
        return CheckedFile("audio/mp4", "m4a")
    return None


def check_upload(upload, kind: str) -> CheckedFile:
    """What the file really is, judged by its bytes, or ValidationError for the form."""
    limit = LIMITS[kind]
    if upload.size > limit:
        too_large = {
            "image": _("“%(name)s” is %(size).1f MB; the limit for images is %(limit)d MB."),
            "video": _("“%(name)s” is %(size).1f MB; the limit for videos is %(limit)d MB."),
            "audio": _("“%(name)s” is %(size).1f MB; the limit for audio files is %(limit)d MB."),
        }[kind]
        raise ValidationError(too_large % {"name": upload.name, "size": upload.size / MB, "limit": limit // MB})
    if kind == "image":
        try:
            upload.seek(0)
            with Image.open(upload) as image:
                fmt = image.format
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            fmt = None
        finally:
            upload.seek(0)
        if fmt not in IMAGE_FORMATS:
            raise ValidationError(_("“%(name)s” is not a JPEG, PNG or WebP image.") % {"name": upload.name})
        return CheckedFile(IMAGE_FORMATS[fmt], "jpg" if fmt == "JPEG" else fmt.lower())
    sniff = _sniff_video if kind == "video" else _sniff_audio
    checked = sniff(_head(upload))
    if checked is None:
        message = (
            _("“%(name)s” is not an MP4, MOV or WebM video.")
            if kind == "video"
            else _("“%(name)s” is not an MP3, WAV or M4A audio file.")
        )
        raise ValidationError(message % {"name": upload.name})
    return checked


def looks_like_mp4(path: Path) -> bool:
    with open(path, "rb") as fh:
        return _sniff_video(fh.read(16)) is not None


_DURATION = re.compile(rb"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")


def probe_duration(path: Path) -> float | None:
    """The container's duration in seconds, read from ffmpeg's banner (no ffprobe shipped)."""
    result = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
        capture_output=True,
        timeout=30,
    )
    match = _DURATION.search(result.stderr)
    if not match:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def make_poster(video: Path, duration: float | None) -> bytes | None:
    """A JPEG frame ~10% into the clip (frame 0 for very short ones), or None if ffmpeg fails."""
    at = max(0.0, min((duration or 0) * 0.1, 3.0)) if duration and duration > 1 else 0.0
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "poster.jpg"
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-ss", f"{at:.2f}",
               "-i", str(video), "-frames:v", "1", "-vf", "scale='min(640,iw)':-2", "-q:v", "4", "-y", str(out)]
        try:
            subprocess.run(cmd, capture_output=True, timeout=60, check=True)
        except (subprocess.SubprocessError, OSError):
            return None
        return out.read_bytes() if out.exists() and out.stat().st_size else None
