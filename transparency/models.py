"""The transparency log's storage: leaves, the Merkle tree's stored hashes, checkpoints.

Leaves are appended pending (no index) and integrated in order by
:func:`transparency.services.log_integrate`, which holds the lock on the one
:class:`LogTree` row; each integration stores, in one transaction, the leaves' indexes, the
new hashes (at the positions of :func:`transparency.verifier.tlog.stored_hash_index`), the new
tree size and root, and a signed checkpoint, so a crash leaves all of it or none of it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from transparency.verifier.tlog import EMPTY_ROOT


class LogTree(models.Model):
    """The log's size and root hash: one row (id 1), locked while leaves are integrated."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(default=0)
    root_hash = models.BinaryField(max_length=32, default=EMPTY_ROOT)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="transparency_one_tree"),
            models.CheckConstraint(condition=models.Q(size__gte=0), name="transparency_size_gte_0"),
        ]

    def __str__(self) -> str:
        return f"log of {self.size} leaves"


class LogLeaf(models.Model):
    """One log entry: its bytes, and its index once integrated into the tree.

    A binding record (:mod:`transparency.verifier.binding`) also names its directory
    ``handle`` and ``seq``, and keeps the ``secret`` its salts derive from: never
    published, it lets the server open the commitments a caller may see.
    """

    data = models.BinaryField()
    index = models.BigIntegerField(null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    integrated_at = models.DateTimeField(null=True, blank=True)
    handle = models.CharField(max_length=60, null=True, blank=True)  # noqa: DJ001
    seq = models.BigIntegerField(null=True, blank=True)
    secret = models.BinaryField(max_length=32, null=True, blank=True, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The signed-in account whose request made the change (never published).",
    )

    class Meta:
        indexes = [
            models.Index(
                fields=["id"],
                condition=models.Q(index__isnull=True),
                name="transparency_leaf_pending",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["handle", "seq"],
                condition=models.Q(handle__isnull=False),
                name="transparency_leaf_handle_seq",
            )
        ]

    def __str__(self) -> str:
        return f"leaf {self.index}" if self.index is not None else f"pending leaf {self.pk}"


class LogHash(models.Model):
    """A stored Merkle tree hash, at its position in the sumdb/tlog layout."""

    position = models.BigIntegerField(primary_key=True)
    hash = models.BinaryField(max_length=32)

    def __str__(self) -> str:
        return f"hash {self.position}"


class LogCheckpoint(models.Model):
    """A signed checkpoint (c2sp.org/tlog-checkpoint) the log published."""

    size = models.BigIntegerField(unique=True)
    root_hash = models.BinaryField(max_length=32)
    note = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"checkpoint of {self.size} leaves"


class LogHandleHead(models.Model):
    """The last binding record of one directory handle: its chain's head.

    Locked while a write appends the handle's next record, so ``seq`` numbers follow one
    another. ``digest`` is SHA-256 of what the handle answered (unsalted, never published),
    so a write that changes nothing a caller sees appends nothing.
    """

    handle = models.CharField(max_length=60, primary_key=True)
    seq = models.BigIntegerField(default=-1)
    leaf_hash = models.BinaryField(max_length=32, default=b"")
    digest = models.BinaryField(max_length=32, default=b"")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"@{self.handle} at {self.seq}"


class LogCosignature(models.Model):
    """A witness's cosignature (c2sp.org/tlog-cosignature) on one published checkpoint."""

    checkpoint = models.ForeignKey(
        LogCheckpoint, on_delete=models.CASCADE, related_name="cosignatures"
    )
    name = models.CharField(max_length=200)
    key_id = models.BigIntegerField()
    timestamp = models.BigIntegerField()
    line = models.TextField(help_text="The signature line, as appended to the checkpoint.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["checkpoint", "name", "key_id"], name="transparency_one_cosignature"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} on {self.checkpoint}"


class LogAlert(models.Model):
    """A binding change an owner is told of: not made from their account, and with no
    audit event that accounts for it (a moderator's action, a verification)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="log_alerts"
    )
    leaf = models.OneToOneField(LogLeaf, on_delete=models.CASCADE, related_name="alert")
    created_at = models.DateTimeField(auto_now_add=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"alert on {self.leaf}"
