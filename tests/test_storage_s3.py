"""Media on S3-compatible object storage, proved against moto's standalone S3 server.

The storage options come from studio/settings.py itself (run with the bucket variables set),
so these tests exercise what production would run. respx stands in for RelayDance only.
"""

import io
import logging
import runpy
import urllib.error
import urllib.request
import uuid

import boto3
import pytest
import respx
from botocore.exceptions import EndpointConnectionError
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.urls import reverse
from moto.server import ThreadedMotoServer
from PIL import Image
from storages.backends.s3 import S3Storage

from studio import tasks
from studio.models import Generation, Reference
from tests.factories import give_key, make_generation

SETTINGS = "studio/settings.py"
KEYS = {"AWS_ACCESS_KEY_ID": "test-access", "AWS_SECRET_ACCESS_KEY": "test-secret"}
CDN = "https://cdn.example.com/v.mp4"
HTMX = {"HTTP_HX_REQUEST": "true"}


def settings_with(env: dict) -> dict:
    """studio/settings.py's names, evaluated with `env` added to the environment."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        return runpy.run_path(SETTINGS)


@pytest.fixture(scope="session")
def moto_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    werkzeug = logging.getLogger("werkzeug")
    level, werkzeug.level = werkzeug.level, logging.WARNING  # not a line per S3 request
    yield f"http://{host}:{port}"
    werkzeug.setLevel(level)
    server.stop()


@pytest.fixture
def bucket(moto_endpoint, settings):
    """A new empty bucket, made the default storage as the settings would with it named."""
    name = f"studio-{uuid.uuid4().hex[:12]}"
    env = {"AWS_STORAGE_BUCKET_NAME": name, "AWS_S3_ENDPOINT_URL": moto_endpoint,
           "AWS_S3_REGION_NAME": "us-east-1", "AWS_S3_ADDRESSING_STYLE": "path", **KEYS}
    s3 = boto3.resource("s3", endpoint_url=moto_endpoint, region_name="us-east-1",
                        aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"], aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"])
    s3.create_bucket(Bucket=name)
    # Changing STORAGES resets django's cached storages (django.test.signals.storages_changed).
    settings.STORAGES = {**settings.STORAGES, "default": settings_with(env)["STORAGES"]["default"]}
    return s3.Bucket(name)


def objects(bucket) -> dict[str, bytes]:
    return {obj.key: obj.get()["Body"].read() for obj in bucket.objects.all()}


def fetch(url: str, headers: dict | None = None):
    """GET a URL outside Django (a browser following the redirect)."""
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10)
    except urllib.error.HTTPError as error:
        return error


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 40, 90)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def ready(bucket, team, alice, mp4_bytes):
    generation = make_generation(team, alice, prompt="Glacier lakes", status="ready")
    generation.video.save("video.mp4", ContentFile(mp4_bytes), save=False)
    generation.poster.save("poster.jpg", ContentFile(b"\xff\xd8poster"), save=False)
    generation.save()
    ref = Reference(generation=generation, kind="image", position=0, name="fox.png", content_type="image/png")
    ref.file.save("fox.png", ContentFile(png()), save=True)
    return generation


# --- settings -----------------------------------------------------------------------------


def test_a_bucket_name_switches_media_to_private_signed_s3_and_keeps_static_on_whitenoise():
    storages = settings_with({"AWS_STORAGE_BUCKET_NAME": "media", "AWS_S3_ENDPOINT_URL": "https://s3.example.com"})["STORAGES"]
    options = storages["default"]["OPTIONS"]
    assert storages["default"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert (options["bucket_name"], options["endpoint_url"]) == ("media", "https://s3.example.com")
    assert options["querystring_auth"] is True and options["querystring_expire"] == 300
    assert options["default_acl"] is None and options["file_overwrite"] is False
    assert storages["staticfiles"]["BACKEND"].startswith("whitenoise.")


def test_without_a_bucket_media_stays_on_local_files():
    assert settings_with({})["STORAGES"]["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"


def test_a_custom_domain_is_refused_because_it_would_serve_media_unsigned():
    with pytest.raises(ImproperlyConfigured, match="private"):
        settings_with({"AWS_STORAGE_BUCKET_NAME": "media", "AWS_S3_CUSTOM_DOMAIN": "media.example.com"})


# --- writing ------------------------------------------------------------------------------


def test_an_uploaded_reference_lands_in_the_bucket(bucket, login, alice, team, django_capture_on_commit_callbacks):
    give_key(alice)
    form = {"model": "doubao-seedance-2-0-720p", "prompt": "A fox", "seconds": "5", "ratio": "16:9",
            "resolution": "720p", "client_token": "tok-s3", "images": ContentFile(png(), name="fox.png")}
    with django_capture_on_commit_callbacks(execute=False):
        response = login(alice).post(reverse("studio:create"), form, **HTMX)
    assert response.status_code == 201
    reference = Reference.objects.get()
    assert reference.file.name.startswith(f"references/{team.code}/")
    assert objects(bucket) == {reference.file.name: png()}


def test_fetched_video_and_poster_are_stored_in_the_bucket(bucket, alice, team, mp4_bytes):
    generation = make_generation(team, alice, status="succeeded", task_id="t", video_url=CDN)
    with respx.mock() as cdn:
        cdn.get(CDN).respond(200, content=mp4_bytes)
        tasks.fetch_video(generation.pk)
    generation.refresh_from_db()
    assert generation.status == "ready"
    stored = objects(bucket)
    assert set(stored) == {generation.video.name, generation.poster.name}
    assert stored[generation.video.name] == mp4_bytes and stored[generation.poster.name][:2] == b"\xff\xd8"


def test_submit_sends_the_references_read_back_from_the_bucket(ready, alice):
    failed = make_generation(ready.team, alice, status="queued")
    Reference.objects.filter(generation=ready).update(generation=failed)
    give_key(alice)
    with respx.mock(base_url="http://testserver/sandbox/v1", assert_all_called=False) as upstream:
        files = upstream.post("/files").respond(200, json={"id": "f1", "url": "https://files.example.com/1"})
        upstream.post("/video/generations").respond(200, json={"task_id": "task_1"})
        tasks.submit_generation(failed.pk)
    assert png() in files.calls.last.request.content


# --- reading ------------------------------------------------------------------------------


def test_video_view_redirects_to_a_signed_url_that_serves_ranges(ready, login, bob, mp4_bytes):
    response = login(bob).get(reverse("studio:video", args=[ready.code]))
    assert response.status_code == 302
    assert "X-Amz-Signature=" in response["Location"] and "X-Amz-Expires=300" in response["Location"]
    assert response["Cache-Control"] == "private, max-age=150"
    partial = fetch(response["Location"], {"Range": "bytes=0-99"})
    assert partial.status == 206 and partial.read() == mp4_bytes[:100]
    assert partial.headers["Content-Type"] == "video/mp4" and partial.headers["Cache-Control"].startswith("private")
    assert fetch(response["Location"]).read() == mp4_bytes


def test_download_link_makes_the_bucket_send_an_attachment(ready, login, alice):
    response = login(alice).get(reverse("studio:video", args=[ready.code]), {"download": "1"})
    answer = fetch(response["Location"])
    assert answer.headers["Content-Disposition"] == f'attachment; filename="glacier-lakes-{str(ready.code)[:8]}.mp4"'


def test_poster_and_reference_redirect_to_signed_urls_with_their_types(ready, login, bob):
    client = login(bob)
    poster = fetch(client.get(reverse("studio:poster", args=[ready.code]))["Location"])
    assert poster.read() == b"\xff\xd8poster" and poster.headers["Content-Type"] == "image/jpeg"
    ref = ready.references.get()
    answer = fetch(client.get(reverse("studio:reference_file", args=[ready.code, ref.pk]))["Location"])
    assert answer.read() == png() and answer.headers["Content-Type"] == "image/png"


def test_outsider_gets_404_and_no_signed_url(ready, login, charlie):
    client = login(charlie)
    ref = ready.references.get()
    for url in (reverse("studio:video", args=[ready.code]), reverse("studio:poster", args=[ready.code]),
                reverse("studio:reference_file", args=[ready.code, ref.pk])):
        response = client.get(url)
        assert response.status_code == 404 and "Location" not in response
        assert b"X-Amz" not in response.content


# --- copying and deleting -----------------------------------------------------------------


def test_retry_copies_references_inside_the_bucket(ready, bucket, login, alice, monkeypatch,
                                                   django_capture_on_commit_callbacks):
    Generation.objects.filter(pk=ready.pk).update(status="failed")
    monkeypatch.setattr(S3Storage, "_open", lambda *args: pytest.fail("the copy was read through Studio"))
    with django_capture_on_commit_callbacks(execute=False):
        response = login(alice).post(reverse("studio:retry", args=[ready.code]), **HTMX)
    assert response.status_code == 201
    original, copy = ready.references.get(), Reference.objects.exclude(generation=ready).get()
    assert copy.file.name != original.file.name
    stored = objects(bucket)
    assert stored[copy.file.name] == stored[original.file.name] == png()


def test_delete_removes_every_object_from_the_bucket(ready, bucket, login, alice):
    assert len(objects(bucket)) == 3  # video, poster, reference
    response = login(alice).post(reverse("studio:delete", args=[ready.code]), **HTMX)
    assert response.status_code == 200
    assert objects(bucket) == {}
    assert not Generation.objects.filter(pk=ready.pk).exists()


def test_a_storage_error_on_delete_still_deletes_the_generation(ready, login, alice, monkeypatch):
    def unreachable(storage, name):
        raise EndpointConnectionError(endpoint_url="http://s3.invalid")

    monkeypatch.setattr(S3Storage, "delete", unreachable)
    response = login(alice).post(reverse("studio:delete", args=[ready.code]), **HTMX)
    assert response.status_code == 200 and not Generation.objects.filter(pk=ready.pk).exists()
