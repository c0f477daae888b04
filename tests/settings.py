"""Test settings: production settings with test secrets, fast hashing and in-memory media."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("STUDIO_ENCRYPTION_KEYS", "JjNZa1bRFHKp1VtMvPCf_5MfMrLfe-sS2A2rD0ZKEcE=")
os.environ.setdefault("SANDBOX_ENABLED", "1")
os.environ.setdefault("SANDBOX_QUEUE_SECONDS", "0.5")
os.environ.setdefault("SANDBOX_RUN_SECONDS", "1.5")
os.environ.setdefault("SITE_URL", "http://testserver")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

from studio.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Files on disk, so worker processes started by the live tests share them with the server.
_TMP = Path(tempfile.mkdtemp(prefix="studio-test-"))
MEDIA_ROOT = _TMP / "media"
_SITE_STORAGE = STORAGES["default"]  # noqa: F405
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not memory: worker processes in the live tests open the same test database.
    DATABASES["default"]["TEST"] = {"NAME": str(_TMP / "test-db.sqlite3")}  # noqa: F405
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
# Unit tests run jobs inline; the live tests (STUDIO_LIVE_TESTS=1) use a real broker and worker.
LIVE_TESTS = os.environ.get("STUDIO_LIVE_TESTS") == "1"
Q_CLUSTER = {**Q_CLUSTER, "sync": not LIVE_TESTS}  # noqa: F405
if LIVE_TESTS and AWS_STORAGE_BUCKET_NAME:  # noqa: F405
    # The live suite on object storage (README "Object storage"): server and workers share it.
    STORAGES["default"] = _SITE_STORAGE
