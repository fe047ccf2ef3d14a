"""Binding records: every write that changes what a directory handle answers appends one.

Model signals, like the answer cache's (:mod:`directory.answer_signals`, whose reasoning
this follows: no write path is missed because every service, the admin and the importers
save and delete through the ORM), name the directory handles a write touched: an entry's
handle before and after a save (a rename frees one and takes another), or after a delete;
the entry a handle or endpoint belongs to, before and after it moves (the rows as they
were are those the answer cache's ``pre_save`` receivers read, ``_answers_before``). For
each, in the same transaction as the write, :func:`binding_changed` reads what the handle
answers now and, when that differs from its last record, queues a pending :class:`LogLeaf`
with the next record of the handle's chain (its ``seq`` and the hash of the previous
record) and schedules ``transparency.integrate`` through the outbox. Several writes to one
handle in one transaction make one record, holding the state at commit.

Nothing is recorded while the log has no signing key (TRANSPARENCY_SIGNING_KEY empty).
A linked phone number's forwarding window is not a binding of a directory handle and is
not logged.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from transparency.actors import current_user_id
from transparency.verifier import tlog
from transparency.verifier.binding import (
    ENDPOINT_DOMAIN,
    HANDLE_DOMAIN,
    SALT_SIZE,
    BindingRecord,
    canonical_json,
    commitment,
    endpoint_encoding,
    handle_encoding,
    item_salt,
)

#: The digest of a handle that answers nothing: the state before its first record.
SILENT_DIGEST = hashlib.sha256(canonical_json({"answers": False})).digest()


def enabled() -> bool:
    """Whether binding changes are logged: the log has a signing key."""
    return bool(settings.TRANSPARENCY_SIGNING_KEY)


@dataclass(frozen=True)
class Binding:
    """What a directory handle answers: verified handles and endpoint encodings."""

    answers: bool
    handles: tuple[str, ...] = ()
    private_handles: tuple[bytes, ...] = ()
    endpoints: tuple[bytes, ...] = ()

    @property
    def digest(self) -> bytes:
        """SHA-256 of the unsalted state: equal digests, nothing a caller sees changed."""
        if not self.answers:
            return SILENT_DIGEST
        state = {
            "answers": True,
            "handles": sorted(self.handles),
            "private_handles": sorted(h.decode() for h in self.private_handles),
            "endpoints": sorted(e.decode() for e in self.endpoints),
        }
        return hashlib.sha256(canonical_json(state)).digest()

    def record(self, handle: str, seq: int, prev: bytes | None, secret: bytes, now) -> bytes:
        """The record's log entry bytes, salts derived from ``secret``."""
        return BindingRecord(
            handle=handle,
            seq=seq,
            prev=None if prev is None else _b64(prev),
            time=now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            answers=self.answers,
            handles=self.handles,
            private_handles=tuple(
                commitment(HANDLE_DOMAIN, item_salt(secret, HANDLE_DOMAIN, h), h)
                for h in self.private_handles
            ),
            endpoints=tuple(
                commitment(ENDPOINT_DOMAIN, item_salt(secret, ENDPOINT_DOMAIN, e), e)
                for e in self.endpoints
            ),
        ).encode()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def binding_of(handle: str) -> Binding:
    """What the entry with directory handle ``handle`` (case-folded) answers now."""
    from directory.api.serializers import EndpointSerializer
    from directory.models import Entry
    from directory.policy import PHONE_HANDLE_KINDS

    entry = (
        Entry.objects.filter(handle_canonical=handle)
        .prefetch_related("handles", "endpoints")
        .first()
    )
    if entry is None or entry.status != Entry.Status.ACTIVE:
        return Binding(answers=False)
    public, private = [], []
    for h in entry.handles.all():
        if not h.is_verified:
            continue
        if h.kind in PHONE_HANDLE_KINDS and h.canonical.startswith("+"):
            private.append(handle_encoding(h.kind, h.canonical))
        else:
            public.append(f"{h.kind}:{h.canonical}")
    endpoints = [endpoint_encoding(EndpointSerializer(e).data) for e in entry.endpoints.all()]
    return Binding(
        answers=True,
        handles=tuple(sorted(public)),
        private_handles=tuple(sorted(private)),
        endpoints=tuple(sorted(endpoints)),
    )


class _Pending:
    """The on-commit callback holding, for the current transaction, the handles whose
    record is already queued: handle → (leaf id, seq, previous leaf hash, secret).

    Found again in ``connection.run_on_commit`` by later writes of the same transaction;
    dropped with it on rollback, like the rows it names.
    """

    def __init__(self) -> None:
        self.leaves: dict[str, tuple[int, int, bytes | None, bytes]] = {}
        self.ran = False

    def __call__(self) -> None:
        from transparency.alerts import leaves_check

        self.ran = True
        if self.leaves:
            leaves_check(leaf for leaf, _seq, _prev, _secret in self.leaves.values())


