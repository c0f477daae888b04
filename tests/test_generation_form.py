import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from studio.forms import GenerationForm
from tests.factories import give_key


def png(name="ref.png", size=(32, 24)) -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 40, 90)).save(buf, "PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


def bind(user, team, data=None, files=None):
    base = {"model": "doubao-seedance-2-0-720p", "prompt": "A fox", "seconds": "5", "ratio": "16:9", "resolution": "720p"}
    from django.utils.datastructures import MultiValueDict

    return GenerationForm({**base, **(data or {})}, MultiValueDict(files or {}), user=user, team=team)


@pytest.fixture
def keyed(alice, team):
    give_key(alice)
    return alice


def test_valid_text_form(keyed, team):
    form = bind(keyed, team)
    assert form.is_valid(), form.errors
    assert form.references == []


def test_user_without_key_is_pointed_to_key_page(alice, team):
    form = bind(alice, team)
    assert not form.is_valid()
    assert "/accounts/key/" in str(form.non_field_errors())


def test_model_the_key_may_not_use_is_refused(keyed, team):
    form = bind(keyed, team, {"model": "grok-imagine-video"})
    assert "may not use this model" in str(form.errors["model"])


def test_empty_prompt_is_refused(keyed, team):
    assert "prompt" in bind(keyed, team, {"prompt": "  "}).errors


def test_seconds_over_model_maximum_is_refused(keyed, team):
    form = bind(keyed, team, {"model": "seedance-1-5-pro-no-audio", "seconds": "14"})
    assert "4-12 seconds" in str(form.errors["seconds"])


def test_audio_on_a_silent_model_is_refused(keyed, team):
    form = bind(keyed, team, {"model": "seedance-1-5-pro-no-audio", "generate_audio": "on"})
    assert "generate_audio" in form.errors


def test_image_citation_beyond_images_given_is_refused(keyed, team):
    form = bind(keyed, team, {"prompt": "@image1 meets @image3"}, {"images": [png("a.png"), png("b.png")]})
    assert "@image3" in str(form.errors["prompt"])


def test_images_keep_their_order(keyed, team):
    form = bind(keyed, team, {"prompt": "@image1 and @image2", "image_urls": "https://example.com/c.jpg"},
                {"images": [png("a.png"), png("b.png")]})
    assert form.is_valid(), form.errors
    assert [(r.name or r.url, r.position) for r in form.references] == [
        ("a.png", 0), ("b.png", 1), ("https://example.com/c.jpg", 2)]


def test_more_than_nine_images_is_refused(keyed, team):
    urls = "\n".join(f"https://example.com/{i}.jpg" for i in range(10))
    assert "images" in bind(keyed, team, {"image_urls": urls}).errors


def test_reference_images_with_first_frame_are_refused(keyed, team):
    form = bind(keyed, team, {"first_frame_url": "https://example.com/f.jpg"}, {"images": [png()]})
    assert "not both" in str(form.errors["first_frame"])


def test_fake_image_is_refused_by_content(keyed, team):
    fake = SimpleUploadedFile("cat.png", b"this is text, not a picture", content_type="image/png")
    form = bind(keyed, team, {}, {"images": [fake]})
    assert "not a JPEG, PNG or WebP" in str(form.errors["images"])


def test_fake_video_is_refused_by_content(keyed, team):
    fake = SimpleUploadedFile("clip.mp4", b"\x00" * 64, content_type="video/mp4")
    assert "not an MP4" in str(bind(keyed, team, {}, {"videos": [fake]}).errors["videos"])


def test_too_large_image_is_refused(keyed, team, monkeypatch):
    monkeypatch.setitem(__import__("studio.media", fromlist=["LIMITS"]).LIMITS, "image", 10)
    assert "limit" in str(bind(keyed, team, {}, {"images": [png()]}).errors["images"])


def test_non_http_url_is_refused(keyed, team):
    assert "image_urls" in bind(keyed, team, {"image_urls": "ftp://example.com/a.jpg"}).errors


def test_fixed_resolution_model_forces_its_resolution(keyed, team):
    form = bind(keyed, team, {"resolution": "720p"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["resolution"] == "720p"


def test_happyhorse_needs_its_one_image(keyed, team):
    form = bind(keyed, team, {"model": "happyhorse-1.0-i2v", "resolution": "720p"})
    assert "images" in form.errors
