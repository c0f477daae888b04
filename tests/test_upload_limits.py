"""Oversized request bodies are refused (413) before they are read."""

import socket
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from studio import media
from studio.models import Generation
from studio.uploads import max_request_bytes
from tests.factories import give_key

FORM = {"model": "doubao-seedance-2-0-720p", "prompt": "A lighthouse in fog", "seconds": "5", "ratio": "16:9",
        "resolution": "720p", "client_token": "tok-up"}


@pytest.fixture
def keyed_client(login, alice, team):
    give_key(alice)
    return login(alice)


def test_the_limit_is_every_reference_at_its_size_limit_plus_the_fields(settings):
    per_kind = media.LIMITS
    files = 11 * per_kind["image"] + 3 * per_kind["video"] + 3 * per_kind["audio"]  # 9 images + 2 frames
    assert max_request_bytes() == files + settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def test_a_real_oversized_body_is_refused_with_a_clear_message(keyed_client, monkeypatch, settings):
    monkeypatch.setattr(media, "LIMITS", {"image": 64 * 1024, "video": 64 * 1024, "audio": 64 * 1024})
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    big = SimpleUploadedFile("big.png", b"\x89PNG" + b"\0" * (2 * 1024 * 1024), "image/png")  # over 1.1 MB
    response = keyed_client.post(reverse("studio:create"), {**FORM, "images": [big]})
    assert response.status_code == 413
    page = response.content.decode()
    assert "This upload is 3 MB; Studio accepts at most 1 MB at once" in page
    assert not Generation.objects.exists()


def test_htmx_gets_the_message_inside_the_form(keyed_client):
    response = keyed_client.post(reverse("studio:create"), FORM, HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER="generate-form",
                                 CONTENT_LENGTH=str(max_request_bytes() + 1))
    assert response.status_code == 413
    assert response["HX-Retarget"] == "#generate-form" and response["HX-Reswap"] == "afterbegin"
    assert 'class="form-error" role="alert"' in response.content.decode()


def test_the_view_never_runs_for_a_declared_oversize(keyed_client, monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("the body was parsed")

    monkeypatch.setattr("studio.generate.GenerationForm", boom)
    response = keyed_client.post(reverse("studio:create"), FORM, CONTENT_LENGTH=str(10 * 1024**3))
    assert response.status_code == 413


def test_a_chunked_body_without_a_length_is_refused(rf):
    from studio.uploads import UploadLimitMiddleware

    request = rf.post("/generate/", data=b"x" * 100, content_type="application/octet-stream",
                      HTTP_TRANSFER_ENCODING="chunked")
    del request.META["CONTENT_LENGTH"]
    response = UploadLimitMiddleware(lambda r: pytest.fail("reached the view"))(request)
    assert response.status_code == 411


def test_ordinary_posts_pass(keyed_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        assert keyed_client.post(reverse("studio:create"), FORM).status_code == 302


def test_files_above_the_memory_threshold_are_spooled_to_disk(settings):
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= 2 * 1024 * 1024
    assert settings.DATA_UPLOAD_MAX_NUMBER_FILES >= 17


@pytest.mark.django_db(transaction=True)
def test_over_a_real_socket_the_answer_comes_before_the_body(live_server):
    """A client declares 10 GB and sends 64 KB of it: the 413 arrives without the server
    waiting for (or reading) the rest."""
    host, port = live_server.thread.host, live_server.thread.port
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(
            b"POST /generate/ HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: multipart/form-data; boundary=xyz\r\n"
            + f"Content-Length: {10 * 1024**3}\r\n\r\n".encode()
            + b"x" * 65536
        )
        started = time.monotonic()
        head = sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    assert time.monotonic() - started < 5
