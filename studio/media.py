"""Checking uploaded media by content, and reading the videos Studio stores."""

import io
from dataclasses import dataclass
from pathlib import Path

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


POSTER_MAX_WIDTH = 640


def probe_and_poster(video: Path) -> tuple[float | None, bytes | None]:
    """The clip's duration and a JPEG poster ~10 % into it (at most 3 s; the first frame of
    clips of a second or less), decoded in this process with PyAV (FFmpeg's libraries): a
    few milliseconds, where an ffmpeg process per video cost ~20 ms and ~35 MB while it ran.
    (None, None) for a file FFmpeg cannot read as a video."""
    import av  # here, not at the top: only the processes that fetch videos load FFmpeg

    try:
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            stream.codec_context.thread_count = 1  # one small frame: threads only cost memory
            duration = container.duration / av.time_base if container.duration else None
            at = min(duration * 0.1, 3.0) if duration and duration > 1 else 0.0
            if at:
                container.seek(int(at / stream.time_base), stream=stream)  # the keyframe before `at`
            frame = None
            for frame in container.decode(stream):
                if frame.time is None or frame.time >= at - 0.001:
                    break
            if frame is None:
                return duration, None
            image = frame.to_image()
    except (av.FFmpegError, IndexError, OSError, ValueError):
        return None, None
    image.thumbnail((POSTER_MAX_WIDTH, POSTER_MAX_WIDTH * 4))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return duration, out.getvalue()
