"""Refusals at the edge: requests no view should ever see.

:class:`EdgeMiddleware` runs first and answers, before anything reads the request:

- 414 when the request target (path and query) is longer than ``MAX_REQUEST_TARGET``
  bytes (RFC 9110 §15.5.15), 431 when there are more than ``MAX_HEADER_FIELDS`` header
  fields or one is longer than ``MAX_HEADER_FIELD_SIZE`` bytes (RFC 6585 §5). gunicorn's
  own limits (deploy/gunicorn.conf.py) are set above these, so these answers are ours;
  Granian reads longer targets and fields too, but refuses more than 100 header fields
  itself, with a 431 and no body (directory.webserver);
- 400 when the path, the query, a URL-encoded or JSON body, or the username of HTTP Basic
  credentials (the OAuth ``client_id`` of a confidential app among them) holds a control
  character: NUL, any other C0 or C1 control, DEL. Form and JSON *values* may hold tab and
  line breaks (a multi-line note); names, paths, queries and usernames may not. The
  database refuses NUL, and no identifier holds a control character.

Under ``/api/`` the answer is an RFC 9457 problem document; at the OAuth2 token,
revocation and introspection endpoints an RFC 6749 §5.2 error (``invalid_request``);
elsewhere the 400 page.
:func:`bad_request`, :func:`permission_denied` and :func:`page_not_found` are Django's
``handler400``/``handler403``/``handler404``, which do the same for what Django itself
refuses (a ``Host`` not in ``ALLOWED_HOSTS``, more than ``DATA_UPLOAD_MAX_NUMBER_FIELDS``
fields, an unknown path).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from urllib.parse import parse_qsl

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults

from directory.exceptions import API_PREFIX, PROBLEM_CONTENT_TYPE, problem

# gunicorn reads request lines up to 8190 bytes (its maximum short of none): the method,
# "HTTP/1.1" and the spaces fit in what is left above this.
MAX_REQUEST_TARGET = 8000
MAX_HEADER_FIELDS = 100
MAX_HEADER_FIELD_SIZE = 8190

# C0 controls, DEL and C1 controls; the second leaves tab, LF and CR to free text.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


# OAuth2 endpoints a calling app's code (not a person) talks to: errors in RFC 6749 §5.2 form.
OAUTH_MACHINE_PATHS = ("/o/token/", "/o/revoke_token/", "/o/introspect/")


def _answer(request: HttpRequest, status: int, title: str, detail: str, slug: str, **extra):
    if request.path_info in OAUTH_MACHINE_PATHS:
        return JsonResponse(
            {"error": "invalid_request", "error_description": detail}, status=status
        )
    if request.path_info.startswith(API_PREFIX):
        return JsonResponse(
            problem(status, title, detail, slug, **extra),
            status=status,
            content_type=PROBLEM_CONTENT_TYPE,
        )
    body = loader.render_to_string("400.html", request=request)
    return HttpResponse(body, status=status)


def _strings(value, *, key: bool = False):
    """Every string of a parsed JSON value, each with whether it is a key."""
    if isinstance(value, str):
        yield value, key
    elif isinstance(value, dict):
        for name, item in value.items():
            yield name, True
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _basic_username(header: str) -> str | None:
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None  # DRF answers 401 for credentials it cannot read
    return decoded.partition(":")[0]


def control_character_in(request: HttpRequest) -> tuple[str, str | None] | None:
    """Where ``request`` carries a control character, or ``None``: ``(place, field)`` with
    place "the path", "the query", "the body" or "the username" and field the query
    parameter or top-level body field holding it (``None`` for the path and username).
    Reads the body only when it is URL-encoded, JSON or multipart and within
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (larger ones get their own 413)."""
    if CONTROL.search(request.path):
        return "the path", None
    for name, value in parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True):
        if CONTROL.search(name) or CONTROL.search(value):
            return "the query", name
    username = _basic_username(request.META.get("HTTP_AUTHORIZATION", ""))
    if username is not None and CONTROL.search(username):
        return "the username", None
    content_type = request.content_type or ""
    if request.method in ("GET", "HEAD", "OPTIONS") or not content_type:
        return None
    if content_type == "multipart/form-data" and request.method == "POST":
        # Django parses the fields (not the files) once; DRF and the forms read them
        # from there. Too many fields or too large ones raise here, answered by the caller.
        for name, values in request.POST.lists():
            if CONTROL.search(name) or any(CONTROL_IN_TEXT.search(v) for v in values):
                return "the body", name
        return None
    if content_type == "application/x-www-form-urlencoded" or content_type.endswith("json"):
        try:
            body = request.body
        except RequestDataTooBig:
            return None
        try:
            text = body.decode(request.encoding or "utf-8")
        except (UnicodeDecodeError, LookupError):
            return None  # the parser answers for bodies it cannot decode
        if content_type == "application/x-www-form-urlencoded":
            for name, value in parse_qsl(text, keep_blank_values=True):
                if CONTROL.search(name) or CONTROL_IN_TEXT.search(value):
                    return "the body", name
            return None
        try:
            parsed = json.loads(text)
            fields = parsed.items() if isinstance(parsed, dict) else [(None, parsed)]
            for field, value in fields:
                if field is not None and CONTROL.search(field):
                    return "the body", field
                for string, is_key in _strings(value):
                    if (CONTROL if is_key else CONTROL_IN_TEXT).search(string):
                        return "the body", field
        except (ValueError, RecursionError):
            return None  # the parser answers for bodies it cannot read
    return None


def header_fields_too_large(meta) -> bool:
    """Whether a request's ``META`` (or WSGI environ) has more than ``MAX_HEADER_FIELDS``
    header fields or one longer than ``MAX_HEADER_FIELD_SIZE`` bytes: the edge's 431 (RFC
    6585 §5), which the resolve fast path leaves to Django."""
    fields = 0
    for name, value in meta.items():
        if name[:5] == "HTTP_":
            fields += 1
            if len(value if value.__class__ is str else str(value)) > MAX_HEADER_FIELD_SIZE:
                return True
    return fields > MAX_HEADER_FIELDS


class EdgeMiddleware:
    """First middleware: answers 414, 431 and 400 (control characters) itself."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        target = meta.get("RAW_URI") or (
            meta.get("PATH_INFO", "") + "?" + meta.get("QUERY_STRING", "")
        )
        if len(target) > MAX_REQUEST_TARGET:
            return _answer(
                request,
                414,
                "URI too long",
                f"The request's path and query are longer than {MAX_REQUEST_TARGET} bytes.",
                "uri-too-long",
            )
        if header_fields_too_large(meta):
            return _answer(
                request,
                431,
                "Request header fields too large",
                f"At most {MAX_HEADER_FIELDS} header fields of at most "
                f"{MAX_HEADER_FIELD_SIZE} bytes each are read.",
                "header-fields-too-large",
            )
        try:
            found = control_character_in(request)
        except RequestDataTooBig:
            return _answer(
                request,
                413,
                "Request too large",
                "The request's fields are larger than the server reads.",
                "request-too-large",
            )
        except TooManyFieldsSent:
            return _answer(
                request,
                400,
                "Bad request",
                "The request has more fields than the server reads.",
                "too-many-fields",
            )
        if found is not None:
            where, field = found
            detail = (
                f"{where.capitalize()} holds a control character (such as NUL), which no "
                "name, identifier or address may contain."
            )
            errors = {field: [detail]} if field is not None else None
            return _answer(
                request, 400, "Control character", detail, "control-character", errors=errors
            )
        return self.get_response(request)


