"""The moderators' console: the Django admin behind a verified second factor."""

from __future__ import annotations

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django_otp.admin import OTPAdminSite


class WorldbookAdminSite(OTPAdminSite):
    """``OTPAdminSite``: only active staff whose session passed a second factor
    (``request.user.is_verified()``) get in.

    Its own sign-in form is replaced by the site's, so the admin has no second door
    around the database-kept sign-in limits: a visitor who is not signed in is sent to
    ``accounts:login``; a signed-in staff member without a verified second factor gets a
    403 page that says how to get one.
    """

    site_header = "Worldbook moderation"
    site_title = "Worldbook admin"

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        if not request.user.is_authenticated:
            target = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index")
            return redirect(
                f"{reverse('accounts:login')}?{urlencode({REDIRECT_FIELD_NAME: target})}"
            )
        if self.has_permission(request):
            return redirect(reverse("admin:index"))
        return render(request, "accounts/admin_refused.html", status=403)
