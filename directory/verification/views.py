"""The owner's pages for proving handles.

- ``/account/entries/<handle>/verification`` (``verification:page``): the entry's handles,
  each with where its proof stands and a link to its proof page.
- ``/account/entries/<handle>/handles/<id>/proof`` (``verification:proof``): the proof of
  one handle, step by step: what to publish and where (each value with a Copy button),
  "Check now", the state and the last check's reason; an email address takes its code.

Owner only (404 for a missing or hidden entry or handle, 403 for someone else's entry);
every POST counts against ``THROTTLE_VERIFY`` per account (django-ratelimit), as the API's
``verify`` scope does. Checks run on the Celery worker: after "Check now" the proof page
says a check is running until its result is recorded (``static/verification.js`` reloads
that part of the page when it is).
"""

from __future__ import annotations

import time

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import is_ratelimited

from directory.exceptions import WorldbookError
from directory.models import Entry, Handle
from directory.selectors import entry_get_for_owner
from directory.verification.errors import CodeMalformed, CodeRejected
from directory.verification.selectors import Phase, VerificationState, verification_state
from directory.verification.services import (
    EMAIL_CODE_DIGITS,
    verification_confirm_code,
    verification_request_check,
    verification_start,
)

# Session key: handle id → [id of its newest check when "Check now" was pressed, time].
CHECKING = "verification-checking"
# After this long without a result the page stops saying a check is running.
CHECKING_SECONDS = 120


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=32,
        help_text=lazy(
            lambda: _("The %(digits)s digits from the email.") % {"digits": EMAIL_CODE_DIGITS},
            str,
        )(),
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "class": "narrow"}
        ),
    )


class ProofUrlForm(forms.Form):
    proof_url = forms.CharField(
        label=gettext_lazy("Address of your post"),
        max_length=2048,
        required=False,
        widget=forms.URLInput(attrs={"inputmode": "url", "spellcheck": "false"}),
    )


def _rate(group, request) -> str:
    return settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["verify"]


def _error_page(request: HttpRequest, exc: WorldbookError) -> HttpResponse:
    title = _("No such entry") if exc.status == 404 else _("Forbidden")
    return render(
        request, "directory/error.html", {"title": title, "message": exc.detail},
        status=exc.status,
    )  # fmt: skip


def _throttled(request: HttpRequest) -> bool:
    return is_ratelimited(
        request, group="verification-page", key="user", rate=_rate, method="POST", increment=True
    )


def _remember_check(request: HttpRequest, handle: Handle) -> None:
    newest = handle.verification_checks.order_by("-created_at", "-id").first()
    pending = dict(request.session.get(CHECKING, {}))
    pending[str(handle.pk)] = [newest.pk if newest else 0, time.time()]
    request.session[CHECKING] = pending


def _check_running(request: HttpRequest, state: VerificationState) -> bool:
    """True while the check asked for on this page has not been recorded yet."""
    pending = request.session.get(CHECKING, {})
    asked = pending.get(str(state.handle.pk))
    if asked is None:
        return False
    newest = state.last_check.pk if state.last_check else 0
    if newest != asked[0] or time.time() - asked[1] > CHECKING_SECONDS:
        pending = dict(pending)
        del pending[str(state.handle.pk)]
        request.session[CHECKING] = pending
        return False
    return True


def _act(request: HttpRequest, handle: Handle, action: str) -> str:
    """Run the one service ``action`` asks for; return the message to show. Raises the
    service's :class:`WorldbookError`."""
    proof_url = request.POST.get("proof_url", "").strip()
    if action == "start":
        verification_start(handle=handle, proof_url=proof_url)
        if handle.kind == "email":
            return _("We sent a code to %(address)s.") % {"address": handle.canonical}
        return _("Started: follow the steps below, then press “Check now”.")
    if action == "check":
        verification_request_check(handle=handle, proof_url=proof_url)
        _remember_check(request, handle)
        return _("Checking now: the result shows here in a moment.")
    if action == "code":
        verification_confirm_code(handle=handle, code=request.POST.get("code", ""))
        return _("Thank you: the address is proved.")
    return _("Nothing to do.")


