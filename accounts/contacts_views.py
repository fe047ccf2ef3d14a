"""Pages of the address book and of an entry's contact policy, under ``/account/``.

Every page needs a signed-in person and acts through :mod:`accounts.contacts` and
:mod:`accounts.contact_policy`; errors are shown on the page with a 4xx status, and a
failed change leaves everything as it was.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.contact_policy import policy_update
from accounts.contacts import (
    IMPORT_MAX_BYTES,
    acting_entry,
    contact_remove,
    contact_save_by_handle,
    contacts_import_vcard,
    contacts_list,
    import_size_check,
    upload_size_check,
)
from directory.exceptions import WorldbookError
from directory.models import Endpoint, Entry
from directory.selectors import entry_get_for_owner


def _error_page(
    request: HttpRequest, exc: WorldbookError, title: str, action: tuple[str, str] | None = None
) -> HttpResponse:
    context = {"title": title, "message": exc.detail}
    if action:
        context["action_url"], context["action_label"] = action
    return render(request, "directory/error.html", context, status=exc.status)


def _owned_entries(user) -> list[Entry]:
    return list(Entry.objects.filter(owner=user).order_by("created_at", "pk"))


def _contacts_context(request: HttpRequest, owner: Entry) -> dict:
    return {
        "owner": owner,
        "entries": _owned_entries(request.user),
        "contacts": contacts_list(owner=owner, user=request.user),
        "max_megabytes": IMPORT_MAX_BYTES // (1024 * 1024),
    }


@login_required
@require_http_methods(["GET", "HEAD"])
def contacts_page(request: HttpRequest) -> HttpResponse:
    """``GET /account/contacts[?as=<handle>]``: the address book of one of the person's
    entries (the first by default), each contact with a remove button, and the vCard
    upload form."""
    try:
        owner = acting_entry(user=request.user, handle=request.GET.get("as"))
    except WorldbookError as exc:
        # Someone with no entry yet (the header's Contacts link) is led to making one.
        action = None
        if not Entry.objects.filter(owner=request.user).exists():
            action = (reverse("owner:entry-create"), _("Create your entry"))
        return _error_page(request, exc, _("No address book"), action)
    return render(request, "accounts/contacts.html", _contacts_context(request, owner))


def _back_to_contacts(owner: Entry) -> HttpResponseRedirect:
    return redirect(f"{reverse('contacts:list')}?as={owner.handle_canonical}")


@login_required
@require_POST
def contact_save_view(request: HttpRequest) -> HttpResponse:
    """``POST /account/contacts/save`` (``handle``, optional ``as`` and ``next``): save
    an entry, then go back to ``next`` (a path on this site) or to the entry's page."""
    try:
        owner = acting_entry(user=request.user, handle=request.POST.get("as"))
        contact, created = contact_save_by_handle(
            owner=owner, handle=request.POST.get("handle", ""), user=request.user
        )
    except WorldbookError as exc:
        return _error_page(request, exc, _("Not saved"))
    saved = contact.saved
    if created:
        messages.success(
            request,
            _("Saved @%(saved)s in the contacts of @%(owner)s.")
            % {"saved": saved.handle, "owner": owner.handle},
        )
    else:
        messages.info(
            request,
            _("@%(saved)s was already in the contacts of @%(owner)s.")
            % {"saved": saved.handle, "owner": owner.handle},
        )
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("entry", kwargs={"handle": saved.handle_canonical})
    return redirect(target)


@login_required
@require_POST
def contact_remove_view(request: HttpRequest, handle: str) -> HttpResponse:
    """``POST /account/contacts/<handle>/remove`` (optional ``as``): remove a contact."""
    try:
        owner = acting_entry(user=request.user, handle=request.POST.get("as"))
        contact_remove(owner=owner, handle=handle)
    except WorldbookError as exc:
        return _error_page(request, exc, _("Not removed"))
    messages.success(
        request,
        _("Removed @%(saved)s from the contacts of @%(owner)s.")
        % {"saved": handle.lstrip("@"), "owner": owner.handle},
    )
    return _back_to_contacts(owner)


@login_required
@require_POST
def contacts_import_view(request: HttpRequest) -> HttpResponse:
    """``POST /account/contacts/import`` (multipart: ``file``, optional ``region`` and
    ``as``): import a vCard file into the address book and show what matched."""
    try:
        upload_size_check(request.META.get("CONTENT_LENGTH"))
        owner = acting_entry(user=request.user, handle=request.POST.get("as"))
    except WorldbookError as exc:
        return _error_page(request, exc, _("Not imported"))
    context = _contacts_context(request, owner)
    upload = request.FILES.get("file")
    region = request.POST.get("region", "").strip().upper() or None
    try:
        if upload is None:
            raise WorldbookError(_("Choose a vCard file (.vcf) to import."))
        import_size_check(upload.size)
        report = contacts_import_vcard(
            owner=owner, user=request.user, data=upload.read(), region=region
        )
    except WorldbookError as exc:
        context["import_error"] = exc.detail
        return render(request, "accounts/contacts.html", context, status=exc.status)
    context["report"] = report
    context["contacts"] = contacts_list(owner=owner, user=request.user)
    return render(request, "accounts/contacts.html", context)


def _policy_form(request: HttpRequest, entry: Entry) -> dict:
    """Read the policy form; unknown audiences are left to policy_update to refuse."""
    audiences = {}
    for endpoint in entry.endpoints.all():
        value = request.POST.get(f"audience-{endpoint.pk}")
        if value is not None:
            audiences[endpoint.pk] = value
    return {
        "discoverable": request.POST.get("discoverable") == "on",
        "findable_by_number": request.POST.get("findable_by_number") == "on",
        "audiences": audiences,
    }


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def entry_policy_page(request: HttpRequest, handle: str) -> HttpResponse:
    """``GET/POST /account/entries/<handle>/policy``: who may find the entry (listed in
    search, findable by number) and who may use each endpoint. Owner only: 404 for a
    missing or hidden entry, 403 for someone else's. Each saved change is recorded as a
    ``policy_changed`` audit event."""
    try:
        entry = entry_get_for_owner(handle, user=request.user)
    except WorldbookError as exc:
        return _error_page(
            request, exc, _("No such entry") if exc.status == 404 else _("Forbidden")
        )
    status = 200
    if request.method == "POST":
        try:
            changes = policy_update(
                entry=entry, user=request.user, request=request, **_policy_form(request, entry)
            )
        except WorldbookError as exc:
            messages.error(request, exc.detail)
            status = exc.status
            entry = entry_get_for_owner(handle, user=request.user)
        else:
            messages.success(request, _("Saved.") if changes else _("Nothing changed."))
            return redirect("contacts:policy", handle=entry.handle_canonical)
    context = {
        "entry": entry,
        "endpoints": list(entry.endpoints.all()),
        "audiences": Endpoint.Audience.choices,
    }
    return render(request, "accounts/policy.html", context, status=status)
