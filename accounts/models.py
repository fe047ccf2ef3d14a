"""People who sign in: a phone-free user account."""

from django.contrib.auth.models import AbstractUser
from django.db import models


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

    owner = models.ForeignKey(
        "directory.Entry", on_delete=models.CASCADE, related_name="contacts"
    )
    saved = models.ForeignKey(
        "directory.Entry", on_delete=models.CASCADE, related_name="saved_by"
    )
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


class AuditEvent(models.Model):
    """An append-only record of a security-relevant action.

    ``user`` is the account the event is about (emptied when the account is deleted, so no
    row names a deleted person); ``actor`` the account that acted when it was someone else
    (a moderator). ``data`` holds details without personal data of third parties.
    """

    class Action(models.TextChoices):
        SIGN_UP = "sign_up", "Signed up"
        SIGN_IN = "sign_in", "Signed in"
        SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
        SIGN_OUT = "sign_out", "Signed out"
        EMAIL_CONFIRMED = "email_confirmed", "Email address confirmed"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        PASSWORD_RESET = "password_reset", "Password reset"
        SECOND_FACTOR_ADDED = "second_factor_added", "Second factor added"
        SECOND_FACTOR_REMOVED = "second_factor_removed", "Second factor removed"
        SECOND_FACTOR_FAILED = "second_factor_failed", "Second factor failed"
        POLICY_CHANGED = "policy_changed", "Contact policy changed"
        TOKEN_GRANTED = "token_granted", "Token granted to an app"
        TOKEN_REVOKED = "token_revoked", "Token revoked"
        APP_REGISTERED = "app_registered", "App registered"
        DATA_EXPORTED = "data_exported", "Data exported"
        ACCOUNT_DELETED = "account_deleted", "Account deleted"
        # Handle verification (directory.verification)
        HANDLE_VERIFIED = "handle_verified", "Handle verified"
        HANDLE_REVOKED = "handle_revoked", "Handle verification revoked"
        CLAIM_CONTESTED = "claim_contested", "Handle claim contested"
        CLAIM_RESOLVED = "claim_resolved", "Contested claim resolved"
        # Phone numbers (directory.numbers); their data names no number in clear.
        NUMBER_CODE_SENT = "number_code_sent", "Number proof code sent"
        NUMBER_LINKED = "number_linked", "Phone number linked"
        NUMBER_RETIRING = "number_retiring", "Phone number retirement started"
        NUMBER_RETIRED = "number_retired", "Phone number retired and purged"

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

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="audit_user_recent")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} at {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)
