"""The directory's core domain: entries, their external handles and their endpoints."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from directory.normalization import EndpointScheme, HandleKind, endpoint_href


class EntryQuerySet(models.QuerySet["Entry"]):
    def visible(self) -> EntryQuerySet:
        """Entries that any surface may show (not suspended)."""
        return self.filter(status=Entry.Status.ACTIVE)

    def listed(self) -> EntryQuerySet:
        """Entries that may appear in search results and indexes."""
        return self.visible().filter(discoverable=True)


class Entry(models.Model):
    """One listing in the directory: a person or organisation with a directory handle.

    ``handle`` is the display form (``Alice``, shown as ``@Alice``); ``handle_canonical``
    its case-folded form, unique in the database, and ``handle_skeleton`` the UTS #39
    skeleton of the display form. The skeletons of both the display and the case-folded
    forms are claimed in :class:`EntryHandleSkeleton`, unique there, so neither ``@ALICE``
    nor a look-alike ``@аlice`` (Cyrillic а) can exist beside ``@alice``.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="entries",
        help_text="The account that manages this entry; empty for operator-imported entries.",
    )
    nickname = models.CharField(max_length=200, help_text="The display name people search for.")
    nickname_skeleton = models.CharField(max_length=400, db_index=True, editable=False)
    handle = models.CharField(max_length=30, help_text="Directory handle, without the @.")
    handle_canonical = models.CharField(max_length=60, editable=False)
    handle_skeleton = models.CharField(max_length=120, db_index=True, editable=False)
    discoverable = models.BooleanField(
        default=True, help_text="Listed in search results. Unlisted entries still resolve."
    )
    findable_by_number = models.BooleanField(
        default=True,
        help_text="Lookups of a phone number this entry retired may forward to it.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # NULL rather than "" for entries not imported: the unique constraint ignores NULLs.
    import_key = models.CharField(  # noqa: DJ001
        max_length=128,
        null=True,
        blank=True,
        editable=False,
        help_text="Stable key of the vCard an operator import made this entry from.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "entries"
        ordering = ["handle_canonical"]
        constraints = [
            models.UniqueConstraint(fields=["handle_canonical"], name="entry_handle_unique_ci"),
            models.UniqueConstraint(fields=["import_key"], name="entry_import_key_unique"),
            models.CheckConstraint(
                condition=~models.Q(handle_skeleton=""), name="entry_handle_skeleton_not_empty"
            ),
        ]
        indexes = [models.Index(fields=["status", "discoverable"], name="entry_status_listed")]

    def __str__(self) -> str:
        return f"@{self.handle}"

    @property
    def at_handle(self) -> str:
        return f"@{self.handle}"

    @property
    def acct_uri(self) -> str:
        """The entry's acct: URI (RFC 7565), as WebFinger answers for it: a URI, the
        handle percent-encoded and the domain in IDNA A-labels."""
        from directory.uris import acct_uri

        return acct_uri(self.handle_canonical, settings.WORLDBOOK_DOMAIN)

    @property
    def profile_url(self) -> str:
        """The entry page's absolute URI (the handle percent-encoded, the host ASCII)."""
        from urllib.parse import quote

        from directory.uris import site_uri

        return f"{site_uri()}/@{quote(self.handle_canonical, safe='')}"


class EntryHandleSkeleton(models.Model):
    """One UTS #39 skeleton of an entry's directory handle (display or case-folded form).

    An entry claims one or two rows (``KIM`` claims ``klrn`` and ``kirn``); ``skeleton``
    is unique across all entries, so the database refuses a handle any of whose forms
    looks like any form of a taken one. Written only by :mod:`directory.services`.
    """

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="handle_skeletons")
    skeleton = models.CharField(max_length=120, unique=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(skeleton=""), name="entry_handle_skeleton_row_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return self.skeleton


class Handle(models.Model):
    """An identifier in someone else's namespace, claimed by an entry.

    ``raw`` is what was given, ``canonical`` the normal form (directory.normalization) and
    ``key`` the comparison key. Only a *verified* handle answers lookups, and the database
    allows one verified owner per ``(kind, key)``.
    """

    class Status(models.TextChoices):
        UNVERIFIED = "unverified", _("Unverified")
        PENDING = "pending", _("Pending")
        VERIFIED = "verified", _("Verified")
        STALE = "stale", _("Stale")
        UNREACHABLE = "unreachable", _("Unreachable")
        FAILED = "failed", _("Failed")
        REVOKED = "revoked", _("Revoked")

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="handles")
    kind = models.CharField(max_length=16, choices=HandleKind.CHOICES)
    raw = models.CharField(max_length=512)
    canonical = models.CharField(max_length=512)
    key = models.CharField(max_length=512, db_index=True, editable=False)
    skeleton = models.CharField(max_length=1024, db_index=True, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UNVERIFIED)
    verified_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.CharField(
        max_length=16,
        blank=True,
        default="",
        help_text="How the handle was last verified: a verification method "
        "(directory.verification.models.Method), `demo` for demo data that proves nothing, "
        "empty when a moderator verified it.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    # ``verified_by`` of handles the demo directory marks verified: demo data, not a proof
    # (the value of directory.verification.models.Method.DEMO, which imports this module).
    DEMO = "demo"

    class Meta:
        ordering = ["kind", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "kind", "key"], name="handle_unique_per_entry"
            ),
            models.UniqueConstraint(
                fields=["kind", "key"],
                condition=models.Q(status="verified"),
                name="handle_one_verified_owner",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="verified") | models.Q(verified_at__isnull=False),
                name="handle_verified_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.canonical}"

    @property
    def is_verified(self) -> bool:
        return self.status == self.Status.VERIFIED

    @property
    def is_demo(self) -> bool:
        """Verified as demo data by ``./deploy/run``'s demo directory: nothing was proved."""
        return self.is_verified and self.verified_by == self.DEMO


class Endpoint(models.Model):
    """A URI at which an entry can be reached, with who may use it."""

    class Audience(models.TextChoices):
        EVERYONE = "everyone", _("Everyone")
        SIGNED_IN = "signed_in", _("Signed-in people")
        VERIFIED = "verified", _("Verified callers")
        CONTACTS = "contacts", _("My contacts")
        NOBODY = "nobody", _("Nobody")

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="endpoints")
    uri = models.CharField(max_length=2048)
    scheme = models.CharField(max_length=16, choices=EndpointScheme.CHOICES)
    service = models.CharField(max_length=32, help_text="Network: sip, matrix, whatsapp, …")
    voice = models.BooleanField(default=False)
    video = models.BooleanField(default=False)
    text = models.BooleanField(default=False)
    preference = models.PositiveSmallIntegerField(
        default=100, help_text="Lower comes first; callers try endpoints in this order."
    )
    label = models.CharField(max_length=64, blank=True)
    audience = models.CharField(max_length=16, choices=Audience.choices, default=Audience.EVERYONE)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["preference", "id"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "uri"], name="endpoint_unique_per_entry"),
        ]

    def __str__(self) -> str:
        return self.uri

    @property
    def capabilities(self) -> list[str]:
        return [c for c in ("voice", "video", "text") if getattr(self, c)]

    @property
    def href(self) -> str:
        """The link a browser opens (matrix: URIs become matrix.to links)."""
        return endpoint_href(self.uri)


class OutboxMessage(models.Model):
    """A side effect a write scheduled, waiting to be handed to the broker (the outbox).

    Written in the same transaction as the change, so the effect is kept exactly when the
    change is; published after commit and deleted once the broker has accepted it. A row
    left behind (the broker was down) is published by ``directory.outbox_relay`` (Celery
    beat). ``dedupe_key`` makes repeats of one effect a single pending row (a repeat
    replaces its arguments). See :mod:`directory.outbox`.
    """

    task = models.CharField(max_length=200, help_text="The Celery task's registered name.")
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="directory_outbox_age")]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)}"
