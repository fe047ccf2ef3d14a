"""Worldbook's exception hierarchy and its mapping to RFC 9457 problem details.

Services raise :class:`WorldbookError` subclasses; the API's exception handler turns each
into an ``application/problem+json`` document with ``type``, ``title``, ``status`` and
``detail`` (plus ``errors`` for field errors). Nothing a caller sends can produce a 500.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

PROBLEM_BASE = "https://worldbook.example/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"


class WorldbookError(Exception):
    """Base of every error Worldbook raises on purpose."""

    status = status.HTTP_400_BAD_REQUEST
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str = "", *, errors: dict[str, list[str]] | None = None):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors or {}


class NormalizationError(WorldbookError, ValueError):
    """An identifier (handle, number, domain, URI) could not be read."""

    slug = "invalid-identifier"
    title = "The identifier cannot be read"


class ConflictError(WorldbookError):
    """The change clashes with what the directory already holds."""

    status = status.HTTP_409_CONFLICT
    slug = "conflict"
    title = "Conflict"


class HandleTaken(ConflictError):
    """A directory handle equal to, or looking like, an existing one."""

    slug = "handle-taken"
    title = "That handle is taken"


class NotFound(WorldbookError):
    """Missing, or hidden from this caller: the two are never told apart."""

    status = status.HTTP_404_NOT_FOUND
    slug = "not-found"
    title = "Not found"


class Forbidden(WorldbookError):
    status = status.HTTP_403_FORBIDDEN
    slug = "forbidden"
    title = "Forbidden"


def problem(status_code: int, title: str, detail: str, slug: str, **extra: Any) -> dict[str, Any]:
    """Build an RFC 9457 problem document (a dict ready to serialize as JSON)."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status_code,
        "detail": detail,
    }
    body.update({k: v for k, v in extra.items() if v})
    return body


def problem_response(
    body: dict[str, Any], headers: dict[str, str] | None = None, *, request=None
) -> Response:
    """Wrap a problem document in a DRF response served as ``application/problem+json``.

    When content negotiation picked a non-JSON renderer for ``request`` (the browsable
    API's HTML page), the renderer's own media type is kept, so the label never
    contradicts the body.
    """
    response = Response(body, status=body["status"], headers=headers)
    renderer = getattr(request, "accepted_renderer", None)
    if renderer is None or renderer.format == "json":
        response.content_type = PROBLEM_CONTENT_TYPE
    return response


_DRF_SLUGS = {
    drf_exceptions.ParseError: ("malformed-request", "Malformed request"),
    drf_exceptions.AuthenticationFailed: ("unauthenticated", "Authentication failed"),
    drf_exceptions.NotAuthenticated: ("unauthenticated", "Authentication required"),
    drf_exceptions.PermissionDenied: ("forbidden", "Forbidden"),
    drf_exceptions.NotFound: ("not-found", "Not found"),
    drf_exceptions.MethodNotAllowed: ("method-not-allowed", "Method not allowed"),
    drf_exceptions.NotAcceptable: ("not-acceptable", "Not acceptable"),
    drf_exceptions.UnsupportedMediaType: ("unsupported-media-type", "Unsupported media type"),
    drf_exceptions.Throttled: ("rate-limited", "Too many requests"),
    drf_exceptions.ValidationError: ("invalid-request", "The request is not valid"),
}


