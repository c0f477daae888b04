"""The size of a request body, refused before Django reads it.

The largest honest request is the generation form with every reference at its size limit
(studio.media.LIMITS) plus the form's fields. A body declared larger is answered 413 before
a byte of it is read; Django itself never reads past the declared Content-Length, and the
multipart parser reads nothing of a body without one (a chunked upload), which we answer
411 rather than treat as an empty form. Files above FILE_UPLOAD_MAX_MEMORY_SIZE are spooled
to disk while they are parsed, never held in memory whole.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from studio import catalogue, media

# Frames are images too: first and last frame beside the reference images.
MAX_FILES = catalogue.MAX_IMAGES + 2 + catalogue.MAX_VIDEOS + catalogue.MAX_AUDIO


def max_request_bytes() -> int:
    files = (
        (catalogue.MAX_IMAGES + 2) * media.LIMITS["image"]
        + catalogue.MAX_VIDEOS * media.LIMITS["video"]
        + catalogue.MAX_AUDIO * media.LIMITS["audio"]
    )
    return files + settings.DATA_UPLOAD_MAX_MEMORY_SIZE  # the other fields and multipart framing


class UploadLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = request.META.get("CONTENT_LENGTH") or ""
        limit = max_request_bytes()
        if length.isdigit() and int(length) > limit:
            return _refuse(request, 413, too_large_message(int(length), limit))
        if not length and "chunked" in request.headers.get("Transfer-Encoding", "").lower():
            return _refuse(request, 411, _("Studio needs to know an upload's size before it starts (Content-Length)."))
        return self.get_response(request)


def too_large_message(size: int, limit: int) -> str:
    return _(
        "This upload is %(size)d MB; Studio accepts at most %(limit)d MB at once "
        "(each image up to %(image)d MB, video up to %(video)d MB, audio up to %(audio)d MB)."
    ) % {
        "size": -(-size // media.MB),
        "limit": limit // media.MB,
        "image": media.LIMITS["image"] // media.MB,
        "video": media.LIMITS["video"] // media.MB,
        "audio": media.LIMITS["audio"] // media.MB,
    }


def _refuse(request: HttpRequest, status: int, message: str) -> HttpResponse:
    """The message, in the generation form for htmx (base.html lets htmx swap 413), else a
    small page."""
    if request.headers.get("HX-Trigger") == "generate-form":
        response = HttpResponse(format_html('<div class="form-error" role="alert">{}</div>', message), status=status)
        response["HX-Retarget"] = "#generate-form"
        response["HX-Reswap"] = "afterbegin"
    else:
        page = '<!doctype html><meta charset="utf-8"><title>{}</title><p>{}</p><p><a href="/">{}</a></p>'
        response = HttpResponse(format_html(page, _("Upload too large"), message, _("Back to Studio")), status=status)
    return response
