"""What the sandbox accepts: submit bodies (contract §3, §4, §13 item 1) and uploads (§7).

The shape of a submit body is checked here, strictly, so a client that drifts from the
contract fails in tests; the model's own limits come from `catalogue.validate_request`,
the same rules the form applies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import IO, Any

from PIL import Image

from studio.catalogue import ModelSpec, get_spec, resolution_for, validate_request

TOP_LEVEL_KEYS = ("model", "prompt", "seconds", "metadata")
METADATA_KEYS = ("ratio", "resolution", "generate_audio", "callback_url", "content")
ROLES = {
    "image_url": ("reference_image", "first_frame", "last_frame"),
    "video_url": ("reference_video",),
    "audio_url": ("reference_audio",),
}
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
_SECONDS = re.compile(r"[0-9]+")


class Invalid(Exception):
    """A request the sandbox refuses; `status` is the HTTP code to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Submission:
    """A well-formed submit body, with the catalogue spec of its (known) model."""

    spec: ModelSpec
    prompt: str
    seconds: int
    ratio: str
    resolution: str
    audio: bool  # whether the clip gets a soundtrack
    callback_url: str


def parse_submission(body: Any) -> Submission:
    """Check a decoded JSON body. Raises Invalid: 400 for a malformed body or one the model
    cannot do, 404 for an unknown model."""
    if not isinstance(body, dict):
        raise Invalid("The request body must be a JSON object.")
    if "callback_url" in body:
        raise Invalid("callback_url must be inside metadata")
    _no_unknown_keys(body, TOP_LEVEL_KEYS, "field")
    model, prompt, seconds = body.get("model"), body.get("prompt"), body.get("seconds")
    if not isinstance(model, str) or not model:
        raise Invalid("model is required and must be a string.")
    if not isinstance(prompt, str):
        raise Invalid("prompt is required and must be a string.")
    if seconds is not None and not (isinstance(seconds, str) and _SECONDS.fullmatch(seconds)):
        raise Invalid('seconds must be a string holding a whole number, such as "5".')
    metadata = body.get("metadata", {})
    if not isinstance(metadata, dict):
        raise Invalid("metadata must be an object.")
    _no_unknown_keys(metadata, METADATA_KEYS, "metadata key")
    for key in ("ratio", "resolution", "callback_url"):
        if key in metadata and not isinstance(metadata[key], str):
            raise Invalid(f"metadata.{key} must be a string.")
    if "generate_audio" in metadata and not isinstance(metadata["generate_audio"], bool):
        raise Invalid("metadata.generate_audio must be true or false.")
    callback_url = metadata.get("callback_url", "")
    if callback_url and not callback_url.startswith(("http://", "https://")):
        raise Invalid("metadata.callback_url must be an http(s) URL.")
    roles = _content_roles(metadata.get("content", []))

    spec = get_spec(model)
    if not spec.known:
        raise Invalid(f"model not found: {model}", status=404)
    errors = validate_request(
        spec,
        prompt=prompt,
        seconds=seconds,
        ratio=metadata.get("ratio"),
        resolution=metadata.get("resolution"),
        generate_audio=metadata.get("generate_audio"),
        images=roles.count("reference_image"),
        videos=roles.count("reference_video"),
        audio=roles.count("reference_audio"),
        first_frame="first_frame" in roles,
        last_frame="last_frame" in roles,
    )
    if errors:
        raise Invalid(" ".join(errors.values()))
    return Submission(
        spec=spec,
        prompt=prompt,
        seconds=int(seconds) if seconds else spec.default_seconds,
        ratio=metadata.get("ratio") or "16:9",
        resolution=resolution_for(spec, metadata.get("resolution")),
        audio=bool(metadata.get("generate_audio")) or spec.audio == "always",
        callback_url=callback_url,
    )


def _no_unknown_keys(obj: dict[str, Any], allowed: tuple[str, ...], noun: str) -> None:
    unknown = sorted(set(obj) - set(allowed))
    if unknown:
        raise Invalid(f"Unknown {noun}(s): {', '.join(unknown)}. Allowed: {', '.join(allowed)}.")


def _content_roles(content: Any) -> list[str]:
    """The role of each `metadata.content[]` entry, after checking every entry's shape."""
    if not isinstance(content, list):
        raise Invalid("metadata.content must be an array.")
    roles: list[str] = []
    for number, entry in enumerate(content):
        where = f"metadata.content[{number}]"
        kind = entry.get("type") if isinstance(entry, dict) else None
        if kind not in ROLES:
            raise Invalid(f"{where}.type must be one of {', '.join(ROLES)}.")
        _no_unknown_keys(entry, ("type", kind, "role"), f"key in {where}")
        payload = entry.get(kind)
        url = payload.get("url") if isinstance(payload, dict) else None
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise Invalid(f'{where} needs "{kind}": {{"url": "https://…"}}.')
        if entry.get("role") not in ROLES[kind]:
            raise Invalid(f"{where}.role must be one of {', '.join(ROLES[kind])} for {kind}.")
        roles.append(entry["role"])
    for role in ("first_frame", "last_frame"):
        if roles.count(role) > 1:
            raise Invalid(f"metadata.content may hold only one {role}.")
    return roles


def sniff_media(fileobj: IO[bytes]) -> str:
    """The MIME type of an uploaded image, video or audio file, judged by its content.
    Raises Invalid for anything else."""
    fileobj.seek(0)
    head = fileobj.read(16)
    fileobj.seek(0)
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand.startswith(b"M4A"):
            return "audio/mp4"
        return "video/quicktime" if brand == b"qt  " else "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    try:
        with Image.open(fileobj) as image:
            kind = image.format
            image.verify()
    except Exception:  # Pillow raises many types for non-images, incl. decompression bombs
        kind = None
    finally:
        fileobj.seek(0)
    if kind in IMAGE_FORMATS:
        return IMAGE_FORMATS[kind]
    raise Invalid("Unsupported file: upload a JPEG, PNG or WebP image, an MP4, MOV or WebM "
                  "video, or MP3, WAV or M4A audio.")
