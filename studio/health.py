"""What /health checks: the database and the task broker answer, each within seconds.

Failures are logged by exception type only: a driver's message can carry a host or a DSN.
"""

import logging

from django.conf import settings
from django.db import connection

log = logging.getLogger("studio.health")
TIMEOUT_SECONDS = 3


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone()[0] == 1
    except Exception as exc:  # any failure means "not reachable"
        log.warning("health: database unreachable (%s)", type(exc).__name__)
        return False


def report() -> dict[str, str]:
    """Each part, "ok" or "unreachable"; the ORM broker is the database itself."""
    database = database_ok()
    broker = redis_ok() if settings.REDIS_URL else database
    return {name: "ok" if up else "unreachable" for name, up in [("database", database), ("broker", broker)]}


def redis_ok() -> bool:
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
    )
    try:
        return bool(client.ping())
    except Exception as exc:
        log.warning("health: broker unreachable (%s)", type(exc).__name__)
        return False
    finally:
        client.close()