def bad_request(request: HttpRequest, exception=None, **kwargs):
    """``handler400``: a problem document under ``/api/`` (a ``Host`` not served, too many
    fields, any other ``SuspiciousOperation``), Django's 400 page elsewhere."""
    if request.path_info.startswith(API_PREFIX):
        from django.core.exceptions import DisallowedHost

        if isinstance(exception, DisallowedHost):
            detail = "This server does not answer for that Host header."
            slug = "host-not-served"
        elif isinstance(exception, TooManyFieldsSent):
            detail = "The request has more fields than the server reads."
            slug = "too-many-fields"
        else:
            detail, slug = "The request could not be read.", "malformed-request"
        return _answer(request, 400, "Bad request", detail, slug)
    return defaults.bad_request(request, exception, **kwargs)


def permission_denied(request: HttpRequest, exception=None, **kwargs):
    """``handler403``: a problem document under ``/api/``, the 403 page elsewhere."""
    if request.path_info.startswith(API_PREFIX):
        return _answer(request, 403, "Forbidden", "This request is not allowed.", "forbidden")
    return defaults.permission_denied(request, exception, **kwargs)


def page_not_found(request: HttpRequest, exception=None, **kwargs):
    """``handler404``: a problem document under ``/api/``, the 404 page elsewhere."""
    if request.path_info.startswith(API_PREFIX):
        return _answer(request, 404, "Not found", "Nothing answers at this address.", "not-found")
    return defaults.page_not_found(request, exception, **kwargs)


class MethodNotAllowedPageMiddleware:
    """Gives a web page's bare 405 (a view that takes only POST, say, asked with GET:
    ``require_POST`` answers with no body) the styled page ``405.html``, keeping its status
    and ``Allow`` header (RFC 9110 §15.5.6). Answers under ``/api/`` and the OAuth2 machine
    endpoints keep their own documents, and a 405 that already has a body is left alone.
    Listed after django-csp's middleware, so the page it renders still gets the policy."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code != 405
            or getattr(response, "streaming", False)
            or response.content
            or request.path_info.startswith(API_PREFIX)
            or request.path_info in OAUTH_MACHINE_PATHS
        ):
            return response
        allowed = response.get("Allow", "")
        page = HttpResponse(loader.render_to_string("405.html", {}, request), status=405)
        if allowed:
            page["Allow"] = allowed
        return page
