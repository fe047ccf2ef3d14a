"""Account pages: sign-up, two-step sign-in, email confirmation, passwords, second factors
and the person's own page with their security activity.

Sign-in takes two steps when the account has a second factor: the password step keeps
only the account's id in the session (nobody is signed in yet), and the second step signs
the person in and marks the session verified (``django_otp.login``). An unconfirmed email
address does not stop anyone signing in; the account page shows a banner asking to
confirm it, because the address is how a forgotten password is reset.
"""

from __future__ import annotations

import time
from base64 import b32encode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import emails, otp
from accounts.forms import CodeForm, SignInForm, SignUpForm
from accounts.models import AuditEvent
from accounts.services import EmailTaken, audit_record, user_confirm_email, user_sign_up

# Session keys of the half-done sign-in (between the password and the second factor).
PENDING_SIGN_IN = "accounts_pending_sign_in"
# Seconds a password step stays good for its second step.
PENDING_SIGN_IN_MAX_AGE = 300
RECENT_AUDIT_EVENTS = 20


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


def pending_sign_in_user(request: HttpRequest):
    """The account whose password step this session passed in the last
    ``PENDING_SIGN_IN_MAX_AGE`` seconds, or ``None``."""
    pending = request.session.get(PENDING_SIGN_IN)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SIGN_IN_MAX_AGE:
        return None
    user = get_user_model()._default_manager.filter(pk=pending.get("user"), is_active=True)
    return user.first()


def complete_sign_in(request: HttpRequest, user, device) -> None:
    """Sign ``user`` in after their second factor ``device`` answered, with the backend
    that checked their password, and mark the session verified."""
    pending = request.session.pop(PENDING_SIGN_IN, {})
    auth_login(request, user, backend=pending.get("backend"))
    otp_login(request, device)


def locked_out(request: HttpRequest, response=None, credentials=None) -> HttpResponse:
    """django-axes lockout answer (``AXES_LOCKOUT_CALLABLE``): 429 with a ``Retry-After``
    (RFC 9110 §10.2.3) and a page that says when to try again, without saying whether the
    account exists."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    answer = render(request, "accounts/locked_out.html", {"minutes": seconds // 60}, status=429)
    answer["Retry-After"] = str(seconds)
    return answer


@sensitive_post_parameters("password1", "password2")
def sign_up(request: HttpRequest) -> HttpResponse:
    """Sign-up page: email address and password; sends the confirmation link."""
    if request.user.is_authenticated:
        return redirect("accounts:home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = user_sign_up(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                request=request,
            )
        except EmailTaken as exc:
            form.add_error("email", exc.detail)
        else:
            emails.send_confirmation(user)
            auth_login(request, user, backend="accounts.backends.EmailOrUsernameBackend")
            messages.success(
                request,
                _("Welcome. We sent a confirmation link to %(email)s.") % {"email": user.email},
            )
            return redirect("accounts:home")
    return render(request, "accounts/sign_up.html", {"form": form}, status=_status(form))


def _status(form) -> int:
    return 400 if form.is_bound and form.errors else 200


@sensitive_post_parameters("password")
def sign_in(request: HttpRequest) -> HttpResponse:
    """Sign-in, step one: email address and password (limits kept by django-axes)."""
    form = SignInForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        if otp.has_second_factor(user):
            request.session[PENDING_SIGN_IN] = {
                "user": user.pk,
                "backend": user.backend,
                "at": time.time(),
            }
            verify = reverse("accounts:login-verify")
            query = urlencode({REDIRECT_FIELD_NAME: _next_url(request)})
            return redirect(f"{verify}?{query}")
        auth_login(request, user)
        return HttpResponseRedirect(_next_url(request))
    return render(
        request,
        "accounts/sign_in.html",
        {
            "form": form,
            "next": request.POST.get(REDIRECT_FIELD_NAME)
            or request.GET.get(REDIRECT_FIELD_NAME, ""),
        },
        status=_status(form),
    )


def sign_in_verify(request: HttpRequest) -> HttpResponse:
    """Sign-in, step two: a code from an authenticator app, an email or a backup code, or
    a passkey (through the passkey views of ``accounts.passkeys``)."""
    user = pending_sign_in_user(request)
    if user is None:
        messages.info(request, _("Sign in again: the first step has expired."))
        return redirect("accounts:login")
    form = CodeForm(request.POST or None)
    email_devices = [d for d in otp.code_devices(user) if isinstance(d, EmailDevice)]
    status = 200
    if request.method == "POST" and request.POST.get("action") == "email":
        for device in email_devices:
            # django-otp's answer: "sent by email", or how long its cooldown still runs.
            messages.info(request, device.generate_challenge())
        form = CodeForm()
    elif request.method == "POST" and form.is_valid():
        device = otp.code_verify(user=user, code=form.cleaned_data["code"], request=request)
        if device is not None:
            complete_sign_in(request, user, device)
            return HttpResponseRedirect(_next_url(request))
        form.add_error(
            "code",
            _(
                "That code was not accepted. After a wrong code each device waits longer "
                "before it takes another one."
            ),
        )
        status = 400
    factors = otp.second_factors(user)
    context = {
        "form": form,
        "next": _next_url(request),
        "can_email": bool(email_devices),
        "has_passkey": any(f.kind == "passkey" for f in factors),
        "passkeys_available": settings.PASSKEYS_AVAILABLE,
    }
    return render(request, "accounts/sign_in_verify.html", context, status=status)


def confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the confirmation email (signed, expires after
    ``EMAIL_CONFIRMATION_MAX_AGE`` seconds)."""
    try:
        user = emails.confirmation_user(token)
    except signing.SignatureExpired:
        return render(request, "accounts/confirm_email.html", {"problem": "expired"}, status=400)
    except signing.BadSignature:
        return render(request, "accounts/confirm_email.html", {"problem": "invalid"}, status=400)
    user_confirm_email(user=user, request=request)
    return render(request, "accounts/confirm_email.html", {"confirmed_user": user})


