"""What each RelayDance video model accepts, and the request rules built on it.

`GET /v1/models` only says which ids a key may use; it carries no capabilities
(contract §8), so Studio keeps its own table here. Values follow contract §8 and
§13 items 2-5. The Django form and the sandbox both call `validate_request`, so
the rules live in one place. Pure Python: no Django imports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

HARD_MAX_SECONDS = 15
MAX_PROMPT_CHARS = 2000
MAX_IMAGES = 9
MAX_VIDEOS = 3
MAX_AUDIO = 3

AudioSupport = Literal["toggle", "always", "never"]
Mode = Literal["text", "reference", "frames"]

BASIC_RATIOS = ("16:9", "9:16", "1:1")
SEEDANCE_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "adaptive")
ALL_MODES: frozenset[Mode] = frozenset({"text", "reference", "frames"})
TEXT_ONLY: frozenset[Mode] = frozenset({"text"})

_IMAGE_TAG = re.compile(r"@image(\d+)")
_RESOLUTION_SUFFIX = re.compile(r"-(480p|720p|1080p)$")
_VIDEO_HINTS = ("video", "seedance", "t2v", "i2v", "happyhorse")


@dataclass(frozen=True)
class ModelSpec:
    """Capabilities of one video model id."""

    id: str
    label: str
    family: str  # "seedance-2" | "seedance-1.5" | "happyhorse" | "grok" | "other"
    min_seconds: int
    max_seconds: int
    default_seconds: int
    resolutions: tuple[str, ...]
    default_resolution: str
    ratios: tuple[str, ...]
    audio: AudioSupport  # "toggle" = send metadata.generate_audio; else fixed by the id
    modes: frozenset[Mode]
    max_images: int
    max_videos: int
    max_audio: int
    min_images: int = 0
    known: bool = True


def _seedance_2(model_id: str, label: str, resolutions: tuple[str, ...]) -> ModelSpec:
    return ModelSpec(
        id=model_id, label=label, family="seedance-2",
        min_seconds=4, max_seconds=15, default_seconds=5,
        resolutions=resolutions, default_resolution=resolutions[-1], ratios=SEEDANCE_RATIOS,
        audio="toggle", modes=ALL_MODES, max_images=9, max_videos=3, max_audio=3,
    )


def _seedance_15(model_id: str, label: str, audio: AudioSupport) -> ModelSpec:
    return ModelSpec(
        id=model_id, label=label, family="seedance-1.5",
        min_seconds=4, max_seconds=12, default_seconds=5,
        resolutions=("480p", "720p", "1080p"), default_resolution="720p", ratios=SEEDANCE_RATIOS,
        audio=audio, modes=ALL_MODES, max_images=9, max_videos=0, max_audio=0,
    )


def _text_only(model_id: str, label: str, family: str, *, known: bool = True) -> ModelSpec:
    # Contract §13 items 2-4: text only, 4-10 s, basic ratios until verified.
    encoded = _RESOLUTION_SUFFIX.search(model_id)
    resolution = encoded.group(1) if encoded else "720p"
    return ModelSpec(
        id=model_id, label=label, family=family,
        min_seconds=4, max_seconds=10, default_seconds=5,
        resolutions=(resolution,), default_resolution=resolution, ratios=BASIC_RATIOS,
        audio="never", modes=TEXT_ONLY, max_images=0, max_videos=0, max_audio=0, known=known,
    )


CATALOGUE: dict[str, ModelSpec] = {
    spec.id: spec
    for spec in (
        _seedance_2("doubao-seedance-2-0-1080p", "Seedance 2.0 (1080p)", ("1080p",)),
        _seedance_2("doubao-seedance-2-0-720p", "Seedance 2.0 (720p)", ("720p",)),
        _seedance_2("doubao-seedance-2-0-fast-260128", "Seedance 2.0 Fast", ("480p", "720p")),
        _seedance_15("seedance-1-5-pro-with-audio", "Seedance 1.5 Pro (with audio)", "always"),
        _seedance_15("seedance-1-5-pro-no-audio", "Seedance 1.5 Pro (silent)", "never"),
        ModelSpec(
            id="happyhorse-1.0-i2v", label="HappyHorse 1.0 image-to-video", family="happyhorse",
            min_seconds=4, max_seconds=10, default_seconds=5,
            resolutions=("720p", "1080p"), default_resolution="720p", ratios=BASIC_RATIOS,
            audio="never", modes=frozenset({"reference"}),
            max_images=1, max_videos=0, max_audio=0, min_images=1,
        ),
        _text_only("happyhorse-1.0-t2v", "HappyHorse 1.0 text-to-video", "happyhorse"),
        _text_only("grok-imagine-video", "Grok Imagine Video", "grok"),
        _text_only("grok-imagine-video-1.5-preview", "Grok Imagine Video 1.5 (preview)", "grok"),
    )
}


def get_spec(model_id: str) -> ModelSpec:
    """The spec for `model_id`; unknown ids get a safe text-only fallback (`known=False`)."""
    spec = CATALOGUE.get(model_id)
    if spec is not None:
        return spec
    return _text_only(model_id, model_id, "other", known=False)


def looks_like_video_model(model_id: str) -> bool:
    """Whether an id from `GET /v1/models` is a video model (ours, or by its name)."""
    if model_id in CATALOGUE:
        return True
    name = model_id.lower()
    if "image" in name and "video" not in name:  # e.g. grok-imagine-image
        return False
    return any(hint in name for hint in _VIDEO_HINTS)


def video_models(ids: Iterable[str]) -> list[ModelSpec]:
    """The video models among a key's ids: known ones in catalogue order, then unknown ones."""
    offered = list(dict.fromkeys(ids))
    known = [spec for model_id, spec in CATALOGUE.items() if model_id in offered]
    unknown = [get_spec(i) for i in offered if i not in CATALOGUE and looks_like_video_model(i)]
    return known + unknown


