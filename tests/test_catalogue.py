"""Model capabilities and the shared request rules (contract §8, §13 items 2-7)."""

import pytest

from studio.catalogue import (
    HARD_MAX_SECONDS,
    MAX_PROMPT_CHARS,
    get_spec,
    resolution_for,
    validate_request,
    video_models,
)

FAST = "doubao-seedance-2-0-fast-260128"
S2_1080 = "doubao-seedance-2-0-1080p"
S15 = "seedance-1-5-pro-with-audio"
S15_SILENT = "seedance-1-5-pro-no-audio"
HH_I2V = "happyhorse-1.0-i2v"
GROK = "grok-imagine-video"


def check(model: str, **overrides: object) -> dict[str, str]:
    request: dict[str, object] = {
        "prompt": "A storm rolls over the hills",
        "seconds": 5,
        "ratio": "16:9",
        "resolution": "720p",
        "generate_audio": None,
        "images": 0,
        "videos": 0,
        "audio": 0,
        "first_frame": None,
        "last_frame": None,
    }
    request.update(overrides)
    return validate_request(get_spec(model), **request)  # type: ignore[arg-type]


def test_ids_that_encode_a_resolution_force_it():
    assert resolution_for(get_spec(S2_1080), "720p") == "1080p"
    assert resolution_for(get_spec("doubao-seedance-2-0-720p"), None) == "720p"
    assert get_spec(S2_1080).resolutions == ("1080p",)


def test_resolution_for_keeps_a_supported_choice_else_uses_the_default():
    fast = get_spec(FAST)
    assert resolution_for(fast, "480p") == "480p"
    assert resolution_for(fast, "1080p") == "720p"
    assert resolution_for(get_spec(S15), None) == "720p"


def test_known_models_follow_the_contract_table():
    s2, s15, silent, i2v, grok = map(get_spec, (S2_1080, S15, S15_SILENT, HH_I2V, GROK))
    assert (s2.min_seconds, s2.max_seconds, s2.audio, s2.family) == (4, 15, "toggle", "seedance-2")
    assert (s2.max_images, s2.max_videos, s2.max_audio) == (9, 3, 3)
    assert "adaptive" in s2.ratios and "21:9" in s2.ratios
    assert (s15.max_seconds, s15.audio, silent.audio) == (12, "always", "never")
    assert (s15.max_images, s15.max_videos, s15.max_audio) == (9, 0, 0)
    assert s15.modes == {"text", "reference", "frames"}
    assert (i2v.modes, i2v.min_images, i2v.max_images) == ({"reference"}, 1, 1)
    assert (grok.modes, grok.ratios, grok.max_seconds) == ({"text"}, ("16:9", "9:16", "1:1"), 10)
    assert all(get_spec(m).known and get_spec(m).default_seconds == 5 for m in (FAST, HH_I2V))
    assert HARD_MAX_SECONDS == 15


def test_unknown_model_gets_a_safe_text_only_fallback():
    spec = get_spec("acme-video-9")
    assert not spec.known
    assert (spec.label, spec.family, spec.modes) == ("acme-video-9", "other", {"text"})
    assert (spec.min_seconds, spec.max_seconds, spec.resolutions) == (4, 10, ("720p",))
    assert spec.audio == "never" and spec.max_images == 0


def test_unknown_id_that_encodes_a_resolution_falls_back_to_it():
    assert get_spec("seedance-nsfw-1080p").resolutions == ("1080p",)


def test_video_models_keeps_video_ids_known_first_in_catalogue_order():
    ids = [
        "grok-4.3", "gpt-4o", "claude-3-opus", "grok-imagine-image", "grok-imagine-image-quality",
        "acme-t2v", GROK, "seedance-fast-nsfw", HH_I2V, S2_1080, "grok-imagine-video-2", GROK,
    ]
    assert [spec.id for spec in video_models(ids)] == [
        S2_1080, HH_I2V, GROK, "acme-t2v", "seedance-fast-nsfw", "grok-imagine-video-2",
    ]


@pytest.mark.parametrize(
    "model, overrides",
    [
        (FAST, {}),
        (FAST, {"seconds": "15", "ratio": "adaptive", "resolution": "480p", "generate_audio": True}),
        (FAST, {"prompt": "@image1 meets @image2", "images": ["a", "b"], "videos": 3, "audio": 3}),
        (FAST, {"first_frame": "f.png", "last_frame": "l.png"}),
        (S15, {"images": 9, "resolution": "1080p", "seconds": 12}),
        (S15_SILENT, {"first_frame": "f.png", "generate_audio": False}),
        (HH_I2V, {"prompt": "@image1 gallops", "images": 1, "resolution": "1080p"}),
        (GROK, {"seconds": None, "ratio": None, "resolution": None}),
        ("acme-video-9", {"seconds": 10}),
    ],
)
def test_valid_requests_have_no_errors(model, overrides):
    assert check(model, **overrides) == {}


@pytest.mark.parametrize(
    "model, overrides, field",
    [
        (FAST, {"prompt": "   "}, "prompt"),
        (FAST, {"prompt": "x" * (MAX_PROMPT_CHARS + 1)}, "prompt"),
        (FAST, {"seconds": 3}, "seconds"),
        (FAST, {"seconds": 16}, "seconds"),
        (S15, {"seconds": 13}, "seconds"),
        (GROK, {"seconds": 11}, "seconds"),
        (FAST, {"seconds": "five"}, "seconds"),
        (GROK, {"ratio": "4:3"}, "ratio"),
        (FAST, {"resolution": "1080p"}, "resolution"),
        (S2_1080, {"resolution": "720p"}, "resolution"),
        (S15_SILENT, {"generate_audio": True}, "generate_audio"),
        (GROK, {"generate_audio": True}, "generate_audio"),
        (FAST, {"images": 10}, "images"),
        (FAST, {"videos": 4}, "videos"),
        (FAST, {"audio": ["a.mp3"] * 4}, "audio"),
        (S15, {"videos": 1}, "videos"),
        (S15, {"audio": 1}, "audio"),
        (GROK, {"images": 1}, "images"),
        (FAST, {"prompt": "@image2 dances", "images": 1}, "prompt"),
        (FAST, {"prompt": "@image1 dances"}, "prompt"),
        (FAST, {"prompt": "@image0 dances", "images": 1}, "prompt"),
        (FAST, {"images": 1, "first_frame": "f.png"}, "first_frame"),
        (FAST, {"videos": 1, "last_frame": "l.png", "first_frame": "f.png"}, "first_frame"),
        (FAST, {"last_frame": "l.png"}, "last_frame"),
        (GROK, {"first_frame": "f.png"}, "first_frame"),
        (HH_I2V, {}, "images"),
        (HH_I2V, {"images": 2}, "images"),
        (HH_I2V, {"first_frame": "f.png"}, "first_frame"),
    ],
)
def test_invalid_requests_report_the_field(model, overrides, field):
    errors = check(model, **overrides)
    assert field in errors, errors
    assert all(isinstance(message, str) and message for message in errors.values())


def test_global_reference_caps_apply_before_model_caps():
    assert check(FAST, images=10)["images"] == "At most 9 reference images per request."
    assert "does not accept" in check(S15, videos=1)["videos"]
    assert "at most 1" in check(HH_I2V, images=2)["images"]


def test_happyhorse_i2v_without_its_image_says_so():
    assert check(HH_I2V)["images"] == "HappyHorse 1.0 image-to-video needs exactly 1 reference image."
