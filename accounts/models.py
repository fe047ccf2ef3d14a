"""People who sign in: a phone-free user account."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person's account. Signs in with email and password; never with a phone number."""

    email = models.EmailField("email address", blank=True)
    email_confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the person followed the confirmation link."
    )

    class Meta:
        db_table = "accounts_user"
        constraints = [
            models.UniqueConstraint(
                models.functions.Lower("email"),
                condition=~models.Q(email=""),
                name="accounts_user_email_unique_ci",
            )
        ]


class Contact(models.Model):
    """An entry saved in another entry's address book.

    ``owner`` saved ``saved``: endpoints of ``owner`` with audience ``contacts`` are open
    to the accounts that own ``saved``.
    """

    owner = models.ForeignKey("directory.Entry", on_delete=models.CASCADE, related_name="contacts")
    saved = models.ForeignKey("directory.Entry", on_delete=models.CASCADE, related_name="saved_by")
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "saved"], name="contact_unique_per_owner"),
            models.CheckConstraint(
                condition=~models.Q(owner=models.F("saved")), name="contact_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner_id} → {self.saved_id}"


# Columns an account's erasure may empty on the rows about that account (and nothing else
# may change): the accounts (SET_NULL), the address, the details and the snapshots.
AUDIT_ERASABLE = {
    "user": None,
    "actor": None,
    "ip_address": None,
    "data": {},
    "before": None,
    "after": None,
}


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    """Audit events can be added and read; a bulk ``update`` may only erase (set the
    columns of :data:`AUDIT_ERASABLE` to their empty value), a bulk ``delete`` is refused."""

    def update(self, **kwargs):
        for name, value in kwargs.items():
            if name not in AUDIT_ERASABLE or value != AUDIT_ERASABLE[name]:
                raise ValueError(f"Audit events are append-only: {name} cannot be changed.")
        return super().update(**kwargs)

    update.queryset_only = True

    def delete(self):
        raise ValueError("Audit events are append-only: they cannot be deleted.")

    delete.queryset_only = True


class AuditEvent(models.Model):
    """An append-only record of a security-relevant action.

    ``user`` is the account the event is about (emptied when the account is deleted, so no
    row names a deleted person); ``actor`` the account that acted when it was someone else
    (a moderator). ``data`` holds details without personal data of third parties. A
    moderator's action also records why (``reason``), what it acted on (``target_type``
    and ``target_id``) and the target's state ``before`` and ``after`` it.

    Rows cannot be changed or deleted through the ORM (``save`` of an existing row,
    ``delete``, queryset ``update``/``delete``), nor, on PostgreSQL, through SQL: a
    trigger refuses ``DELETE`` and any ``UPDATE`` but the erasure of an account
    (:data:`AUDIT_ERASABLE`, which ``SET_NULL`` and ``accounts.data_rights`` use).
    """

    class Action(models.TextChoices):
        SIGN_UP = "sign_up", _("Signed up")
        SIGN_IN = "sign_in", _("Signed in")
        SIGN_IN_FAILED = "sign_in_failed", _("Sign-in failed")
        SIGN_OUT = "sign_out", _("Signed out")
        EMAIL_CONFIRMED = "email_confirmed", _("Email address confirmed")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        PASSWORD_RESET = "password_reset", _("Password reset")
        SECOND_FACTOR_ADDED = "second_factor_added", _("Second factor added")
        SECOND_FACTOR_REMOVED = "second_factor_removed", _("Second factor removed")
        SECOND_FACTOR_FAILED = "second_factor_failed", _("Second factor failed")
        POLICY_CHANGED = "policy_changed", _("Contact policy changed")
        TOKEN_GRANTED = "token_granted", _("Token granted to an app")
        TOKEN_REVOKED = "token_revoked", _("Token revoked")
        APP_REGISTERED = "app_registered", _("App registered")
        DATA_EXPORTED = "data_exported", _("Data exported")
        ACCOUNT_DELETED = "account_deleted", _("Account deleted")
        # Handle verification (directory.verification)
        HANDLE_VERIFIED = "handle_verified", _("Handle verified")
        HANDLE_REVOKED = "handle_revoked", _("Handle verification revoked")
        CLAIM_CONTESTED = "claim_contested", _("Handle claim contested")
        CLAIM_RESOLVED = "claim_resolved", _("Contested claim resolved")
        # Phone numbers (directory.numbers); their data names no number in clear.
        NUMBER_CODE_SENT = "number_code_sent", _("Number proof code sent")
        NUMBER_LINKED = "number_linked", _("Phone number linked")
        NUMBER_RETIRING = "number_retiring", _("Phone number retirement started")
        NUMBER_RETIRED = "number_retired", _("Phone number retired and purged")
        # Moderation (directory.moderation): every moderator action and what people file.
        REPORT_FILED = "report_filed", _("Report filed")
        ENTRY_SUSPENDED = "entry_suspended", _("Entry suspended")
        ENTRY_RESTORED = "entry_restored", _("Entry restored")
        VERIFICATION_REVOKED = "verification_revoked", _("Verification revoked")
        ENDPOINT_HIDDEN = "endpoint_hidden", _("Endpoint hidden")
        HANDLE_RESERVED = "handle_reserved", _("Handle reserved")
        REPORT_DISMISSED = "report_dismissed", _("Report dismissed")
        SUSPECT_DISMISSED = "suspect_dismissed", _("Impersonation suspect dismissed")
        APPEAL_FILED = "appeal_filed", _("Appeal filed")
        APPEAL_GRANTED = "appeal_granted", _("Appeal granted")
        APPEAL_DENIED = "appeal_denied", _("Appeal denied")

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=32, choices=Action.choices, db_index=True)
    user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events"
    )
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True, help_text="Why, in the moderator's words.")
    target_type = models.CharField(
        max_length=32, blank=True, help_text="What was acted on: entry, handle, endpoint, …"
    )
    target_id = models.CharField(max_length=64, blank=True)
    before = models.JSONField(null=True, blank=True, help_text="The target before the action.")
    after = models.JSONField(null=True, blank=True, help_text="The target after the action.")

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="audit_user_recent"),
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} at {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are append-only: they cannot be deleted.")
