"""Serving team-private media from Django storage, with HTTP Range.

`serve_file` is the one place stored media leaves the app: the views decide who may see a
file, this decides how it is sent. Browsers need Range to seek in a video (and Safari to play
one at all). On object storage (S3) it answers with a redirect to a short-lived signed URL
instead, and the bucket honours Range itself: the bytes never pass through Django.
"""

from __future__ import annotations

import re

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import content_disposition_header
from storages.backends.s3 import S3Storage

BLOCK_SIZE = 64 * 1024
_BYTES_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Unsatisfiable(Exception):
    """The Range asks for bytes the file does not have (answered with 416)."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte positions of a single `bytes=` range, or None for all.

    Other units and multi-range requests are ignored (RFC 9110 §14.2 allows it: the whole file
    is sent); a malformed or unsatisfiable `bytes=` range raises Unsatisfiable.
    """
    if not header:
        return None
    header = header.strip()
    if not header.lower().startswith("bytes=") or "," in header:
        return None
    match = _BYTES_RANGE.match(header.replace(" ", "").lower())
    if not match or match.groups() == ("", ""):
        raise Unsatisfiable
    first, last = match.groups()
    if not first:  # bytes=-n: the last n bytes
        if int(last) == 0 or size == 0:
            raise Unsatisfiable
        return max(0, size - int(last)), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        raise Unsatisfiable
    return start, min(end, size - 1)


class _Slice:
    """A read-only window on an open file, so FileResponse streams just the asked-for bytes.

    It has no fileno() on purpose: a WSGI server's sendfile() would send past the window.
    """

    def __init__(self, file, start: int, length: int):
        file.seek(start)
        self._file = file
        self._left = length

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        data = self._file.read(self._left if size < 0 else min(size, self._left))
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._file.close()


def serve_file(
    request: HttpRequest,
    field: FieldFile,
    *,
    content_type: str,
    download_name: str | None = None,
) -> HttpResponse:
    """Stream a stored file in chunks (never whole into memory), honouring one HTTP Range.

    `download_name` makes the browser save the file under that name (Content-Disposition:
    attachment); without it the file is shown inline.
    """
    if isinstance(field.storage, S3Storage):
        return _redirect_to_signed_url(field, content_type, download_name)
    try:
        size = field.storage.size(field.name)
    except (FileNotFoundError, OSError):
        raise Http404 from None
    try:
        span = parse_range(request.headers.get("Range"), size)
    except Unsatisfiable:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        response["Accept-Ranges"] = "bytes"
        return response

    file = field.storage.open(field.name, "rb")
    options = {"content_type": content_type, "as_attachment": bool(download_name), "filename": download_name or ""}
    if span is None:
        response = FileResponse(file, **options)
        response["Content-Length"] = str(size)
    else:
        first, last = span
        response = FileResponse(_Slice(file, first, last - first + 1), status=206, **options)
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
        response["Content-Length"] = str(last - first + 1)
    response.block_size = BLOCK_SIZE
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _redirect_to_signed_url(field: FieldFile, content_type: str, download_name: str | None) -> HttpResponse:
    """A redirect to the object, signed for the storage's `querystring_expire` seconds, that
    makes the bucket answer with our content type and download name.

    The browser may reuse the redirect for half the signature's life, so a URL it follows has
    always long enough left to start playing; only this user's browser may keep it.
    """
    storage = field.storage
    parameters = {"ResponseContentType": content_type, "ResponseCacheControl": "private, max-age=3600"}
    if download_name:
        parameters["ResponseContentDisposition"] = content_disposition_header(True, download_name)
    response = HttpResponseRedirect(storage.url(field.name, parameters=parameters))
    response["Cache-Control"] = f"private, max-age={storage.querystring_expire // 2}"
    return response
