"""Pages: the owner's phone numbers (link, verify, retire, forward audience) and contact
discovery from a vCard file ("who moved where").

Every page needs a signed-in person. Errors are shown on the page with a 4xx status and
change nothing. The uploaded vCard file is read in memory and never stored.
"""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.contacts import acting_entry, import_size_check, upload_size_check
from directory.exceptions import NormalizationError, NotFound, WorldbookError
from directory.models import Endpoint, Entry
from directory.numbers import services
from directory.numbers.address_book import address_book_numbers
from directory.numbers.errors import LimitReached
from directory.numbers.lookup import discover, quota_client
from directory.numbers.models import LinkedNumber, LookupQuota
from directory.numbers.selectors import numbers_for_owner
from directory.numbers.throttling import page_throttle_wait
from directory.selectors import entry_get_for_owner


def _error(request: HttpRequest, exc: WorldbookError, title: str) -> HttpResponse:
    return render(
        request, "directory/error.html", {"title": title, "message": exc.detail}, status=exc.status
    )


def _throttled(request: HttpRequest, wait: int, title: str) -> HttpResponse:
    response = _error(
        request,
        LimitReached(_("Too many requests; try again in %(wait)d seconds.") % {"wait": wait}),
        title,
    )
    response["Retry-After"] = str(wait)
    return response


def _page_context(user) -> dict:
    entries = list(Entry.objects.filter(owner=user).order_by("created_at", "pk"))
    return {
        "entries": [(entry, numbers_for_owner(entry)) for entry in entries],
        "audiences": Endpoint.Audience.choices,
        "default_days": settings.NUMBER_FORWARD_DAYS,
        "max_days": settings.NUMBER_FORWARD_MAX_DAYS,
    }


@login_required
@require_http_methods(["GET", "HEAD"])
def numbers_page(request: HttpRequest) -> HttpResponse:
    """``GET /account/numbers``: each of the person's entries with its numbers and forms."""
    return render(request, "numbers/numbers.html", _page_context(request.user))


def _back() -> HttpResponse:
    return redirect(reverse("numbers:list"))


@login_required
@require_POST
def send_code_view(request: HttpRequest) -> HttpResponse:
    """``POST /account/numbers/send`` (``entry``, ``number``, ``region``): text a code.
    Throttled with the API's ``number_send`` rates."""
    wait = page_throttle_wait(request, "number_send")
    if wait is not None:
        return _throttled(request, wait, _("No code sent"))
    try:
        entry = entry_get_for_owner(request.POST.get("entry", ""), user=request.user)
        services.number_send_code(
            entry=entry,
            raw=request.POST.get("number", ""),
            region=request.POST.get("region", "").strip() or None,
            request=request,
        )
    except WorldbookError as exc:
        return _error(request, exc, _("No code sent"))
    messages.success(request, _("A code is on its way. Enter it below to link the number."))
    return _back()


@login_required
@require_POST
def verify_view(request: HttpRequest) -> HttpResponse:
    """``POST /account/numbers/verify`` (``entry``, ``number``, ``code``, ``region``)."""
    try:
        entry = entry_get_for_owner(request.POST.get("entry", ""), user=request.user)
        linked = services.number_verify(
            entry=entry,
            raw=request.POST.get("number", ""),
            code=request.POST.get("code", ""),
            region=request.POST.get("region", "").strip() or None,
            request=request,
        )
    except WorldbookError as exc:
        return _error(request, exc, _("Number not linked"))
    messages.success(
        request,
        _("The number %(number)s is linked to @%(handle)s.")
        % {"number": linked.masked, "handle": entry.handle},
    )
    return _back()


def _owned(request: HttpRequest, number_id: int) -> LinkedNumber:
    linked = (
        LinkedNumber.objects.filter(pk=number_id, entry__owner=request.user)
        .select_related("entry")
        .first()
    )
    if linked is None:
        raise NotFound(_("You have no such number."))
    entry_get_for_owner(linked.entry.handle_canonical, user=request.user)
    return linked


