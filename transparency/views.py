"""The log's public HTTP interface: its description and its latest checkpoint."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from directory.exceptions import PROBLEM_CONTENT_TYPE, problem
from transparency.keys import log_signer
from transparency.selectors import latest_checkpoint_note


def _not_configured() -> JsonResponse:
    body = problem(
        503,
        _("The transparency log is not available"),
        _("This server has no transparency log signing key."),
        "log-unavailable",
    )
    return JsonResponse(body, status=503, content_type=PROBLEM_CONTENT_TYPE)


@require_safe
def log_index(request: HttpRequest) -> HttpResponse:
    """``GET /log/``: JSON naming the log's ``origin`` and its ``verifier_key``.

    The verifier key is the c2sp.org/signed-note key that signs every checkpoint; a calling
    app pins it. 503 (problem details) when the log has no signing key.
    """
    signer = log_signer()
    if signer is None:
        return _not_configured()
    return JsonResponse({"origin": signer.name, "verifier_key": signer.verifier.key})


@require_safe
def checkpoint(request: HttpRequest) -> HttpResponse:
    """``GET /log/checkpoint``: the latest signed checkpoint (c2sp.org/tlog-checkpoint).

    Served as text/plain, never cached, as c2sp.org/tlog-tiles asks. 503 (problem details)
    when the log has no signing key.
    """
    note = latest_checkpoint_note()
    if note is None:
        return _not_configured()
    response = HttpResponse(note, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response
