"""Data-rights pages under ``/account/data``: download one's data, delete one's account."""

from __future__ import annotations

import json

from django import forms
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_safe

from accounts.data_rights import (
    PasswordNotConfirmed,
    PasswordTriesExhausted,
    account_delete,
    account_export,
    account_export_vcard,
)
from directory.vcard_export import VCARD_CONTENT_TYPE


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Enter it again to confirm that you want everything deleted."),
    )


def export_filename(user, extension: str) -> str:
    """The download's file name: ``worldbook-{username}.{extension}``."""
    return f"worldbook-{user.get_username()}.{extension}"


def forget_session(request: HttpRequest) -> None:
    """Sign the request out after its account was deleted.

    Not ``logout()``: its ``user_logged_out`` signal would write a sign-out event naming
    the account that no longer exists.
    """
    request.session.flush()
    request.user = AnonymousUser()


def _attachment(body: bytes | str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@require_safe
@login_required
def data_page(request: HttpRequest) -> HttpResponse:
    """``GET /account/data``: what can be downloaded, and the way to deletion."""
    return render(request, "accounts/data.html", {"entries": request.user.entries.count()})


@require_safe
@login_required
def export_json(request: HttpRequest) -> HttpResponse:
    """``GET /account/data/export.json``: the ``worldbook.export`` document (version 1,
    see :func:`accounts.data_rights.account_export`) as a UTF-8 JSON attachment."""
    export = account_export(user=request.user, request=request)
    return _attachment(
        json.dumps(export, ensure_ascii=False, indent=2).encode("utf-8"),
        "application/json",
        export_filename(request.user, "json"),
    )


@require_safe
@login_required
def export_vcard(request: HttpRequest) -> HttpResponse:
    """``GET /account/data/export.vcf``: the person's entries as vCard 4.0 (RFC 6350)."""
    return _attachment(
        account_export_vcard(user=request.user, request=request),
        VCARD_CONTENT_TYPE,
        export_filename(request.user, "vcf"),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def delete_page(request: HttpRequest) -> HttpResponse:
    """``/account/data/delete``: GET shows the confirmation form; POST with the right
    password deletes the account (:func:`accounts.data_rights.account_delete`), signs out
    and shows that it is done. A wrong password shows the form again, with the error,
    status 403 (429 once the sign-in lock holds); nothing is deleted."""
    form = AccountDeleteForm(request.POST or None)
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        try:
            account_delete(
                user=request.user, password=form.cleaned_data["password"], request=request
            )
        except (PasswordNotConfirmed, PasswordTriesExhausted) as exc:
            form.add_error("password", exc.detail)
            status = exc.status
        else:
            forget_session(request)
            return render(request, "accounts/deleted.html")
    return render(request, "accounts/delete.html", {"form": form}, status=status)