@login_required
@require_POST
def retire_view(request: HttpRequest, number_id: int) -> HttpResponse:
    """``POST /account/numbers/<id>/retire`` (``days``, ``audience``): start forwarding."""
    try:
        linked = _owned(request, number_id)
        days_text = request.POST.get("days", "").strip()
        if days_text and not days_text.isdigit():
            raise WorldbookError(_("The forwarding window is a number of days."))
        linked = services.number_retire_start(
            linked=linked,
            days=int(days_text) if days_text else None,
            audience=request.POST.get("audience") or None,
            request=request,
        )
    except WorldbookError as exc:
        return _error(request, exc, _("Not retired"))
    messages.success(
        request,
        _("%(number)s now forwards to @%(handle)s until %(until)s; then it is purged.")
        % {
            "number": linked.masked,
            "handle": linked.entry.handle,
            "until": date_format(linked.forward_until, "j M Y"),
        },
    )
    return _back()


@login_required
@require_POST
def audience_view(request: HttpRequest, number_id: int) -> HttpResponse:
    """``POST /account/numbers/<id>/audience`` (``audience``): who sees the forward."""
    try:
        linked = services.number_set_forward_audience(
            linked=_owned(request, number_id),
            audience=request.POST.get("audience", ""),
            request=request,
        )
    except WorldbookError as exc:
        return _error(request, exc, _("Not changed"))
    messages.success(
        request, _("Who sees the forward of %(number)s: changed.") % {"number": linked.masked}
    )
    return _back()


@login_required
@require_POST
def notice_dismiss_view(request: HttpRequest, notice_id: int) -> HttpResponse:
    """``POST /account/numbers/notices/<id>/dismiss`` (``as``): hide a contacts notice."""
    try:
        owner = acting_entry(user=request.user, handle=request.POST.get("as"))
    except WorldbookError as exc:
        return _error(request, exc, _("Not dismissed"))
    services.notice_dismiss(recipient=owner, notice_id=notice_id)
    return redirect(f"{reverse('contacts:list')}?as={owner.handle_canonical}")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def discover_page(request: HttpRequest) -> HttpResponse:
    """``/discover``: upload a vCard file and see which of its numbers moved where.

    Only numbers inside their forwarding window whose forward the policy lets this
    person see are named; every other number is simply not listed. The file is read in
    memory, at most the contacts import's size, and forgotten with the response. A POST
    is throttled with the API's ``discover`` rates, and the file's distinct numbers are
    counted against ``NUMBER_DISCOVER_PER_DAY`` all at once: a file past what is left of
    the day's limit is refused whole and counts nothing.
    """
    context: dict = {"max_items": settings.NUMBER_DISCOVER_MAX_ITEMS, "searched": None}
    if request.method != "POST":
        return render(request, "numbers/discover.html", context)
    wait = page_throttle_wait(request, "discover")
    if wait is not None:
        context["error"] = _("Too many requests; try again in %(wait)d seconds.") % {"wait": wait}
        response = render(request, "numbers/discover.html", context, status=429)
        response["Retry-After"] = str(wait)
        return response
    try:
        region = request.POST.get("region", "").strip().upper() or None
        if region and region not in phonenumbers.SUPPORTED_REGIONS:
            raise NormalizationError(
                _("%(region)s is not a region code (ISO 3166-1 alpha-2, like US or DE).")
                % {"region": repr(region)}
            )
        upload_size_check(request.META.get("CONTENT_LENGTH"))
        upload = request.FILES.get("file")
        if upload is None:
            raise WorldbookError(_("Choose a vCard file (.vcf)."))
        import_size_check(upload.size)
        book = address_book_numbers(data=upload.read(), region=region)
        numbers, problems = book.numbers, book.problems
        upload.close()
        unique = list(dict.fromkeys(e164 for _name, e164 in numbers))
        client = quota_client(request.user)
        if unique:  # The whole file or nothing: one charge before any lookup.
            services.quota_take(
                client=client,
                kind=LookupQuota.Kind.DISCOVER,
                items=len(unique),
                limit=settings.NUMBER_DISCOVER_PER_DAY,
            )
        moved: dict[str, Entry] = {}
        step = settings.NUMBER_DISCOVER_MAX_ITEMS
        for start in range(0, len(unique), step):
            for answer in discover(
                unique[start : start + step], caller=request.user, client=client, charge=False
            ):
                if answer.entry is not None:
                    moved[answer.query] = answer.entry
    except WorldbookError as exc:
        context["error"] = exc.detail
        return render(request, "numbers/discover.html", context, status=exc.status)
    context.update(
        {
            "searched": len(unique),
            "moved": [(name, moved[e164]) for name, e164 in numbers if e164 in moved],
            "problems": problems,
        }
    )
    return render(request, "numbers/discover.html", context)
