"""Phone numbers linked to entries, their proof codes, send counts and retirement records.

A number is stored in clear (E.164) only while it is *linked* (``active``) or *retiring*
(forwarding window). When it is retired the clear number is purged: the
:class:`LinkedNumber` row keeps its dates and masked last digits, and a
:class:`RetiredNumber` keeps the keyed hash (HMAC-SHA256, see
:mod:`directory.numbers.hashing`) with the retirement date, FCC Reassigned Numbers
Database style. Send counts and lookup quotas are keyed by that hash too, so nothing
outside the linked row and its pending proof codes ever holds the number in clear.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from directory.models import Endpoint, Entry


class LinkedNumberQuerySet(models.QuerySet["LinkedNumber"]):
    def bound(self) -> LinkedNumberQuerySet:
        """Numbers that still hold an entry's binding: active or retiring."""
        return self.filter(state__in=(LinkedNumber.State.ACTIVE, LinkedNumber.State.RETIRING))

    def purge_due(self, now=None) -> LinkedNumberQuerySet:
        """Retiring numbers whose forwarding window has ended by ``now``."""
        return self.filter(
            state=LinkedNumber.State.RETIRING, forward_until__lte=now or timezone.now()
        )


class LinkedNumber(models.Model):
    """A phone number an entry proved it owns: ``active → retiring → retired``.

    ``e164`` is set while active or retiring and emptied when retired (the purge).
    ``forward_audience`` says who may see the forward to the entry's handle during the
    window (an :class:`Endpoint.Audience` value); ``forward_until`` ends the window.
    ``end_reason`` says why a retired number ended: its window ran out, a moderator
    ended it, or a new owner proved the (recycled) number.
    """

    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        RETIRING = "retiring", _("Retiring (forwarding)")
        RETIRED = "retired", _("Retired (purged)")

    class EndReason(models.TextChoices):
        WINDOW_ENDED = "window_ended", _("Forwarding window ended")
        MODERATOR = "moderator", _("Ended by a moderator")
        RECYCLED = "recycled", _("Number proved by a new owner")

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="numbers")
    e164 = models.CharField(  # noqa: DJ001 — NULL once purged, so the unique index skips it
        max_length=16, null=True, blank=True, help_text="E.164, kept until the purge."
    )
    last_digits = models.CharField(
        max_length=2, help_text="The last two digits, so the owner can tell numbers apart."
    )
    calling_code = models.PositiveSmallIntegerField(help_text="ITU-T E.164 country code.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.ACTIVE)
    forward_audience = models.CharField(
        max_length=16, choices=Endpoint.Audience.choices, default=Endpoint.Audience.SIGNED_IN
    )
    linked_at = models.DateTimeField(default=timezone.now)
    retiring_at = models.DateTimeField(null=True, blank=True)
    forward_until = models.DateTimeField(null=True, blank=True, db_index=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, choices=EndReason.choices, blank=True)
    # When the owner was emailed that the binding ended early: claimed before the mail is
    # sent, so a task delivered twice sends one message.
    end_emailed_at = models.DateTimeField(null=True, blank=True)

    objects = LinkedNumberQuerySet.as_manager()

    class Meta:
        ordering = ["-linked_at", "-id"]
        # Moderators' "end forwarding now" (retire and purge at once); nobody changes a row.
        permissions = [("end_forwarding", "Can end a number's forwarding now")]
        constraints = [
            # One binding per number: a recycled number ends the old one first.
            models.UniqueConstraint(
                fields=["e164"],
                condition=models.Q(state__in=["active", "retiring"]),
                name="number_one_binding",
            ),
            models.CheckConstraint(
                condition=models.Q(state="retired", e164__isnull=True)
                | (~models.Q(state="retired") & models.Q(e164__isnull=False)),
                name="number_clear_only_while_bound",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="retiring") | models.Q(forward_until__isnull=False),
                name="number_retiring_has_window",
            ),
        ]
        indexes = [models.Index(fields=["state", "forward_until"], name="number_state_due")]

    def __str__(self) -> str:
        return f"+{self.calling_code} …{self.last_digits} ({self.state})"

    @property
    def masked(self) -> str:
        """``+39 ••••••42``: the calling code and the last two digits only."""
        return f"+{self.calling_code} ••••••{self.last_digits}"


class NumberVerification(models.Model):
    """A one-time code sent to ``e164`` to prove ``entry``'s owner holds the number.

    Only an HMAC of the code is kept. A code works once (``used_at``), until
    ``expires_at``, and for at most ``NUMBER_CODE_MAX_ATTEMPTS`` wrong guesses.
    Rows are deleted when used, expired, or when the number is purged.
    """

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="+")
    e164 = models.CharField(max_length=16)
    code_digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"code for entry {self.entry_id} sent {self.created_at:%Y-%m-%d %H:%M}"


class NumberSend(models.Model):
    """One code message sent, for the toll-fraud limits: keyed by the number's digest
    (never the number), by its country calling code and by the account that asked."""

    number_digest = models.CharField(max_length=64)
    calling_code = models.PositiveSmallIntegerField()
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # the (account, sent_at) index serves it
    )
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["number_digest", "sent_at"], name="number_send_by_number"),
            models.Index(fields=["calling_code", "sent_at"], name="number_send_by_country"),
            models.Index(fields=["account", "sent_at"], name="number_send_by_account"),
        ]

    def __str__(self) -> str:
        return f"code sent to +{self.calling_code} at {self.sent_at:%Y-%m-%d %H:%M}"


class RetiredNumber(models.Model):
    """What remains of a retired number: its keyed hash and the date it was retired.

    ``digest`` is HMAC-SHA256 of the E.164 number under key ``key_version`` of
    ``NUMBER_HASH_KEYS``; no entry is linked, so the record says only "this number was
    retired on ``retired_on``" (FCC Reassigned Numbers Database style).
    """

    key_version = models.PositiveSmallIntegerField()
    digest = models.CharField(max_length=64)
    retired_on = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-retired_on", "-id"]
        indexes = [models.Index(fields=["key_version", "digest"], name="retired_number_digest")]

    def __str__(self) -> str:
        return f"retired {self.retired_on} (key v{self.key_version})"


class LookupQuota(models.Model):
    """Items one client (``user-<id>`` or ``app-<id>``) asked about, per kind of
    operation, for the daily limits that must hold against an attacker."""

    class Kind(models.TextChoices):
        LOOKUP = "lookup", _("Number lookup")
        DISCOVER = "discover", _("Contact discovery")

    client = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    items = models.PositiveIntegerField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["client", "kind", "at"], name="lookup_quota_recent")]

    def __str__(self) -> str:
        return f"{self.client} {self.kind} ×{self.items}"


class NumberNotice(models.Model):
    """A note on ``recipient``'s contacts page: ``moved`` (an entry they saved) retired a
    phone number and is reached at its handle now. Names no number."""

    recipient = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="+")
    moved = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    # When the recipient was emailed about it: claimed before the mail is sent, so a task
    # delivered twice sends one message.
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "dismissed_at"], name="number_notice_open")]

    def __str__(self) -> str:
        return f"notice to {self.recipient_id} about {self.moved_id}"
