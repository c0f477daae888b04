"""Login throttling against password guessing, per account and per client address.

Failures are counted in Django's cache (Redis in production, so every web process sees the
same counts) in a window of LOGIN_LOCKOUT_MINUTES that starts at the first failure; after
LOGIN_FAILURES_ALLOWED of them an account is refused until the window ends, even with the
right password; an address, which a whole office may share, after ADDRESS_FACTOR times more.
A successful login clears the account's count. The check sits in the authentication
backend, so the login page and the admin's are both covered.
"""

import hashlib
import time

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import ngettext

from accounts.models import User


def client_address(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the address the outermost trusted proxy saw: proxies append to
    X-Forwarded-For, so anything left of the trusted hops may be made up by the client."""
    hops = settings.TRUSTED_PROXY_HOPS
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")


ADDRESS_FACTOR = 4


def _account_key(username: str) -> str:
    # Hashed: any text may be typed as a user name, and cache keys must stay short and plain.
    return "login-fail:user:" + hashlib.sha256(username.strip().lower().encode()).hexdigest()


def _limits(request: HttpRequest, username: str) -> dict[str, int]:
    allowed = settings.LOGIN_FAILURES_ALLOWED
    return {
        _account_key(username): allowed,
        f"login-fail:ip:{client_address(request)}": allowed * ADDRESS_FACTOR,
    }


def seconds_locked(request: HttpRequest, username: str) -> int:
    """How long this account or address stays locked; 0 when it may try."""
    window = settings.LOGIN_LOCKOUT_MINUTES * 60
    limits = _limits(request, username)
    found = cache.get_many([*limits, *(f"{key}:since" for key in limits)])
    waits = [
        int(found[f"{key}:since"] + window - time.time()) + 1
        for key, allowed in limits.items()
        if found.get(key, 0) >= allowed and f"{key}:since" in found
    ]
    return max([wait for wait in waits if wait > 0], default=0)


def record_failure(request: HttpRequest, username: str) -> None:
    """Count a failure in a window that starts at the first one (incr is atomic in Redis)."""
    window = settings.LOGIN_LOCKOUT_MINUTES * 60
    for key in _limits(request, username):
        cache.add(f"{key}:since", time.time(), window)
        cache.add(key, 0, window)
        try:
            cache.incr(key)
        except ValueError:  # expired in between: a new window
            cache.set(key, 1, window)


def clear_account(username: str) -> None:
    key = _account_key(username)
    cache.delete_many([key, f"{key}:since"])


def locked_message(seconds: int) -> str:
    minutes = max(1, -(-seconds // 60))
    return ngettext(
        "Too many failed attempts. Try again in %(minutes)d minute.",
        "Too many failed attempts. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


class ThrottledModelBackend(ModelBackend):
    """The login backend: ModelBackend that refuses a locked account or address with a message
    the login form shows (a ValidationError raised here becomes the form's error), and loads a
    request's user with their team's change count (`get_user`)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None or username is None:  # not a login form (e.g. the test client)
            return super().authenticate(request, username=username, password=password, **kwargs)
        wait = seconds_locked(request, username)
        if wait:
            raise ValidationError(locked_message(wait), code="throttled")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            record_failure(request, username)
        else:
            clear_account(username)
        return user

    def get_user(self, user_id):
        """The signed-in user of a request, with their current team's change count: a live
        poll answers "nothing new" from it without a query of its own (studio.activity)."""
        try:
            user = User.objects.with_team_changes().get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