def _flatten(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(value, dict):
                for sub, msgs in _flatten(value).items():
                    out[f"{key}.{sub}"] = msgs
            elif isinstance(value, list):
                out[str(key)] = [str(v) for v in value]
            else:
                out[str(key)] = [str(value)]
        return out
    if isinstance(detail, list):
        return {"non_field_errors": [str(v) for v in detail]}
    return {"non_field_errors": [str(detail)]}


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF ``EXCEPTION_HANDLER``: every error becomes an RFC 9457 problem document."""
    request = context.get("request")
    if isinstance(exc, WorldbookError):
        return problem_response(
            problem(exc.status, exc.title, exc.detail, exc.slug, errors=exc.errors),
            request=request,
        )
    if isinstance(exc, RequestDataTooBig):
        return problem_response(
            problem(
                status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                "Request too large",
                f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
                "request-too-large",
            ),
            request=request,
        )
    if isinstance(exc, DjangoValidationError):
        exc = drf_exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    elif isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    slug, title = next(
        (v for cls, v in _DRF_SLUGS.items() if isinstance(exc, cls)), ("error", "Error")
    )
    if isinstance(exc, drf_exceptions.ValidationError):
        errors = _flatten(exc.detail)
        detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items())
        body = problem(response.status_code, title, detail, slug, errors=errors)
    else:
        body = problem(response.status_code, title, str(getattr(exc, "detail", exc)), slug)
    kept = ("retry-after", "allow", "www-authenticate")
    headers = {k: v for k, v in response.items() if k.lower() in kept}
    return problem_response(body, headers, request=request)


API_PREFIX = "/api/"


# SQLSTATE classes of a database that refuses or drops connections (PostgreSQL appendix A):
# 08 connection exception, 53 insufficient resources (53300 too many connections),
# 57P01–57P03 admin shutdown, crash shutdown, cannot connect now.
_REFUSAL_STATES = ("08", "53", "57P01", "57P02", "57P03")


def database_refused(exc: BaseException | None) -> bool:
    """Whether ``exc`` means the database cannot take the request now (refused or lost
    connection, too many clients, shutting down, a locked SQLite file), as opposed to a
    fault in the query. Errors with no SQLSTATE from PostgreSQL's driver are failures to
    connect."""
    from django.db import InterfaceError, OperationalError

    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    cause = exc.__cause__
    module = type(cause).__module__ if cause is not None else ""
    if module.startswith("psycopg"):
        state = getattr(cause, "sqlstate", None)
        return state is None or state.startswith(_REFUSAL_STATES)
    if module.startswith("sqlite3"):
        return "locked" in str(cause) or "unable to open" in str(cause)
    return isinstance(exc, InterfaceError)


def service_unavailable(request):
    """The 503 answer (RFC 9110 §15.6.4) with ``Retry-After: DATABASE_RETRY_AFTER``: an RFC
    9457 problem document under ``/api/``, the styled page elsewhere. It reads nothing from
    the database (the page is shown as to a signed-out visitor)."""
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpResponse, JsonResponse
    from django.template import loader

    retry_after = settings.DATABASE_RETRY_AFTER
    if request.path_info.startswith(API_PREFIX):
        body = problem(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "Service unavailable",
            f"The directory cannot answer right now; try again in {retry_after} seconds.",
            "service-unavailable",
        )
        response = JsonResponse(body, status=503, content_type=PROBLEM_CONTENT_TYPE)
    else:
        page = loader.get_template("503.html").render(
            {"retry_after": retry_after, "user": AnonymousUser(), "messages": []}, request
        )
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(retry_after)
    return response


def server_error(request, *args: Any, **kwargs: Any):
    """``handler500``: when the database refused the request (:func:`database_refused`),
    :func:`service_unavailable`'s 503 with ``Retry-After``; otherwise, under ``/api/``, a
    500 RFC 9457 problem document (JSON clients never get the HTML error page), and on
    other paths Django's own 500 page. Django has logged the exception before this runs."""
    import sys

    from django.http import JsonResponse
    from django.views.defaults import server_error as html_server_error

    if database_refused(sys.exc_info()[1]):
        return service_unavailable(request)
    if request.path_info.startswith(API_PREFIX):
        body = problem(
            status.HTTP_500_INTERNAL_SERVER_ERROR,
            "Internal server error",
            "The server failed to answer this request; the error was logged.",
            "server-error",
        )
        return JsonResponse(body, status=500, content_type=PROBLEM_CONTENT_TYPE)
    return html_server_error(request)
