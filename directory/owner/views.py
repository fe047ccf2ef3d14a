"""Owner pages: a signed-in person creates and manages their own entries.

Every page starts from :func:`directory.selectors.entry_get_for_owner`, as the owner API
does: a missing entry, and a suspended one the person does not own, answer 404 alike;
someone else's visible entry answers 403. A suspended entry can be read by its owner,
not changed (403, saying so) nor deleted (409). Every write is one of
:mod:`directory.services` (the API's own); a service error is shown beside the field it
concerns, with the bound form and the error's status, and nothing is half-saved.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_ratelimit.core import get_usage as _get_usage

from accounts.contact_policy import policy_update
from directory.cache import with_local_fallback
from directory.display import endpoint_display, handle_display, handles_for, service_name
from directory.exceptions import (
    ConflictError,
    Forbidden,
    HandleTaken,
    NormalizationError,
    NotFound,
    WorldbookError,
)
from directory.models import Endpoint, Entry, Handle
from directory.normalization import normalize_directory_handle, normalize_endpoint_uri
from directory.owner.forms import (
    PREFERENCE_MAX,
    EndpointAddForm,
    EndpointEditForm,
    EntryCreateForm,
    EntryEditForm,
    HandleAddForm,
    add_service_error,
    audience_label,
)
from directory.selectors import entry_get_for_owner
from directory.services import (
    PREFERENCE_STEP,
    directory_handle_check_available,
    endpoint_add,
    endpoint_move,
    endpoint_remove,
    endpoint_set_uri,
    endpoint_update,
    entry_create,
    entry_delete,
    entry_update,
    handle_add,
    handle_remove,
)
from directory.verification.selectors import verification_state

# Counted per process while Redis is down (directory.cache.with_local_fallback).
get_usage = with_local_fallback(_get_usage)

OwnerView = Callable[..., HttpResponse]


def _error_page(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    return render(
        request, "directory/error.html", {"title": title, "message": message}, status=status
    )


def _suspended_page(request: HttpRequest, entry: Entry) -> HttpResponse:
    return render(request, "owner/suspended.html", {"entry": entry}, status=403)


def owner_page(*, require_active: bool = True) -> Callable[[OwnerView], OwnerView]:
    """Decorate an owner page ``view(request, entry, **kwargs)`` taking ``handle``.

    Signs the person in first (a redirect to the sign-in page), then fetches the entry
    with :func:`entry_get_for_owner`: 404 or 403 as the API answers. With
    ``require_active`` a suspended entry is refused with a 403 page that says so.
    """

    def decorate(view: OwnerView) -> OwnerView:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, handle: str, **kwargs) -> HttpResponse:
            try:
                entry = entry_get_for_owner(handle, user=request.user, require_active=False)
            except NotFound:
                return _error_page(
                    request, 404, _("No such entry"), _("No entry answers to that handle.")
                )
            except Forbidden:
                return _error_page(
                    request, 403, _("Not your entry"),
                    _("Only the owner of this entry may manage it."),
                )  # fmt: skip
            if require_active and entry.status != Entry.Status.ACTIVE:
                return _suspended_page(request, entry)
            return view(request, entry, **kwargs)

        return wrapped

    return decorate


def _owned_endpoint(entry: Entry, endpoint_id: int) -> Endpoint | None:
    return next((e for e in entry.endpoints.all() if e.pk == endpoint_id), None)


def _owned_handle(entry: Entry, handle_id: int) -> Handle | None:
    return next((h for h in entry.handles.all() if h.pk == handle_id), None)


def _no_such(request: HttpRequest, what: str) -> HttpResponse:
    return _error_page(request, 404, _("Not found"), what)


def _manage(entry: Entry) -> HttpResponse:
    return redirect("owner:entry", handle=entry.handle_canonical)


@login_required
def my_entry(request: HttpRequest) -> HttpResponse:
    """``GET /account/my-entry``: "My entry" in the header.

    Leads to the manage page of the person's entry when they have exactly one, to the
    page that creates one when they have none, and to their account page (which lists
    them) when they have several.
    """
    handles = list(
        Entry.objects.filter(owner=request.user).values_list("handle_canonical", flat=True)[:2]
    )
    if len(handles) == 1:
        return redirect("owner:entry", handle=handles[0])
    if not handles:
        return redirect("owner:entry-create")
    return redirect("accounts:home")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def entry_create_page(request: HttpRequest) -> HttpResponse:
    """``GET/POST /account/entries/new``: create an entry (nickname, handle, listed).

    The handle's availability is checked as the person types (``owner.js`` asks
    :func:`handle_check`) and always again by :func:`directory.services.entry_create`
    on submit: a taken or look-alike handle is refused beside the field (409).
    """
    status = 200
    if request.method == "POST":
        form = EntryCreateForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                entry = entry_create(owner=request.user, **form.cleaned_data)
            except (HandleTaken, NormalizationError) as exc:
                add_service_error(form, exc, "handle")
                status = exc.status
            else:
                messages.success(
                    request,
                    _("Your entry @%(handle)s is in the directory. Add the ways to reach "
                      "you, then the handles you can prove.") % {"handle": entry.handle},
                )  # fmt: skip
                return _manage(entry)
    else:
        form = EntryCreateForm()
    return render(request, "owner/entry_create.html", {"form": form}, status=status)


def _endpoint_rows(entry: Entry) -> list[dict]:
    endpoints = list(entry.endpoints.all())
    return [
        {
            "endpoint": e,
            "display": endpoint_display(e),
            "service": service_name(e.service),
            "audience": audience_label(e.audience),
            "first": i == 0,
            "last": i == len(endpoints) - 1,
        }
        for i, e in enumerate(endpoints)
    ]


def _handle_rows(entry: Entry, user) -> list[dict]:
    return [
        {"view": view, "state": verification_state(view.handle)}
        for view in handles_for(entry, user)
    ]


@owner_page(require_active=False)
@require_safe
def entry_manage_page(request: HttpRequest, entry: Entry) -> HttpResponse:
    """``GET /account/entries/<handle>/``: the entry's manage page.

    Its summary, endpoints (with audience, capabilities, order and their buttons),
    handles with where each proof stands and a link to it, and links to edit, policy,
    proofs, delete and the public page. A suspended entry is shown with a notice and no
    way to change it.
    """
    context = {
        "entry": entry,
        "is_suspended": entry.status != Entry.Status.ACTIVE,
        "endpoints": _endpoint_rows(entry),
        "handles": _handle_rows(entry, request.user),
    }
    return render(request, "owner/entry.html", context)


@owner_page(require_active=False)
@require_safe
def entry_log_page(request: HttpRequest, entry: Entry) -> HttpResponse:
    """``GET /account/entries/<handle>/log``: every transparency log record of the
    entry's directory handle, newest first (:func:`transparency.selectors.owner_log`).

    Each record says what the handle answered after one change: whether it answered, its
    verified handles, and which of the entry's endpoints it commits to; commitments no
    current endpoint opens are counted, so an endpoint the owner never set stands out.
    """
    from transparency.selectors import owner_log

    records = owner_log(entry)
    context = {"entry": entry, "records": records, "alerts": sum(r["alert"] for r in records)}
    return render(request, "owner/log.html", context)


@owner_page()
@require_http_methods(["GET", "HEAD", "POST"])
def entry_edit_page(request: HttpRequest, entry: Entry) -> HttpResponse:
    """``GET/POST /account/entries/<handle>/edit``: change the nickname or the handle
    (:func:`directory.services.entry_update`); a new handle is checked as on creation."""
    status = 200
    if request.method == "POST":
        form = EntryEditForm(request.POST)
        status = 400
        if form.is_valid():
            changes = {"nickname": form.cleaned_data["nickname"]}
            if normalize_directory_handle(form.cleaned_data["handle"]).display != entry.handle:
                changes["handle"] = form.cleaned_data["handle"]
            try:
                entry = entry_update(entry=entry, **changes)
            except (HandleTaken, NormalizationError) as exc:
                add_service_error(form, exc, "handle")
                status = exc.status
                entry.refresh_from_db()
            else:
                messages.success(request, _("Saved."))
                return _manage(entry)
    else:
        form = EntryEditForm(initial={"nickname": entry.nickname, "handle": entry.handle})
    return render(request, "owner/entry_edit.html", {"entry": entry, "form": form}, status=status)


@owner_page(require_active=False)
@require_http_methods(["GET", "HEAD", "POST"])
def entry_delete_page(request: HttpRequest, entry: Entry) -> HttpResponse:
    """``GET/POST /account/entries/<handle>/delete``: confirm, then delete the entry with
    its handles and endpoints (:func:`directory.services.entry_delete`). A suspended
    entry is refused (409) with the reason, as in the API."""
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        try:
            entry_delete(entry=entry)
        except ConflictError as exc:
            errors.append(exc.detail)
            status = exc.status
        else:
            messages.success(request, _("@%(handle)s is deleted.") % {"handle": entry.handle})
            return redirect("accounts:home")
    context = {
        "entry": entry,
        "errors": errors,
        "title": _("Delete @%(handle)s?") % {"handle": entry.handle},
        "explanation": _(
            "Your entry, its handles and proofs, and its endpoints are deleted. People who "
            "saved you as a contact can no longer reach you through Worldbook. This cannot "
            "be undone."
        ),
        "button": _("Delete the entry"),
    }
    return render(request, "owner/confirm.html", context, status=status)


def _next_preference(entry: Entry) -> int:
    last = max((e.preference for e in entry.endpoints.all()), default=0)
    return min(last + PREFERENCE_STEP, PREFERENCE_MAX)


@owner_page()
@require_http_methods(["GET", "HEAD", "POST"])
def endpoint_add_page(request: HttpRequest, entry: Entry) -> HttpResponse:
    """``GET/POST /account/entries/<handle>/endpoints/new``: add an endpoint
    (:func:`directory.services.endpoint_add`): URI, label, audience, capabilities
    (left out: what the scheme offers), order (default: after the others)."""
    status = 200
    if request.method == "POST":
        form = EndpointAddForm(request.POST)
        status = 400
        if form.is_valid():
            fields = dict(form.cleaned_data)
            fields["capabilities"] = fields["capabilities"] or None
            try:
                # endpoint_add updates an endpoint with the same URI (the API's upsert);
                # on this page that would silently change its audience and label.
                normal = normalize_endpoint_uri(fields["uri"], region=fields["region"])
                if entry.endpoints.filter(uri=normal.uri).exists():
                    raise ConflictError(
                        _("You already list this address. Use Edit beside it to change it.")
                    )
                endpoint_add(entry=entry, **fields)
            except (NormalizationError, ConflictError) as exc:
                add_service_error(form, exc, "uri")
                status = exc.status
            else:
                messages.success(request, _("Endpoint added."))
                return _manage(entry)
    else:
        form = EndpointAddForm(initial={"preference": _next_preference(entry)})
    return render(
        request, "owner/endpoint_form.html", {"entry": entry, "form": form}, status=status
    )


@owner_page()
@require_http_methods(["GET", "HEAD", "POST"])
def endpoint_edit_page(request: HttpRequest, entry: Entry, endpoint_id: int) -> HttpResponse:
    """``GET/POST /account/entries/<handle>/endpoints/<id>/edit``: change an endpoint's
    URI, label, audience, capabilities and order, all or nothing. A new audience goes
    through :func:`accounts.contact_policy.policy_update` (a ``policy_changed`` audit
    event), the rest through :func:`endpoint_set_uri` and :func:`endpoint_update`."""
    endpoint = _owned_endpoint(entry, endpoint_id)
    if endpoint is None:
        return _no_such(request, _("This entry has no endpoint with that id."))
    status = 200
    if request.method == "POST":
        form = EndpointEditForm(request.POST)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                # One endpoint instance throughout: policy_update saves the very object
                # that the entry's prefetched endpoints hold.
                with transaction.atomic():
                    endpoint_set_uri(endpoint=endpoint, uri=data["uri"], region=data["region"])
                    policy_update(
                        entry=entry,
                        user=request.user,
                        request=request,
                        audiences={endpoint.pk: data["audience"]},
                    )
                    endpoint_update(
                        endpoint=endpoint,
                        label=data["label"],
                        preference=data["preference"],
                        capabilities=data["capabilities"],
                    )
            except (NormalizationError, ConflictError) as exc:
                add_service_error(form, exc, "uri")
                status = exc.status
            except Forbidden as exc:  # a moderator hid this endpoint
                add_service_error(form, exc, "audience")
                status = exc.status
            else:
                messages.success(request, _("Endpoint saved."))
                return _manage(entry)
            endpoint.refresh_from_db()
    else:
        form = EndpointEditForm(
            initial={
                "uri": endpoint.uri,
                "label": endpoint.label,
                "audience": endpoint.audience,
                "capabilities": endpoint.capabilities,
                "preference": endpoint.preference,
            }
        )
    context = {"entry": entry, "endpoint": endpoint, "form": form}
    return render(request, "owner/endpoint_form.html", context, status=status)


@owner_page()
@require_http_methods(["GET", "HEAD", "POST"])
def endpoint_delete_page(request: HttpRequest, entry: Entry, endpoint_id: int) -> HttpResponse:
    """``GET/POST /account/entries/<handle>/endpoints/<id>/delete``: confirm, then
    delete the endpoint (:func:`directory.services.endpoint_remove`)."""
    endpoint = _owned_endpoint(entry, endpoint_id)
    if endpoint is None:
        return _no_such(request, _("This entry has no endpoint with that id."))
    if request.method == "POST":
        endpoint_remove(endpoint=endpoint)
        messages.success(request, _("Endpoint deleted."))
        return _manage(entry)
    context = {
        "entry": entry,
        "title": _("Delete the endpoint %(uri)s?") % {"uri": endpoint_display(endpoint)},
        "explanation": _("Callers will no longer be offered this address."),
        "button": _("Delete the endpoint"),
    }
    return render(request, "owner/confirm.html", context)


@owner_page()
@require_POST
def endpoint_move_view(request: HttpRequest, entry: Entry, endpoint_id: int) -> HttpResponse:
    """``POST /account/entries/<handle>/endpoints/<id>/move`` with ``direction`` ``up``
    or ``down``: swap the endpoint with its neighbour in the order callers try them
    (:func:`directory.services.endpoint_move`), then back to the manage page at the
    endpoints."""
    endpoint = _owned_endpoint(entry, endpoint_id)
    if endpoint is None:
        return _no_such(request, _("This entry has no endpoint with that id."))
    direction = request.POST.get("direction", "")
    if direction not in ("up", "down"):
        return _error_page(request, 400, _("Bad request"), _("Move an endpoint up or down."))
    endpoint_move(endpoint=endpoint, direction=direction)
    messages.success(
        request,
        (_("Moved %(uri)s up.") if direction == "up" else _("Moved %(uri)s down."))
        % {"uri": endpoint_display(endpoint)},
    )
    return redirect(
        reverse("owner:entry", kwargs={"handle": entry.handle_canonical})
        + f"#endpoint-{endpoint.pk}"
    )


@owner_page()
@require_http_methods(["GET", "HEAD", "POST"])
def handle_add_page(request: HttpRequest, entry: Entry) -> HttpResponse:
    """``GET/POST /account/entries/<handle>/handles/new``: claim an external handle
    (:func:`directory.services.handle_add`), then go on to proving it."""
    status = 200
    if request.method == "POST":
        form = HandleAddForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                claim = handle_add(
                    entry=entry, kind=form.cleaned_data["kind"], raw=form.cleaned_data["value"]
                )
            except (NormalizationError, ConflictError) as exc:
                add_service_error(form, exc, "value")
                status = exc.status
            else:
                messages.success(
                    request,
                    _("%(handle)s is claimed. Prove it is yours so it answers lookups.")
                    % {"handle": handle_display(claim)},
                )
                return redirect(
                    "verification:proof", handle=entry.handle_canonical, handle_id=claim.pk
                )
    else:
        form = HandleAddForm()
    return render(request, "owner/handle_add.html", {"entry": entry, "form": form}, status=status)


@owner_page()
@require_http_methods(["GET", "HEAD", "POST"])
def handle_remove_page(request: HttpRequest, entry: Entry, handle_id: int) -> HttpResponse:
    """``GET/POST /account/entries/<handle>/handles/<id>/remove``: confirm, then drop
    the claim and its proof (:func:`directory.services.handle_remove`)."""
    claim = _owned_handle(entry, handle_id)
    if claim is None:
        return _no_such(request, _("This entry claims no handle with that id."))
    if request.method == "POST":
        handle_remove(handle=claim)
        messages.success(request, _("%(handle)s is removed.") % {"handle": handle_display(claim)})
        return _manage(entry)
    context = {
        "entry": entry,
        "title": _("Remove %(handle)s?") % {"handle": handle_display(claim)},
        "explanation": _(
            "Your entry stops claiming this handle and its proof is dropped. To claim it "
            "again you would prove it again."
        ),
        "button": _("Remove the handle"),
    }
    return render(request, "owner/confirm.html", context)


def _handle_check_rate(group: str, request: HttpRequest) -> str:
    return settings.HANDLE_CHECK_RATE_LIMIT


@login_required
@require_safe
def handle_check(request: HttpRequest) -> HttpResponse:
    """``GET /account/handle-check?handle=…[&entry=…]``: is a directory handle free?

    Answers JSON ``{"handle", "available", "message"}``: ``available`` true with "@x is
    available", or false with the reason creating the entry would give (invalid, taken,
    reserved, too like a taken handle, a domain another entry proved). ``entry`` names
    the person's own entry being renamed, whose handle does not count as taken. Counted
    per account against ``HANDLE_CHECK_RATE_LIMIT`` (429 with ``Retry-After``); not a
    security control, since the same answers come from trying to create the entry.
    """
    usage = get_usage(
        request, group="owner.handle-check", key="user_or_ip",
        rate=_handle_check_rate, increment=True,
    )  # fmt: skip
    if usage is not None and usage["should_limit"]:
        retry = max(usage["time_left"], 1)
        response = JsonResponse(
            {"available": None, "message": _("Too many checks; wait a moment.")}, status=429
        )
        response["Retry-After"] = str(retry)
        return response
    raw = request.GET.get("handle", "")[:200]
    exclude = None
    own = request.GET.get("entry", "")
    if own:
        try:
            exclude = entry_get_for_owner(own, user=request.user, require_active=False).pk
        except WorldbookError:
            exclude = None
    try:
        directory_handle_check_available(raw, exclude_entry_id=exclude)
    except (NormalizationError, HandleTaken) as exc:
        return JsonResponse({"handle": raw, "available": False, "message": exc.detail})
    shown = normalize_directory_handle(raw).display
    return JsonResponse(
        {
            "handle": raw,
            "available": True,
            "message": _("@%(handle)s is available.") % {"handle": shown},
        }
    )
