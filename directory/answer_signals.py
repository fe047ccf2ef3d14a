"""Keep the answer cache (:mod:`directory.answers`) fresh: every write that can change an
answer replaces the tokens of what it touched, once its transaction commits.

Model signals rather than calls in each service, so that no write path is missed: the
services of the directory, verification, numbers, moderation, contacts and data rights,
the admin and the importers all save and delete through the ORM. (A bulk ``update()`` or
raw SQL on these tables sends no signal; none does so, and a bulk load calls
:func:`directory.answers.drop_all`.)

What a write touches:

- an entry (saved or deleted): its directory handle before and after (a rename frees one
  name and takes another), every key that reaches it (see below), and the facts of its
  owner before and after as a caller (a suspended entry earns its owner no ``verified``
  and no contacts);
- a handle: its key before and after, every key that reaches its entry, and its entry's
  owner's facts (``verified`` callers are those whose entry holds a verified handle);
- an endpoint or a linked phone number: every key that reaches its entry;
- a contact (``owner`` saved ``saved``): the facts of ``saved``'s owner, whose caller
  class toward ``owner`` changes;
- an OAuth2 access token (saved, revoked): what the resolve fast path cached of it; an
  account (saved, closed, deleted): its facts, and so its tokens' records.

"Every key that reaches an entry" is its directory handle and the keys of all its
handles, read after commit (and, for a deletion, before it, since the rows are gone).
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

from directory.answers import caller_dep, directory_dep, handle_dep, invalidate_on_commit


def entry_deps(entry_id: int | None) -> set[str]:
    """The dependencies an answer about entry ``entry_id`` may have: its directory handle,
    its handles' keys and its owner's caller facts (one query; empty when the entry is
    gone)."""
    from directory.models import Entry, Handle

    if entry_id is None:
        return set()
    deps: set[str] = set()
    for canonical, owner_id in Entry.objects.filter(pk=entry_id).values_list(
        "handle_canonical", "owner_id"
    ):
        deps.add(directory_dep(canonical))
        if owner_id is not None:
            deps.add(caller_dep(owner_id))
    for kind, key in Handle.objects.filter(entry_id=entry_id).values_list("kind", "key"):
        deps.add(handle_dep(kind, key))
    return deps


def _entry_changed(entry_id: int | None, *extra: str) -> None:
    """Replace, on commit, the tokens of ``extra`` and of everything that reaches the
    entry, read both now and after commit."""
    from django.db import transaction

    from directory.answers import Invalidation

    now = entry_deps(entry_id) | set(extra)
    invalidate_on_commit(now)
    if entry_id is not None:
        transaction.on_commit(Invalidation(lambda: entry_deps(entry_id) - now))


def _entry_pre_save(sender, instance, raw=False, **kwargs) -> None:
    instance._answers_before = None
    if instance.pk is not None and not raw:
        instance._answers_before = (
            sender.objects.filter(pk=instance.pk)
            .values_list("handle_canonical", "owner_id")
            .first()
        )


def _entry_post_save(sender, instance, raw=False, **kwargs) -> None:
    extra = {directory_dep(instance.handle_canonical)}
    if instance.owner_id is not None:
        extra.add(caller_dep(instance.owner_id))
    before = getattr(instance, "_answers_before", None)
    if before is not None:
        extra.add(directory_dep(before[0]))
        if before[1] is not None:
            extra.add(caller_dep(before[1]))
    _entry_changed(instance.pk, *extra)


def _entry_pre_delete(sender, instance, **kwargs) -> None:
    # The handles go before the entry in a cascade; read what reaches it while it stands.
    instance._answers_reach = entry_deps(instance.pk)


def _entry_post_delete(sender, instance, **kwargs) -> None:
    deps = set(getattr(instance, "_answers_reach", set()))
    deps.add(directory_dep(instance.handle_canonical))
    if instance.owner_id is not None:
        deps.add(caller_dep(instance.owner_id))
    invalidate_on_commit(deps)


def _handle_pre_save(sender, instance, raw=False, **kwargs) -> None:
    instance._answers_before = None
    if instance.pk is not None and not raw:
        instance._answers_before = (
            sender.objects.filter(pk=instance.pk).values_list("kind", "key", "entry_id").first()
        )


def _handle_post_save(sender, instance, raw=False, **kwargs) -> None:
    extra = {handle_dep(instance.kind, instance.key)}
    before = getattr(instance, "_answers_before", None)
    if before is not None:
        extra.add(handle_dep(before[0], before[1]))
        if before[2] != instance.entry_id:
            _entry_changed(before[2])
    _entry_changed(instance.entry_id, *extra)


def _handle_post_delete(sender, instance, **kwargs) -> None:
    _entry_changed(instance.entry_id, handle_dep(instance.kind, instance.key))


def _endpoint_changed(sender, instance, raw=False, **kwargs) -> None:
    _entry_changed(instance.entry_id)


def _contact_changed(sender, instance, raw=False, **kwargs) -> None:
    from directory.models import Entry

    owners = Entry.objects.filter(pk=instance.saved_id).values_list("owner_id", flat=True)
    invalidate_on_commit(caller_dep(owner) for owner in owners if owner is not None)


def _token_changed(sender, instance, raw=False, **kwargs) -> None:
    from directory.answers import token_dep

    if instance.token_checksum:
        invalidate_on_commit([token_dep(instance.token_checksum)])


def _user_changed(sender, instance, raw=False, **kwargs) -> None:
    # An account closed (is_active) or gone: its tokens' records must not answer.
    invalidate_on_commit([caller_dep(instance.pk)])


def connect() -> None:
    """Connect the receivers (from :meth:`directory.apps.DirectoryConfig.ready`)."""
    from accounts.models import Contact
    from directory.models import Endpoint, Entry, Handle
    from directory.numbers.models import LinkedNumber

    uid = "directory.answers"
    pre_save.connect(_entry_pre_save, sender=Entry, dispatch_uid=f"{uid}.entry.pre_save")
    post_save.connect(_entry_post_save, sender=Entry, dispatch_uid=f"{uid}.entry.post_save")
    pre_delete.connect(_entry_pre_delete, sender=Entry, dispatch_uid=f"{uid}.entry.pre_delete")
    post_delete.connect(_entry_post_delete, sender=Entry, dispatch_uid=f"{uid}.entry.post_delete")
    pre_save.connect(_handle_pre_save, sender=Handle, dispatch_uid=f"{uid}.handle.pre_save")
    post_save.connect(_handle_post_save, sender=Handle, dispatch_uid=f"{uid}.handle.post_save")
    post_delete.connect(
        _handle_post_delete, sender=Handle, dispatch_uid=f"{uid}.handle.post_delete"
    )
    for model, name in ((Endpoint, "endpoint"), (LinkedNumber, "number")):
        post_save.connect(_endpoint_changed, sender=model, dispatch_uid=f"{uid}.{name}.save")
        post_delete.connect(_endpoint_changed, sender=model, dispatch_uid=f"{uid}.{name}.delete")
    from django.contrib.auth import get_user_model
    from oauth2_provider.models import get_access_token_model

    for model, name, receiver in (
        (get_access_token_model(), "token", _token_changed),
        (get_user_model(), "user", _user_changed),
    ):
        post_save.connect(receiver, sender=model, dispatch_uid=f"{uid}.{name}.save")
        post_delete.connect(receiver, sender=model, dispatch_uid=f"{uid}.{name}.delete")
    post_save.connect(_contact_changed, sender=Contact, dispatch_uid=f"{uid}.contact.save")
    post_delete.connect(_contact_changed, sender=Contact, dispatch_uid=f"{uid}.contact.delete")