def _render_proof(request, entry: Entry, state: VerificationState, *, status: int = 200,
                  code_form=None, url_form=None) -> HttpResponse:  # fmt: skip
    challenge_url = state.challenge.proof_url if state.challenge else ""
    context = {
        "entry": entry,
        "state": state,
        "Phase": Phase,
        "checking": _check_running(request, state),
        "code_form": code_form or CodeForm(),
        "url_form": url_form or ProofUrlForm(initial={"proof_url": challenge_url}),
        "proof_path": reverse(
            "verification:proof",
            kwargs={"handle": entry.handle_canonical, "handle_id": state.handle.pk},
        ),
    }
    return render(request, "verification/proof.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def proof_page(request: HttpRequest, handle: str, handle_id: int) -> HttpResponse:
    """``GET/POST /account/entries/<handle>/handles/<id>/proof``: the proof of one handle.

    POST ``action``: ``start`` (a new token, or a new email code), ``check`` (with
    ``proof_url`` for X and Telegram), ``code`` (with ``code``). Output: a redirect to the
    page on success; the page with the error beside its field (status of the error) or
    429 when throttled; 404 for a handle the entry does not claim.
    """
    try:
        entry = entry_get_for_owner(
            handle, user=request.user, require_active=request.method == "POST"
        )
    except WorldbookError as exc:
        return _error_page(request, exc)
    claim = next((h for h in entry.handles.all() if h.pk == handle_id), None)
    if claim is None:
        return render(
            request, "directory/error.html",
            {"title": _("No such handle"), "message": _("This entry claims no such handle.")},
            status=404,
        )  # fmt: skip
    claim.entry = entry
    if request.method != "POST":
        return _render_proof(request, entry, verification_state(claim))

    action = request.POST.get("action", "")
    code_form = CodeForm(request.POST if action == "code" else None)
    url_form = ProofUrlForm(request.POST if action in ("check", "start") else None)
    if _throttled(request):
        messages.error(request, _("Too many verification requests; try again later."))
        return _render_proof(request, entry, verification_state(claim), status=429,
                             code_form=code_form, url_form=url_form)  # fmt: skip
    try:
        done = _act(request, claim, action)
    except WorldbookError as exc:
        if isinstance(exc, (CodeMalformed, CodeRejected)):
            code_form.is_valid()
            code_form.add_error("code", exc.detail)
        elif action in ("check", "start") and request.POST.get("proof_url", "").strip():
            url_form.is_valid()
            url_form.add_error("proof_url", exc.detail)
        else:
            messages.error(request, exc.detail)
        claim.refresh_from_db()
        return _render_proof(request, entry, verification_state(claim), status=exc.status,
                             code_form=code_form, url_form=url_form)  # fmt: skip
    messages.success(request, done)
    return redirect("verification:proof", handle=entry.handle_canonical, handle_id=claim.pk)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def verification_page(request: HttpRequest, handle: str) -> HttpResponse:
    """``GET /account/entries/<handle>/verification``: the entry's handles, each with its
    state and a link to its proof page.

    POST (kept for older links and clients): ``handle_id`` and ``action`` as on the proof
    page; on success it redirects to that handle's proof page.
    """
    try:
        entry = entry_get_for_owner(handle, user=request.user, require_active=False)
    except WorldbookError as exc:
        return _error_page(request, exc)
    status = 200
    if request.method == "POST":
        claim = next(
            (h for h in entry.handles.all() if str(h.pk) == request.POST.get("handle_id")), None
        )
        if _throttled(request):
            messages.error(request, _("Too many verification requests; try again later."))
            status = 429
        elif claim is None:
            messages.error(request, _("This entry claims no such handle."))
            status = 404
        elif entry.status != Entry.Status.ACTIVE:
            messages.error(
                request, _("This entry is suspended: it can be read, not changed or deleted.")
            )
            status = 403
        else:
            claim.entry = entry
            try:
                messages.success(request, _act(request, claim, request.POST.get("action", "")))
            except WorldbookError as exc:
                messages.error(request, exc.detail)
                status = exc.status
            else:
                return redirect(
                    "verification:proof", handle=entry.handle_canonical, handle_id=claim.pk
                )
    states = []
    for claimed in entry.handles.all():
        claimed.entry = entry
        states.append(verification_state(claimed))
    return render(
        request, "verification/handles.html", {"entry": entry, "states": states}, status=status
    )
