"""RelayDance errors in plain words, for a failed card or a form."""

from django.utils.translation import gettext as _

from studio import relaydance


def failure_message(exc: relaydance.RelayDanceError, *, stage: str) -> str:
    """What went wrong and what the user can do; `stage` is upload, create or poll."""
    if isinstance(exc, relaydance.KeyRejected):
        if exc.status_code == 403:
            return _("RelayDance refused: %(reason)s (top up your balance or pick another model).") % {"reason": exc.message}
        return _("RelayDance rejected your API key. Check it on the API key page, then retry.")
    if isinstance(exc, relaydance.BadRequest):
        if stage == "upload":
            return _("RelayDance refused a reference file: %(reason)s. Try a public URL for it instead.") % {"reason": exc.message}
        return _("RelayDance refused the request: %(reason)s") % {"reason": exc.message}
    if isinstance(exc, relaydance.RateLimited):
        return _("RelayDance is rate-limiting your key. Wait a minute, then retry.")
    if isinstance(exc, relaydance.Unavailable):
        return _("RelayDance could not be reached. Retry in a minute.")
    return _("RelayDance gave an answer Studio did not understand: %(reason)s") % {"reason": exc.message}
