"""Why a generation failed, in plain words, stored so that each viewer reads it in their language.

A failure is stored as `Generation.error` (the English message, with `%(name)s` placeholders)
and `Generation.error_args` (the values). The messages are marked with `gettext_noop`, so
makemessages puts them in the catalogue, and `failure_text` translates them when shown. An
error that is not one of ours (RelayDance's own reason for a failed task) is shown as it is.
"""

from django.utils.translation import gettext
from django.utils.translation import gettext_noop

from studio import relaydance

Failure = tuple[str, dict[str, object]]

NO_KEY = gettext_noop("Your RelayDance API key is missing. Add it on the API key page, then retry.")
UNKNOWN_OUTCOME = gettext_noop(
    "RelayDance may or may not have received this request (the connection dropped after it "
    "was sent), so Studio did not send it again. Check your RelayDance console, or retry."
)
NO_VIDEO_LINK = gettext_noop("RelayDance said the video is finished but gave no link to it.")
TASK_NOT_FOUND = gettext_noop("RelayDance no longer knows this task (not found).")
TIMED_OUT = gettext_noop("Timed out: RelayDance did not finish within %(minutes)d minutes.")
TOO_LARGE = gettext_noop("The finished video is larger than Studio's %(limit)d MB limit.")
NOT_MP4 = gettext_noop("RelayDance returned a file that is not an MP4 video.")
LINK_EXPIRED = gettext_noop("The video link expired before Studio could save the video.")
DOWNLOAD_FAILED = gettext_noop("Studio could not download the finished video: %(reason)s")
# relaydance.GENERIC_FAILURE, spelled out so makemessages finds it (a test keeps them equal).
GENERIC_FAILURE = gettext_noop("Generation failed upstream (not billed).")


def failure_message(exc: relaydance.RelayDanceError, *, stage: str) -> Failure:
    """What went wrong and what the user can do; `stage` is upload, create or poll."""
    reason = {"reason": exc.message}
    if isinstance(exc, relaydance.KeyRejected):
        if exc.status_code == 403:
            return gettext_noop("RelayDance refused: %(reason)s (top up your balance or pick another model)."), reason
        return gettext_noop("RelayDance rejected your API key. Check it on the API key page, then retry."), {}
    if isinstance(exc, relaydance.BadRequest):
        if stage == "upload":
            return gettext_noop("RelayDance refused a reference file: %(reason)s. Try a public URL for it instead."), reason
        return gettext_noop("RelayDance refused the request: %(reason)s"), reason
    if isinstance(exc, relaydance.RateLimited):
        return gettext_noop("RelayDance is rate-limiting your key. Wait a minute, then retry."), {}
    if isinstance(exc, relaydance.Unavailable):
        return gettext_noop("RelayDance could not be reached. Retry in a minute."), {}
    return gettext_noop("RelayDance gave an answer Studio did not understand: %(reason)s"), reason


def failure_text(message: str, args: dict | None = None, *, translate: bool = True) -> str:
    """`message` (in the active language unless `translate` is off) with `args` filled in.

    Never raises: a message whose placeholders do not fit its args (an old row, a bad
    translation) falls back to the English text, then to the raw message.
    """
    if not message:
        return ""
    if not args:
        return gettext(message) if translate else message
    for text in ([gettext(message)] if translate else []) + [message]:
        try:
            return text % args
        except (KeyError, ValueError, TypeError):
            continue
    return message
