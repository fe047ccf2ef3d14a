"""The owner's page for proving handles: ``/account/entries/<handle>/verification``.

It lists the entry's handles with where each proof stands in plain words, and lets the
owner start a proof, ask for a check now (with a post URL for X and Telegram) or give an
email code. Owner only (404 for a missing or hidden entry, 403 for someone else's); every
POST counts against ``THROTTLE_VERIFY`` per account (django-ratelimit).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import is_ratelimited

from directory.exceptions import WorldbookError
from directory.selectors import entry_get_for_owner
from directory.verification.selectors import verification_state
from directory.verification.services import (
    verification_confirm_code,
    verification_request_check,
    verification_start,
)


def _rate(group, request) -> str:
    return settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["verify"]


def _act(request: HttpRequest, handle) -> str:
    action = request.POST.get("action")
    proof_url = request.POST.get("proof_url", "").strip()
    if action == "start":
        verification_start(handle=handle, proof_url=proof_url)
        return "Started: follow the instructions below, then ask for a check."
    if action == "check":
        verification_request_check(handle=handle, proof_url=proof_url)
        return "Checking now; reload this page in a moment for the result."
    if action == "code":
        verification_confirm_code(handle=handle, code=request.POST.get("code", ""))
        return "Thank you: the address is proved."
    return "Nothing to do."


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def verification_page(request: HttpRequest, handle: str) -> HttpResponse:
    """``GET/POST /account/entries/<handle>/verification``: the proofs of an entry's handles."""
    try:
        entry = entry_get_for_owner(handle, user=request.user, require_active=False)
    except WorldbookError as exc:
        return render(
            request, "directory/error.html",
            {"title": "No such entry" if exc.status == 404 else "Forbidden",
             "message": exc.detail}, status=exc.status,
        )  # fmt: skip
    status = 200
    if request.method == "POST":
        claim = next(
            (h for h in entry.handles.all() if str(h.pk) == request.POST.get("handle_id")), None
        )
        if is_ratelimited(request, group="verification-page", key="user", rate=_rate,
                          method="POST", increment=True):  # fmt: skip
            messages.error(request, "Too many verification requests; try again later.")
            status = 429
        elif claim is None:
            messages.error(request, "This entry claims no such handle.")
            status = 404
        else:
            try:
                messages.success(request, _act(request, claim))
            except WorldbookError as exc:
                messages.error(request, exc.detail)
                status = exc.status
            else:
                return redirect("verification:page", handle=entry.handle_canonical)
    states = [verification_state(h) for h in entry.handles.all()]
    return render(
        request, "verification/handles.html", {"entry": entry, "states": states}, status=status
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def proof_page(request: HttpRequest, handle: str, handle_id: int) -> HttpResponse:
    """``GET /account/entries/<handle>/handles/<id>/proof``: the proof of one handle.

    For now the entry's list of proofs, at that handle's row.
    """
    return redirect(
        reverse("verification:page", kwargs={"handle": handle}) + f"#handle-{handle_id}"
    )