@login_required
@require_POST
def resend_confirmation(request: HttpRequest) -> HttpResponse:
    """Send the confirmation link again."""
    if request.user.email_confirmed_at is None:
        emails.send_confirmation(request.user)
        messages.success(
            request,
            _("We sent a new confirmation link to %(email)s.") % {"email": request.user.email},
        )
    return redirect("accounts:home")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The person's own page: email address, entries, second factors, security activity."""
    user = request.user
    context = {
        "entries": user.entries.order_by("handle_canonical"),
        "factors": otp.second_factors(user),
        "events": user.audit_events.all()[:RECENT_AUDIT_EVENTS],
        "passkeys_available": settings.PASSKEYS_AVAILABLE,
        "may_manage": otp.may_manage_second_factors(request),
    }
    return render(request, "accounts/home.html", context)


def _second_factor_page(view):
    """Pages that add or remove second factors: signed in, and verified when the account
    has a second factor already."""

    @login_required
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not otp.may_manage_second_factors(request):
            return render(request, "accounts/verify_first.html", status=403)
        return view(request, *args, **kwargs)

    wrapped.__doc__ = view.__doc__
    wrapped.__name__ = view.__name__
    return wrapped


@_second_factor_page
def totp_add(request: HttpRequest) -> HttpResponse:
    """Add an authenticator app: show the QR code, confirm with a code it shows."""
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if request.method == "GET" or device is None:
        device = otp.totp_begin(user=request.user)
        form = CodeForm()
        status = 200
    else:
        form = CodeForm(request.POST)
        if form.is_valid() and otp.device_confirm(
            device=device, code=form.cleaned_data["code"], request=request
        ):
            if not request.user.is_verified():
                otp_login(request, device)
            messages.success(request, _("Authenticator app added."))
            return redirect("accounts:home")
        form.add_error("code", _("That code was not accepted; check the app and try again."))
        status = 400
    context = {"form": form, "qr_svg": otp.totp_qr_svg(device), "key_b32": _b32(device)}
    return render(request, "accounts/totp_add.html", context, status=status)


def _b32(device: TOTPDevice) -> str:
    return b32encode(device.bin_key).decode().rstrip("=")


@_second_factor_page
def email_device_add(request: HttpRequest) -> HttpResponse:
    """Add email codes: send a code to the account's address, confirm with it."""
    if not request.user.email:
        messages.error(request, _("Your account has no email address."))
        return redirect("accounts:home")
    device = EmailDevice.objects.filter(user=request.user, confirmed=False).first()
    status = 200
    if request.method == "POST" and request.POST.get("action") == "send":
        device = otp.email_device_begin(user=request.user)
        form = CodeForm()
    elif request.method == "POST" and device is not None:
        form = CodeForm(request.POST)
        if form.is_valid() and otp.device_confirm(
            device=device, code=form.cleaned_data["code"], request=request
        ):
            if not request.user.is_verified():
                otp_login(request, device)
            messages.success(request, _("Email codes added."))
            return redirect("accounts:home")
        form.add_error("code", _("That code was not accepted."))
        status = 400
    else:
        form = CodeForm()
    context = {"form": form, "sent": device is not None}
    return render(request, "accounts/email_device_add.html", context, status=status)


@_second_factor_page
def backup_codes(request: HttpRequest) -> HttpResponse:
    """Make a new set of backup codes (the old set stops working); shown once."""
    if request.method != "POST":
        return render(request, "accounts/backup_codes.html", {"codes": None})
    codes = otp.backup_codes_generate(user=request.user, request=request)
    if not request.user.is_verified():
        # The session that set up the account's first factor counts as having passed it.
        otp_login(request, StaticDevice.objects.get(user=request.user))
    return render(request, "accounts/backup_codes.html", {"codes": codes})


@_second_factor_page
@require_POST
def device_remove(request: HttpRequest, persistent_id: str) -> HttpResponse:
    """Remove one of the person's second factors."""
    device = otp.device_for_user(request.user, persistent_id)
    if device is None:
        context = {"title": _("Not found"), "message": _("You have no such second factor.")}
        return render(request, "directory/error.html", context, status=404)
    otp.device_remove(device=device, request=request)
    messages.success(request, _("%(device)s removed.") % {"device": device.name})
    return redirect("accounts:home")


@_second_factor_page
def passkey_add(request: HttpRequest) -> HttpResponse:
    """Register a passkey (WebAuthn) through the browser."""
    return render(
        request, "accounts/passkey_add.html", {"passkeys_available": settings.PASSKEYS_AVAILABLE}
    )


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change the password (the current one is asked again); audited."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:home")

    def form_valid(self, form):
        response = super().form_valid(form)
        audit_record(
            action=AuditEvent.Action.PASSWORD_CHANGED, user=self.request.user, request=self.request
        )
        messages.success(self.request, _("Password changed."))
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link by email (Django's token generator; the answer is the same
    whether or not the address has an account)."""

    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password-reset-done")

    @property
    def extra_email_context(self) -> dict[str, str]:
        # Links point at SITE_URL, not at whatever Host header the request carried.
        return {"site_url": settings.SITE_URL}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Set a new password from the reset link; audited."""

    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        audit_record(action=AuditEvent.Action.PASSWORD_RESET, user=form.user, request=self.request)
        return response
