"""What each RelayDance video model accepts, and the request rules built on it.

`GET /v1/models` only says which ids a key may use; it carries no capabilities
(contract §8), so Studio keeps its own table here. Values follow contract §8 and
§13 items 2-5. The Django form and the sandbox both call `validate_request`, so
the rules live in one place. Only Django's translation functions are used: labels are
marked for makemessages and messages come back in the active language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_noop

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
    label: str  # English, marked for translation: show it with `display_label`
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

    @property
    def display_label(self) -> str:
        return gettext(self.label)


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
        _seedance_2("doubao-seedance-2-0-fast-260128", gettext_noop("Seedance 2.0 Fast"), ("480p", "720p")),
        _seedance_15("seedance-1-5-pro-with-audio", gettext_noop("Seedance 1.5 Pro (with audio)"), "always"),
        _seedance_15("seedance-1-5-pro-no-audio", gettext_noop("Seedance 1.5 Pro (silent)"), "never"),
        ModelSpec(
            id="happyhorse-1.0-i2v", label=gettext_noop("HappyHorse 1.0 image-to-video"), family="happyhorse",
            min_seconds=4, max_seconds=10, default_seconds=5,
            resolutions=("720p", "1080p"), default_resolution="720p", ratios=BASIC_RATIOS,
            audio="never", modes=frozenset({"reference"}),
            max_images=1, max_videos=0, max_audio=0, min_images=1,
        ),
        _text_only("happyhorse-1.0-t2v", gettext_noop("HappyHorse 1.0 text-to-video"), "happyhorse"),
        _text_only("grok-imagine-video", "Grok Imagine Video", "grok"),
        _text_only("grok-imagine-video-1.5-preview", gettext_noop("Grok Imagine Video 1.5 (preview)"), "grok"),
    )
}


def ratio_label(ratio: str) -> str:
    """A ratio for people: "16:9" as it is, "adaptive" in the active language."""
    return gettext("adaptive") if ratio == "adaptive" else ratio


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


def _media_texts(field: str, n: int) -> tuple[str, str, str]:
    """Messages for too many `field` references: (for any model, the model takes none, the
    model takes at most `n`), the last two with a %(model)s placeholder."""
    if field == "images":
        return (
            ngettext("At most %(n)d reference image per request.", "At most %(n)d reference images per request.", n),
            gettext("%(model)s does not accept reference images."),
            ngettext("%(model)s accepts at most %(n)d reference image.", "%(model)s accepts at most %(n)d reference images.", n),
        )
    if field == "videos":
        return (
            ngettext("At most %(n)d reference video per request.", "At most %(n)d reference videos per request.", n),
            gettext("%(model)s does not accept reference videos."),
            ngettext("%(model)s accepts at most %(n)d reference video.", "%(model)s accepts at most %(n)d reference videos.", n),
        )
    return (
        ngettext("At most %(n)d reference audio clip per request.", "At most %(n)d reference audio clips per request.", n),
        gettext("%(model)s does not accept reference audio clips."),
        ngettext("%(model)s accepts at most %(n)d reference audio clip.", "%(model)s accepts at most %(n)d reference audio clips.", n),
    )


def _check_media(errors: dict[str, str], field: str, count: int, global_max: int, model_max: int, model: str) -> None:
    if count > global_max:
        errors[field] = _media_texts(field, global_max)[0] % {"n": global_max}
    elif count > model_max:
        none, at_most = _media_texts(field, model_max)[1:]
        errors[field] = (none if model_max == 0 else at_most) % {"model": model, "n": model_max}


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
    model = spec.display_label

    if not text:
        errors["prompt"] = gettext("Write a prompt.")
    elif len(text) > MAX_PROMPT_CHARS:
        errors["prompt"] = gettext("Keep the prompt under %(n)d characters.") % {"n": MAX_PROMPT_CHARS}
    else:
        cited = [int(n) for n in _IMAGE_TAG.findall(text)]
        bad = [n for n in cited if n < 1 or n > n_images]
        if bad:
            errors["prompt"] = ngettext(
                "The prompt cites @image%(tag)d but only %(n)d image is attached.",
                "The prompt cites @image%(tag)d but only %(n)d images are attached.",
                n_images,
            ) % {"tag": bad[0], "n": n_images}

    if seconds not in (None, ""):
        try:
            value = int(seconds)
        except (TypeError, ValueError):
            errors["seconds"] = gettext("Length must be a whole number of seconds.")
        else:
            high = min(spec.max_seconds, HARD_MAX_SECONDS)
            if not spec.min_seconds <= value <= high:
                errors["seconds"] = gettext("%(model)s makes clips of %(min)d-%(max)d seconds.") % {
                    "model": model, "min": spec.min_seconds, "max": high}

    if ratio and ratio not in spec.ratios:
        errors["ratio"] = gettext("%(model)s supports the ratios %(ratios)s.") % {
            "model": model, "ratios": ", ".join(map(ratio_label, spec.ratios))}
    if resolution and resolution not in spec.resolutions:
        errors["resolution"] = gettext("%(model)s supports %(resolutions)s.") % {
            "model": model, "resolutions": ", ".join(spec.resolutions)}
    if generate_audio and spec.audio == "never":
        errors["generate_audio"] = gettext("%(model)s cannot generate audio.") % {"model": model}

    _check_media(errors, "images", n_images, MAX_IMAGES, spec.max_images, model)
    _check_media(errors, "videos", n_videos, MAX_VIDEOS, spec.max_videos, model)
    _check_media(errors, "audio", n_audio, MAX_AUDIO, spec.max_audio, model)
    if n_images < spec.min_images and "images" not in errors:
        errors["images"] = ngettext(
            "%(model)s needs exactly %(n)d reference image.", "%(model)s needs exactly %(n)d reference images.",
            spec.min_images,
        ) % {"model": model, "n": spec.min_images}

    has_refs = bool(n_images or n_videos or n_audio)
    if last_frame and not first_frame:
        errors["last_frame"] = gettext("A last frame needs a first frame.")
    if (first_frame or last_frame) and has_refs:
        errors["first_frame"] = gettext("Use either reference media or first/last frames, not both.")
    elif (first_frame or last_frame) and "frames" not in spec.modes:
        errors.setdefault("first_frame", gettext("%(model)s does not support first/last frames.") % {"model": model})
    elif has_refs and "reference" not in spec.modes:
        field = "images" if n_images else "videos" if n_videos else "audio"
        errors.setdefault(field, gettext("%(model)s does not accept reference media.") % {"model": model})
    elif not has_refs and not (first_frame or last_frame) and "text" not in spec.modes:
        errors.setdefault("images", gettext("%(model)s needs a reference image.") % {"model": model})
    return errors
