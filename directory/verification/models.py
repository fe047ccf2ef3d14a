"""Verification records: challenges (tokens and email codes), checks (evidence) and
contested claims (a moderation queue)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from directory.models import Handle


class Method(models.TextChoices):
    """How a handle is proved; each is one verifier class (``verifiers.py``)."""

    EMAIL_CODE = "email_code", _("Email code")
    DOMAIN = "domain", _("DNS TXT record or .well-known file")
    REL_ME = "rel_me", 'rel="me" link on a web page'
    FEDIVERSE = "fediverse", 'WebFinger, then a rel="me" link on the profile'
    ATPROTO = "atproto", _("AT Protocol handle and DID document")
    GITHUB = "github", _("GitHub profile or gist (GitHub API)")
    PROOF_URL = "proof_url", _("A public post holding the token")
    # Not a proof: the demo directory (``DEMO_DATA``) marks some handles verified with it so
    # that a fresh install shows verified people; every surface says so.
    DEMO = Handle.DEMO, "Demo data, not a proof"


class VerificationChallenge(models.Model):
    """One attempt to prove a handle: the token to publish, or the email code sent.

    ``token`` is what the owner publishes (DNS TXT, well-known file, profile text, post);
    for an email code only an HMAC of the code is kept (``code_hash``), it expires at
    ``expires_at``, is single-use (``used_at``) and allows a few ``attempts``.
    """

    handle = models.ForeignKey(
        Handle, on_delete=models.CASCADE, related_name="verification_challenges"
    )
    method = models.CharField(max_length=16, choices=Method.choices)
    token = models.CharField(max_length=64, unique=True)
    code_hash = models.CharField(max_length=64, blank=True, editable=False)
    proof_url = models.CharField(max_length=2048, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = "created_at"

    def __str__(self) -> str:
        return f"{self.get_method_display()} for {self.handle}"


class VerificationCheck(models.Model):
    """The evidence of one check of one handle: what was fetched, when, what matched.

    ``reason`` is the result in plain words for the owner ("found a link to
    https://x.example/@al, expected https://worldbook.example/@alice"); ``evidence`` holds
    the URLs, statuses, addresses and the values found and expected, never a body.
    """

    class Result(models.TextChoices):
        VERIFIED = "verified", _("Proof found")
        MISMATCH = "mismatch", _("Proof does not match")
        MISSING = "missing", _("No proof found")
        REFUSED = "refused", _("Fetch refused")
        UNREACHABLE = "unreachable", _("Platform did not answer")
        CONTESTED = "contested", _("Proof found; another entry holds the handle")

    class Trigger(models.TextChoices):
        OWNER = "owner", _("Owner asked")
        MODERATOR = "moderator", _("Moderator asked")
        SCHEDULE = "schedule", _("Scheduled re-check")
        RETRY = "retry", _("Retry after a transient failure")
        DEMO = "demo", _("Demo directory loaded")

    # Results that say the proof is not there (as opposed to "could not look").
    ABSENT = (Result.MISMATCH, Result.MISSING, Result.REFUSED)

    handle = models.ForeignKey(Handle, on_delete=models.CASCADE, related_name="verification_checks")
    challenge = models.ForeignKey(
        VerificationChallenge, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="checks",
    )  # fmt: skip
    method = models.CharField(max_length=16, choices=Method.choices)
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    result = models.CharField(max_length=16, choices=Result.choices, db_index=True)
    reason = models.TextField()
    evidence = models.JSONField(default=dict, blank=True)
    attempt = models.PositiveSmallIntegerField(default=0)
    status_after = models.CharField(max_length=16, choices=Handle.Status.choices)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    # The task run that made this check ("<run>:<attempt>", empty for checks made outside
    # a task): a second delivery of the same run finds it and changes nothing.
    run_key = models.CharField(max_length=120, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["handle", "-created_at"], name="vcheck_handle_recent")]
        constraints = [
            models.UniqueConstraint(
                fields=["handle", "run_key"],
                condition=~models.Q(run_key=""),
                name="vcheck_one_per_run",
            )
        ]

    def __str__(self) -> str:
        return f"{self.handle}: {self.get_result_display()}"


class ContestedClaim(models.Model):
    """A proof that succeeded for a handle another entry already holds verified.

    The holder keeps the handle; the claim waits in the moderators' queue (``status``
    open) until one resolves it.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")

    handle = models.ForeignKey(
        Handle, on_delete=models.CASCADE, related_name="contested_claims",
        help_text="The claim whose proof succeeded.",
    )  # fmt: skip
    held_by = models.ForeignKey(
        Handle, on_delete=models.CASCADE, related_name="contested_by",
        help_text="The verified handle of the entry that holds it.",
    )  # fmt: skip
    check_record = models.ForeignKey(
        VerificationCheck, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    resolution = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["handle"],
                condition=models.Q(status="open"),
                name="contested_claim_one_open_per_handle",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.handle} contests {self.held_by.entry}"


class VerificationQueueItem(Handle):
    """Handles as the moderators' verification queue shows them (a proxy of Handle)."""

    class Meta:
        proxy = True
        verbose_name = "verification queue item"
        verbose_name_plural = "verification queue"
        permissions = [("check_handle", "Can ask for a fresh verification check")]
