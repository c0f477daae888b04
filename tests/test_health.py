"""/health answers the PaaS: 200 when the database and the broker answer, else 503 and which."""

import json

import pytest

from studio import health


def get(client):
    response = client.get("/health")
    return response.status_code, json.loads(response.content)


def test_healthy_with_the_orm_broker(client, db, settings):
    settings.REDIS_URL = None
    assert get(client) == (200, {"ok": True, "database": "ok", "broker": "ok"})


def test_needs_no_login_and_is_never_cached(client, db):
    response = client.get("/health")
    assert response.status_code == 200 and "no-cache" in response["Cache-Control"]


def test_database_down_is_503_and_says_so(client, db, settings, monkeypatch):
    settings.REDIS_URL = None

    class Down:
        def cursor(self):
            from django.db import OperationalError

            raise OperationalError("could not connect to server at db.internal:5432 password=hunter2")

    monkeypatch.setattr(health, "connection", Down())
    status, body = get(client)
    assert status == 503
    assert body == {"ok": False, "database": "unreachable", "broker": "unreachable"}  # the ORM broker is the DB
    assert b"hunter2" not in json.dumps(body).encode()


def test_redis_down_is_503_for_the_broker_only(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    status, body = get(client)
    assert status == 503
    assert body == {"ok": False, "database": "ok", "broker": "unreachable"}


def test_no_secret_reaches_the_answer_or_the_log(client, db, settings, caplog):
    settings.REDIS_URL = "redis://:s3cret-pass@127.0.0.1:1/0"
    response = client.get("/health")
    assert b"s3cret" not in response.content
    assert "s3cret" not in caplog.text and "health: broker unreachable (ConnectionError)" in caplog.text


def test_healthy_with_a_real_redis(client, db, settings):
    import os

    import redis

    settings.REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError:
        pytest.skip(f"needs a Redis at {settings.REDIS_URL} (CI starts one)")
    assert get(client) == (200, {"ok": True, "database": "ok", "broker": "ok"})
