"""Developer pages: register a calling app, see its keys, delete it; and the apps a
person has allowed to act for them, which they can revoke."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.calling_apps.forms import AppRegisterForm
from accounts.calling_apps.models import CallingApp
from accounts.calling_apps.services import (
    app_delete,
    app_register,
    apps_authorized_by,
    apps_of,
    authorization_revoke,
)


@login_required
def app_list(request: HttpRequest) -> HttpResponse:
    """The person's registered apps and the apps they allowed to act for them."""
    return render(
        request,
        "accounts/apps/list.html",
        {"apps": apps_of(request.user), "authorized": apps_authorized_by(request.user)},
    )


# Session key: the one-time keys of the registration forms already answered, with the
# app each registered (never the secret).
REGISTERED_KEY = "calling_apps_registered"


@login_required
@never_cache
def app_register_page(request: HttpRequest) -> HttpResponse:
    """Register an app. The answer shows the client secret once: only its hash is kept,
    so the page is not cached and the secret never goes into a URL or the session (only
    the form's one-time key and the app it made do, so a form sent twice makes one app). A
    refused form comes back with its errors and status 400."""
    form = AppRegisterForm(request.POST or None)
    # Each form carries a one-time key; a form sent again (a reload of the answer, a
    # double click) finds its app instead of registering a second one.
    once = request.POST.get("once", "") if request.method == "POST" else secrets.token_urlsafe(16)
    done = request.session.get(REGISTERED_KEY, {})
    if request.method == "POST" and once in done:
        app = CallingApp.objects.filter(pk=done[once], user=request.user).first()
        if app is not None:
            messages.info(
                request,
                _(
                    "This app is already registered; its client secret was shown once. "
                    "If you did not keep it, delete the app and register it again."
                ),
            )
            return redirect("calling_apps:detail", pk=app.pk)
    if request.method == "POST" and form.is_valid():
        try:
            registration = app_register(
                developer=request.user,
                name=form.cleaned_data["name"],
                client_type=form.cleaned_data["client_type"],
                grant_types=set(form.cleaned_data["grant_types"]),
                redirect_uris=form.cleaned_data["redirect_uris"],
                request=request,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            if once:
                done[once] = registration.app.pk
                request.session[REGISTERED_KEY] = dict(list(done.items())[-20:])
            return render(
                request,
                "accounts/apps/created.html",
                {"app": registration.app, "client_secret": registration.client_secret},
                status=201,
            )
    # A refused registration answers 400, as every other form of the site does.
    status = 400 if request.method == "POST" else 200
    return render(
        request, "accounts/apps/register.html", {"form": form, "once": once}, status=status
    )


@login_required
def app_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One of the person's apps: its client id and settings (the secret is not kept)."""
    app = get_object_or_404(CallingApp, pk=pk, user=request.user)
    return render(request, "accounts/apps/detail.html", {"app": app})


@login_required
@require_POST
def app_delete_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete one of the person's apps with every token it holds."""
    app_delete(app=get_object_or_404(CallingApp, pk=pk, user=request.user))
    return redirect("calling_apps:list")


@login_required
@require_POST
def authorization_revoke_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Take back what the person allowed an app: every token it holds for them."""
    authorization_revoke(
        user=request.user, app=get_object_or_404(CallingApp, pk=pk), request=request
    )
    return redirect("calling_apps:list")
