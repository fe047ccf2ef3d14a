"""Moderation: reports grouped into cases, impersonation suspects, moderator actions,
appeals, owner notices and the names moderators reserve."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TargetType(models.TextChoices):
    """What a report or an action is about."""

    ENTRY = "entry", _("Entry")
    HANDLE = "handle", _("Handle")
    ENDPOINT = "endpoint", _("Endpoint")


class QueueStatus(models.TextChoices):
    """Where an item of a moderation queue stands."""

    OPEN = "open", _("Open")
    ACTIONED = "actioned", _("Actioned")
    DISMISSED = "dismissed", _("Dismissed")


class ReportCase(models.Model):
    """The open reports about one thing (an entry, a handle or an endpoint), grouped.

    One open case per target (a partial unique constraint); a report about a target with
    an open case joins it. ``entry`` is the entry the target belongs to (for the queue
    and the owner's notice).
    """

    target_type = models.CharField(max_length=16, choices=TargetType.choices)
    target_id = models.BigIntegerField()
    entry = models.ForeignKey(
        "directory.Entry",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="report_cases",
        help_text="Empty once the entry is deleted: the case and its reports stay.",
    )
    target_label = models.CharField(
        max_length=300, help_text="The target as it was when first reported."
    )
    status = models.CharField(max_length=16, choices=QueueStatus.choices, default=QueueStatus.OPEN)
    report_count = models.PositiveIntegerField(default=0)
    opened_at = models.DateTimeField(default=timezone.now)
    last_reported_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["opened_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["target_type", "target_id"],
                condition=models.Q(status="open"),
                name="report_case_one_open_per_target",
            )
        ]
        indexes = [models.Index(fields=["status", "opened_at"], name="report_case_queue")]

    def __str__(self) -> str:
        return f"{self.get_target_type_display()} {self.target_label}"


class Report(models.Model):
    """One signed-in person's complaint about a target, with their reason."""

    class Category(models.TextChoices):
        IMPERSONATION = "impersonation", _("Impersonation")
        SPAM = "spam", _("Spam")
        ABUSE = "abuse", _("Abuse")
        WRONG_ENDPOINT = "wrong_endpoint", _("Wrong endpoint")

    case = models.ForeignKey(ReportCase, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="moderation_reports"
    )
    category = models.CharField(max_length=32, choices=Category.choices)
    reason = models.TextField(max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "reporter"], name="report_once_per_case")
        ]
        indexes = [models.Index(fields=["reporter", "created_at"], name="report_by_reporter")]

    def __str__(self) -> str:
        return f"{self.get_category_display()} report on {self.case}"


class ImpersonationSuspect(models.Model):
    """An entry whose nickname or directory handle looks like a verified entry's.

    ``field`` says which of the suspect's names matched (``nickname`` or ``handle``),
    ``distance`` the Levenshtein distance between the two UTS #39 skeletons (0: they
    look the same).
    """

    entry = models.ForeignKey(
        "directory.Entry", on_delete=models.CASCADE, related_name="impersonation_suspicions"
    )
    resembles = models.ForeignKey("directory.Entry", on_delete=models.CASCADE, related_name="+")
    field = models.CharField(max_length=16)
    suspect_value = models.CharField(max_length=200)
    resembled_value = models.CharField(max_length=200)
    distance = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=16, choices=QueueStatus.choices, default=QueueStatus.OPEN)
    detected_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["detected_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "resembles"],
                condition=models.Q(status="open"),
                name="suspect_one_open_per_pair",
            )
        ]
        indexes = [models.Index(fields=["status", "detected_at"], name="suspect_queue")]

    def __str__(self) -> str:
        return f"{self.suspect_value} looks like {self.resembled_value}"


class ProtectedNameKey(models.Model):
    """One look-up key of a verified entry's names, so that look-alikes are found by an
    index instead of a scan.

    For each name (nickname, directory handle) of an entry with a verified handle, the
    letters and digits of its UTS #39 skeleton are stored, and, for names of 6 characters
    or more, every string made by deleting one character (a "deletion neighbourhood", as
    in SymSpell): two keys within Levenshtein distance 1 always share one of these.
    Rebuilt by ``moderation.impersonation_check`` / ``protect_names`` when the names or
    the verification change, and for a whole directory by ``manage.py
    moderation_protect_names``.
    """

    entry = models.ForeignKey("directory.Entry", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=400, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entry", "key"], name="protected_key_once")]

    def __str__(self) -> str:
        return self.key


class ModerationAction(models.Model):
    """One thing a moderator did, with the reason; owners are told and may appeal once."""

    class Kind(models.TextChoices):
        SUSPEND = "suspend", _("Suspend entry")
        RESTORE = "restore", _("Restore entry")
        REVOKE_VERIFICATION = "revoke_verification", _("Revoke verification")
        HIDE_ENDPOINT = "hide_endpoint", _("Hide endpoint")
        RESERVE_HANDLE = "reserve_handle", _("Reserve handle")
        DISMISS_REPORT = "dismiss_report", _("Dismiss report")
        DISMISS_SUSPECT = "dismiss_suspect", _("Dismiss impersonation suspect")

    APPEALABLE = frozenset({Kind.SUSPEND, Kind.REVOKE_VERIFICATION, Kind.HIDE_ENDPOINT})

    kind = models.CharField(max_length=32, choices=Kind.choices)
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.TextField()
    entry = models.ForeignKey(
        "directory.Entry",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="moderation_actions",
    )
    target_type = models.CharField(max_length=16, choices=TargetType.choices, blank=True)
    target_id = models.BigIntegerField(null=True, blank=True)
    target_label = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="action_target")]
        permissions = [
            ("suspend_entry", "Can suspend an entry"),
            ("restore_entry", "Can restore a suspended entry"),
            ("revoke_verification", "Can revoke a handle's verification"),
            ("hide_endpoint", "Can hide an endpoint"),
            ("reserve_handle", "Can reserve a directory handle"),
            ("dismiss_report", "Can dismiss a report or an impersonation suspect"),
            ("decide_appeal", "Can grant or deny an appeal"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.target_label}"

    @property
    def appealable(self) -> bool:
        return self.kind in self.APPEALABLE


class Appeal(models.Model):
    """An owner's request to undo a moderator's action: one per action."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        GRANTED = "granted", _("Granted")
        DENIED = "denied", _("Denied")
        WITHDRAWN = "withdrawn", _("Closed (entry deleted)")

    action = models.OneToOneField(ModerationAction, on_delete=models.CASCADE, related_name="appeal")
    appellant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="moderation_appeals"
    )
    statement = models.TextField(max_length=4000)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    filed_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["filed_at", "id"]
        indexes = [models.Index(fields=["status", "filed_at"], name="appeal_queue")]

    def __str__(self) -> str:
        return f"Appeal of {self.action}"


class OwnerNotice(models.Model):
    """What an entry's owner is told about a moderator's action (emailed, and listed on
    the owner's notices page)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="moderation_notices"
    )
    action = models.ForeignKey(ModerationAction, on_delete=models.CASCADE, related_name="notices")
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "-created_at"], name="notice_recent")]

    def __str__(self) -> str:
        return self.subject


class ReservedName(models.Model):
    """A directory handle nobody may take, beside ``RESERVED_DIRECTORY_HANDLES``.

    Compared by UTS #39 skeleton, so look-alikes of a reserved name are refused too.
    """

    name = models.CharField(max_length=30)
    skeleton = models.CharField(max_length=120, unique=True, editable=False)
    note = models.TextField(help_text="Why the name is reserved.")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"@{self.name}"
