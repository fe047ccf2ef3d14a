"""Audit events for Django's authentication signals (sign-in, sign-out, failed sign-in)."""

from __future__ import annotations

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete
from django.dispatch import receiver

from accounts.models import AuditEvent
from accounts.services import audit_record


@receiver(user_logged_in, dispatch_uid="accounts.audit_sign_in")
def _audit_sign_in(sender, request, user, **kwargs) -> None:
    audit_record(action=AuditEvent.Action.SIGN_IN, user=user, request=request)


@receiver(user_logged_out, dispatch_uid="accounts.audit_sign_out")
def _audit_sign_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit_record(action=AuditEvent.Action.SIGN_OUT, user=user, request=request)


@receiver(user_login_failed, dispatch_uid="accounts.audit_sign_in_failed")
def _audit_sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    # Django passes the credentials with the password already masked; only the name given
    # is kept, and the event is filed under the account it names, if there is one, so the
    # person sees attempts on their account.
    given = str(credentials.get("username") or "")
    model = get_user_model()
    if "@" in given:
        user = model._default_manager.filter(email__iexact=given.strip()).first()
    else:
        user = model._default_manager.filter(username=given).first() if given else None
    # The name typed is kept only when it names no account: for an account the event is
    # filed under it, and so goes when the account is deleted.
    details = {} if user is not None else {"username": given[:150]}
    audit_record(action=AuditEvent.Action.SIGN_IN_FAILED, user=user, request=request, **details)


@receiver(post_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts.forget_axes")
def _forget_sign_in_attempts(sender, instance, **kwargs) -> None:
    # django-axes keeps the names typed at sign-in; a deleted account's go with it.
    names = {instance.get_username(), instance.email} - {""}
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(username__in=names).delete()