def _pending() -> _Pending:
    connection = transaction.get_connection()
    for _sids, callback, _robust in connection.run_on_commit:
        if isinstance(callback, _Pending) and not callback.ran:
            return callback
    callback = _Pending()
    # Robust: a failure to alert is logged, never raised into the write that committed.
    transaction.on_commit(callback, robust=True)
    return callback


def binding_changed(handles) -> None:
    """Record, in the current transaction, what each directory handle in ``handles`` now
    answers, when it changed since its last record.

    Input: case-folded directory handles. Output: none; pending LogLeaf rows and the
    handles' LogHandleHead rows are written, and ``transparency.integrate`` scheduled
    through the outbox after commit. Outside a transaction, one is opened. Errors:
    database errors propagate, so the write fails with its record, never without it.
    """
    from directory.outbox import outbox_enqueue
    from transparency.models import LogHandleHead, LogLeaf

    handles = sorted({h for h in handles if h})
    if not handles or not enabled():
        return
    with transaction.atomic():
        pending = _pending()
        appended: list[str] = []
        for handle in handles:
            binding = binding_of(handle)
            now = timezone.now()
            LogHandleHead.objects.get_or_create(handle=handle, defaults={"digest": SILENT_DIGEST})
            head = LogHandleHead.objects.select_for_update().get(handle=handle)
            known = pending.leaves.get(handle)
            if known is not None:
                leaf_id, seq, prev, secret = known
                data = binding.record(handle, seq, prev, secret, now)
                if LogLeaf.objects.filter(pk=leaf_id, index__isnull=True).update(data=data):
                    head.leaf_hash, head.digest = tlog.leaf_hash(data), binding.digest
                    head.save(update_fields=["leaf_hash", "digest", "updated_at"])
                    continue
                # Rolled back with a savepoint: start again from the head as it stands.
                del pending.leaves[handle]
            if bytes(head.digest) == binding.digest:
                continue
            seq = head.seq + 1
            prev = bytes(head.leaf_hash) if seq > 0 else None
            secret = secrets.token_bytes(SALT_SIZE)
            data = binding.record(handle, seq, prev, secret, now)
            leaf = LogLeaf.objects.create(
                data=data, handle=handle, seq=seq, secret=secret, actor_id=current_user_id()
            )
            pending.leaves[handle] = (leaf.pk, seq, prev, secret)
            head.seq, head.leaf_hash, head.digest = seq, tlog.leaf_hash(data), binding.digest
            head.save(update_fields=["seq", "leaf_hash", "digest", "updated_at"])
            appended.append(handle)
        if appended:
            outbox_enqueue("transparency.integrate", dedupe_key="transparency.integrate")
            # What a proof of these handles reads from the answer cache (their latest
            # record); a record rewritten in place above was appended earlier in this
            # transaction, which already asked for it.
            from directory.answers import invalidate_on_commit
            from transparency.selectors import log_dep

            invalidate_on_commit(log_dep(handle) for handle in appended)


# ------------------------------------------------------------------------------ signals


def _entry_handle(entry_id: int | None) -> list[str]:
    from directory.models import Entry

    if entry_id is None:
        return []
    return list(Entry.objects.filter(pk=entry_id).values_list("handle_canonical", flat=True))


def _entry_saved(sender, instance, raw=False, **kwargs) -> None:
    if raw or not enabled():
        return
    # The answer cache's pre_save receiver read the row as it was: (handle, owner).
    before = getattr(instance, "_answers_before", None)
    binding_changed([instance.handle_canonical, *([before[0]] if before else [])])


def _entry_deleted(sender, instance, **kwargs) -> None:
    if enabled():
        binding_changed([instance.handle_canonical])


def _child_saved(sender, instance, raw=False, **kwargs) -> None:
    if raw or not enabled():
        return
    entries = {instance.entry_id}
    # A handle's row as it was, read by the answer cache's pre_save: (kind, key, entry).
    before = getattr(instance, "_answers_before", None)
    if sender.__name__ == "Handle" and before is not None:
        entries.add(before[2])
    binding_changed(h for entry_id in entries - {None} for h in _entry_handle(entry_id))


def _child_deleted(sender, instance, **kwargs) -> None:
    # In an entry's cascade the entry row still stands here; its own post_delete, sent
    # last, records the handle as gone.
    if enabled():
        binding_changed(_entry_handle(instance.entry_id))


def connect() -> None:
    """Connect the receivers (from :meth:`transparency.apps.TransparencyConfig.ready`)."""
    from directory.models import Endpoint, Entry, Handle

    uid = "transparency.bindings"
    post_save.connect(_entry_saved, sender=Entry, dispatch_uid=f"{uid}.entry.post_save")
    post_delete.connect(_entry_deleted, sender=Entry, dispatch_uid=f"{uid}.entry.post_delete")
    for model, name in ((Handle, "handle"), (Endpoint, "endpoint")):
        post_save.connect(_child_saved, sender=model, dispatch_uid=f"{uid}.{name}.post_save")
        post_delete.connect(_child_deleted, sender=model, dispatch_uid=f"{uid}.{name}.post_delete")