def resolution_for(spec: ModelSpec, requested: str | None) -> str:
    """The resolution to send: the one an id encodes (`…-1080p`), else `requested` if the
    model supports it, else the model's default. Never raises; `validate_request` reports
    unsupported values."""
    encoded = _RESOLUTION_SUFFIX.search(spec.id)
    if encoded:
        return encoded.group(1)
    if requested is not None and requested in spec.resolutions:
        return requested
    return spec.default_resolution


def _count(value: int | Sequence[object] | None) -> int:
    if value is None:
        return 0
    return value if isinstance(value, int) else len(value)


def _check_media(
    errors: dict[str, str], field: str, noun: str, count: int, global_max: int, model_max: int,
    label: str,
) -> None:
    if count > global_max:
        errors[field] = f"At most {global_max} reference {noun} per request."
    elif count > model_max:
        if model_max == 0:
            errors[field] = f"{label} does not accept reference {noun}."
        else:
            errors[field] = f"{label} accepts at most {model_max} reference {noun}."


def validate_request(
    spec: ModelSpec,
    *,
    prompt: str | None,
    seconds: int | str | None,
    ratio: str | None,
    resolution: str | None,
    generate_audio: bool | None,
    images: int | Sequence[object] | None,
    videos: int | Sequence[object] | None,
    audio: int | Sequence[object] | None,
    first_frame: object,
    last_frame: object,
) -> dict[str, str]:
    """Check one generation request against `spec` and the global limits.

    Returns {field name: message}; empty means valid. Empty `seconds`, `ratio` and
    `resolution` mean "use the default". `images`/`videos`/`audio` are counts or sequences.
    Field names match the form's: prompt, seconds, ratio, resolution, generate_audio,
    images, videos, audio, first_frame, last_frame.
    """
    errors: dict[str, str] = {}
    n_images, n_videos, n_audio = _count(images), _count(videos), _count(audio)
    text = (prompt or "").strip()

    if not text:
        errors["prompt"] = "Write a prompt."
    elif len(text) > MAX_PROMPT_CHARS:
        errors["prompt"] = f"Keep the prompt under {MAX_PROMPT_CHARS} characters."
    else:
        cited = [int(n) for n in _IMAGE_TAG.findall(text)]
        bad = [n for n in cited if n < 1 or n > n_images]
        if bad:
            errors["prompt"] = (
                f"The prompt cites @image{bad[0]} but only {n_images} image(s) are attached."
            )

    if seconds not in (None, ""):
        try:
            value = int(seconds)
        except (TypeError, ValueError):
            errors["seconds"] = "Length must be a whole number of seconds."
        else:
            high = min(spec.max_seconds, HARD_MAX_SECONDS)
            if not spec.min_seconds <= value <= high:
                errors["seconds"] = (
                    f"{spec.label} makes clips of {spec.min_seconds}-{high} seconds."
                )

    if ratio and ratio not in spec.ratios:
        errors["ratio"] = f"{spec.label} supports the ratios {', '.join(spec.ratios)}."
    if resolution and resolution not in spec.resolutions:
        errors["resolution"] = f"{spec.label} supports {', '.join(spec.resolutions)}."
    if generate_audio and spec.audio == "never":
        errors["generate_audio"] = f"{spec.label} cannot generate audio."

    _check_media(errors, "images", "images", n_images, MAX_IMAGES, spec.max_images, spec.label)
    _check_media(errors, "videos", "videos", n_videos, MAX_VIDEOS, spec.max_videos, spec.label)
    _check_media(errors, "audio", "audio clips", n_audio, MAX_AUDIO, spec.max_audio, spec.label)
    if n_images < spec.min_images and "images" not in errors:
        errors["images"] = f"{spec.label} needs exactly {spec.min_images} reference image."

    has_refs = bool(n_images or n_videos or n_audio)
    if last_frame and not first_frame:
        errors["last_frame"] = "A last frame needs a first frame."
    if (first_frame or last_frame) and has_refs:
        errors["first_frame"] = "Use either reference media or first/last frames, not both."
    elif (first_frame or last_frame) and "frames" not in spec.modes:
        errors.setdefault("first_frame", f"{spec.label} does not support first/last frames.")
    elif has_refs and "reference" not in spec.modes:
        field = "images" if n_images else "videos" if n_videos else "audio"
        errors.setdefault(field, f"{spec.label} does not accept reference media.")
    elif not has_refs and not (first_frame or last_frame) and "text" not in spec.modes:
        errors.setdefault("images", f"{spec.label} needs a reference image.")
    return errors
