"""Writes to the directory. Every change to an entry goes through one of these actions.

Each action is atomic, normalizes its input through :mod:`directory.normalization`, turns
database constraint violations into :mod:`directory.exceptions` errors and schedules the
search index update after the transaction commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from directory.exceptions import ConflictError, Forbidden, HandleTaken, NormalizationError
from directory.models import Endpoint, Entry, EntryHandleSkeleton, Handle
from directory.normalization import (
    HandleKind,
    clean_display,
    normalize_directory_handle,
    normalize_domain,
    normalize_endpoint_uri,
    normalize_handle,
    skeleton,
)
from search.services import schedule_entry_sync

CAPABILITIES = ("voice", "video", "text")
NICKNAME_MAX = 200


def _clean_nickname(nickname: str) -> str:
    text = clean_display(nickname)
    if not text:
        raise NormalizationError(_("A nickname needs at least one visible character."))
    if len(text) > NICKNAME_MAX:
        raise NormalizationError(
            _("A nickname has at most %(limit)d characters.") % {"limit": NICKNAME_MAX}
        )
    return text


# Names people would take for the service itself, its pages or its staff. Compared by
# skeleton with digit look-alikes folded (:func:`reserved_key`), so ``adrnin``, ``adm1n``,
# ``r00t`` and ``supp0rt`` are reserved too.
RESERVED_DIRECTORY_HANDLES = frozenset(
    """
    abuse about account accounts admin administrator api app apps auth billing contact
    contacts directory docs help hostmaster info legal login logout mod moderator
    moderators news noc ns null official owner password postmaster privacy root search
    security settings signin signout signup staff static status support sysadmin system
    team terms undefined verify webfinger webmaster well-known worldbook www
    """.split()
)


# Digits read as letters (leetspeak), applied after the UTS #39 skeleton, which already
# reads 0 as o and 1 as l; l and i are one class, since ``adm1n`` is read as ``admin``.
_LOOKALIKE_FOLD = str.maketrans(
    {"l": "i", "2": "z", "3": "e", "4": "a", "5": "s", "6": "b", "7": "t", "8": "b", "9": "g"}
)


def reserved_key(raw: str) -> str:
    """The key a directory handle is compared by against the built-in reserved names.

    Input: a directory handle as typed. Output: the UTS #39 skeleton of its case-folded
    form with digit look-alikes folded (0→o, 1→l/i, 3→e, 4→a, 5→s, 7→t, …), so ``adm1n``
    and ``admin`` share a key. Used for reserved names only: ordinary handles keep their
    digits (``bob1984`` is not ``bobigba``'s twin). Raises :class:`NormalizationError`
    for an invalid handle.
    """
    folded = normalize_directory_handle(normalize_directory_handle(raw).canonical)
    return folded.skeleton.translate(_LOOKALIKE_FOLD)


@lru_cache(maxsize=1)
def _reserved_skeletons() -> frozenset[str]:
    return frozenset(reserved_key(name) for name in RESERVED_DIRECTORY_HANDLES)


def directory_handle_check_available(raw: str, *, exclude_entry_id: int | None = None) -> None:
    """Raise :class:`HandleTaken` when ``raw`` equals or looks like a taken handle.

    Input: a directory handle as typed. Compares case-insensitively and by UTS #39
    skeleton (those of its display and case-folded forms against those of both forms of
    every taken handle, :class:`EntryHandleSkeleton`), against taken and reserved
    handles (``RESERVED_DIRECTORY_HANDLES`` and the names moderators reserved); a dotted
    handle may not be a domain (or AT Protocol handle) another entry has verified, since
    resolve reads ``example.org`` as either. Raises :class:`NormalizationError` for an
    invalid handle.
    """
    wanted = normalize_directory_handle(raw)
    reserved = _reserved_skeletons()
    if reserved_key(wanted.display) in reserved or any(
        key.translate(_LOOKALIKE_FOLD) in reserved for key in wanted.skeletons
    ):
        raise HandleTaken(_("@%(handle)s is reserved.") % {"handle": wanted.display})
    # Moderation: names moderators reserved (directory.moderation.ReservedName).
    from directory.moderation.selectors import reserved_name_for

    # The skeleton keeps case distinctions (``KIM`` → ``klrn``), so the skeletons of the
    # display and case-folded forms are both compared.
    if any(reserved_name_for(key) is not None for key in wanted.skeletons):
        raise HandleTaken(_("@%(handle)s is reserved.") % {"handle": wanted.display})
    if "." in wanted.canonical:
        try:
            as_domain = normalize_domain(wanted.canonical)
        except NormalizationError:
            as_domain = None
        if (
            as_domain
            and Handle.objects.filter(
                kind__in=(HandleKind.DOMAIN, HandleKind.ATPROTO),
                key=as_domain,
                status=Handle.Status.VERIFIED,
            )
            .exclude(entry_id=exclude_entry_id)
            .exists()
        ):
            raise HandleTaken(
                _("@%(handle)s is a domain another entry has proved it owns.")
                % {"handle": wanted.display}
            )
    if (
        Entry.objects.filter(handle_canonical=wanted.canonical)
        .exclude(pk=exclude_entry_id)
        .exists()
    ):
        raise HandleTaken(_("@%(handle)s is taken.") % {"handle": wanted.display})
    # Both forms of the wanted handle against both forms of every taken one (UTS #39).
    other = (
        EntryHandleSkeleton.objects.filter(skeleton__in=wanted.skeletons)
        .exclude(entry_id=exclude_entry_id)
        .select_related("entry")
        .only("entry__handle")
        .first()
    )
    if other is not None:
        raise HandleTaken(
            _("@%(handle)s looks too much like @%(other)s, which is taken.")
            % {"handle": wanted.display, "other": other.entry.handle}
        )


def _claim_skeletons(entry: Entry, wanted) -> None:
    """Store the skeletons of ``entry``'s handle (both forms), replacing its old ones;
    the unique column makes the database refuse a look-alike that raced past the check."""
    EntryHandleSkeleton.objects.filter(entry=entry).delete()
    EntryHandleSkeleton.objects.bulk_create(
        EntryHandleSkeleton(entry=entry, skeleton=key) for key in sorted(wanted.skeletons)
    )


@transaction.atomic
def entry_create(
    *,
    nickname: str,
    handle: str,
    owner=None,
    discoverable: bool = True,
    import_key: str | None = None,
) -> Entry:
    """Create an entry with a directory handle.

    Inputs: ``nickname`` (display name), ``handle`` (``alice`` or ``@alice``), ``owner``
    (a user or ``None`` for operator entries), ``discoverable``, ``import_key``.
    Output: the saved :class:`Entry`. Raises :class:`NormalizationError` for an invalid
    handle or nickname and :class:`HandleTaken` when it equals or looks like a taken one
    (checked first for a clear message, then enforced by the database constraints).
    """
    wanted = normalize_directory_handle(handle)
    nickname = _clean_nickname(nickname)
    directory_handle_check_available(wanted.display)
    entry = Entry(
        owner=owner,
        nickname=nickname,
        nickname_skeleton=skeleton(nickname),
        handle=wanted.display,
        handle_canonical=wanted.canonical,
        handle_skeleton=wanted.skeleton,
        discoverable=discoverable,
        import_key=import_key,
    )
    try:
        with transaction.atomic():
            entry.save()
            _claim_skeletons(entry, wanted)
    except IntegrityError:
        raise HandleTaken(_("@%(handle)s is taken.") % {"handle": wanted.display}) from None
    schedule_entry_sync(entry.pk)
    return entry


@transaction.atomic
def entry_update(
    *,
    entry: Entry,
    nickname: str | None = None,
    handle: str | None = None,
    discoverable: bool | None = None,
    findable_by_number: bool | None = None,
) -> Entry:
    """Change an entry's nickname, directory handle or discoverability (listed in
    search: ``discoverable``; found by a phone number: ``findable_by_number``).

    Only the given fields change. Raises as :func:`entry_create` does.
    """
    fields: list[str] = []
    if nickname is not None:
        entry.nickname = _clean_nickname(nickname)
        entry.nickname_skeleton = skeleton(entry.nickname)
        fields += ["nickname", "nickname_skeleton"]
    wanted = None
    if handle is not None:
        wanted = normalize_directory_handle(handle)
        directory_handle_check_available(wanted.display, exclude_entry_id=entry.pk)
        entry.handle = wanted.display
        entry.handle_canonical = wanted.canonical
        entry.handle_skeleton = wanted.skeleton
        fields += ["handle", "handle_canonical", "handle_skeleton"]
    if discoverable is not None:
        entry.discoverable = discoverable
        fields.append("discoverable")
    if findable_by_number is not None:
        entry.findable_by_number = findable_by_number
        fields.append("findable_by_number")
    if fields:
        try:
            with transaction.atomic():
                entry.save(update_fields=[*fields, "updated_at"])
                if wanted is not None:
                    _claim_skeletons(entry, wanted)
        except IntegrityError:
            raise HandleTaken(_("@%(handle)s is taken.") % {"handle": entry.handle}) from None
        schedule_entry_sync(entry.pk)
    return entry


@transaction.atomic
def entry_set_status(*, entry: Entry, status: str) -> Entry:
    """Suspend or reinstate ``entry`` (``status``: an :class:`Entry.Status` value).

    A suspended entry is hidden from every surface but its owner, and the search index
    drops it after commit. Raises :class:`NormalizationError` for an unknown status.
    """
    if status not in Entry.Status.values:
        raise NormalizationError(
            _("%(status)r is not an entry status (%(choices)s).")
            % {"status": status, "choices": ", ".join(Entry.Status.values)}
        )
    entry.status = status
    entry.save(update_fields=["status", "updated_at"])
    schedule_entry_sync(entry.pk)
    return entry


class EntrySuspended(ConflictError):
    """The owner tried to delete a suspended entry."""

    slug = "entry-suspended"
    title = "A suspended entry cannot be deleted"


@transaction.atomic
def entry_delete(*, entry: Entry, allow_suspended: bool = False) -> None:
    """Delete an entry with its handles and endpoints; the index drops it after commit.

    A suspended entry is refused with :class:`EntrySuspended` (HTTP 409) unless
    ``allow_suspended`` (an operator in the admin): deleting it and registering the
    handle again would shed the suspension. When a suspended entry does go, its handle
    stays reserved and its report cases and appeals are closed
    (:func:`directory.moderation.services.departures.entries_departing`).
    """
    from directory.moderation.services.departures import entries_departing

    entry = Entry.objects.select_for_update().get(pk=entry.pk)
    if entry.status == Entry.Status.SUSPENDED and not allow_suspended:
        notices = reverse("moderation:notices")
        raise EntrySuspended(
            _(
                "@%(handle)s is suspended, so it cannot be deleted. To contest the "
                "suspension, file an appeal from your moderation notices (%(notices)s)."
            )
            % {"handle": entry.handle, "notices": notices}
        )
    entry_id = entry.pk
    entries_departing([entry_id])
    entry.delete()
    schedule_entry_sync(entry_id)


@transaction.atomic
def handle_add(*, entry: Entry, kind: str, raw: str) -> Handle:
    """Claim an external handle for ``entry``; it starts ``unverified``.

    Inputs: ``kind`` (a :class:`~directory.normalization.HandleKind` value) and ``raw``
    (the handle as given). Output: the saved :class:`Handle`, or the existing one when the
    entry already claims the same handle (idempotent). Raises
    :class:`NormalizationError` for a malformed handle.
    """
    normal = normalize_handle(kind, raw)
    _check_fits(Handle, "canonical", normal.canonical)
    existing = Handle.objects.filter(entry=entry, kind=normal.kind, key=normal.key).first()
    if existing is not None:
        return existing
    handle = Handle(
        entry=entry,
        kind=normal.kind,
        raw=raw.strip()[:512],
        canonical=normal.canonical,
        key=normal.key,
        skeleton=skeleton(normal.canonical),
    )
    try:
        with transaction.atomic():
            handle.save()
    except IntegrityError:
        raise ConflictError(
            _("%(handle)s is already claimed by this entry.") % {"handle": normal.canonical}
        ) from None
    schedule_entry_sync(entry.pk)
    return handle


@transaction.atomic
def handle_mark_verified(*, handle: Handle, when=None, method: str = "") -> Handle:
    """Record that ``handle``'s owner proved control of it.

    Inputs: ``handle``; ``when`` (default now); ``method``, the verification method that
    proved it (kept in ``Handle.verified_by``; ``Handle.DEMO`` for demo data, empty for a
    moderator's decision). Raises :class:`ConflictError` when another entry already holds
    the handle verified (the database allows one verified owner per handle).
    """
    when = when or timezone.now()
    handle.status = Handle.Status.VERIFIED
    handle.verified_at = when
    handle.checked_at = when
    handle.verified_by = method
    try:
        with transaction.atomic():
            handle.save(
                update_fields=["status", "verified_at", "checked_at", "verified_by", "updated_at"]
            )
    except IntegrityError:
        raise ConflictError(
            _("%(handle)s is already verified by another entry.") % {"handle": handle.canonical}
        ) from None
    schedule_entry_sync(handle.entry_id)
    return handle


@transaction.atomic
def handle_revoke(*, handle: Handle, when=None) -> Handle:
    """Withdraw ``handle``'s verification: a moderator found the proof wanting.

    The handle stays claimed with status ``revoked`` and stops answering lookups; the
    search index follows after commit.
    """
    handle.status = Handle.Status.REVOKED
    handle.checked_at = when or timezone.now()
    handle.save(update_fields=["status", "checked_at", "updated_at"])
    schedule_entry_sync(handle.entry_id)
    return handle


@transaction.atomic
def handle_remove(*, handle: Handle) -> None:
    """Drop a claimed handle."""
    entry_id = handle.entry_id
    handle.delete()
    schedule_entry_sync(entry_id)


def _check_fits(model, field: str, value: str) -> None:
    limit = model._meta.get_field(field).max_length
    if len(value) > limit:
        raise NormalizationError(
            _("That value is too long (%(length)d characters; at most %(limit)d).")
            % {"length": len(value), "limit": limit}
        )


def _capabilities(given: Iterable[str] | None, default: frozenset[str]) -> set[str]:
    if given is None:
        return set(default)
    caps = set(given)
    unknown = caps - set(CAPABILITIES)
    if unknown:
        raise NormalizationError(
            _("Unknown capabilities: %(names)s (use voice, video, text).")
            % {"names": ", ".join(sorted(unknown))}
        )
    return caps


@transaction.atomic
def endpoint_add(
    *,
    entry: Entry,
    uri: str,
    audience: str = Endpoint.Audience.EVERYONE,
    preference: int = 100,
    label: str = "",
    capabilities: Iterable[str] | None = None,
    region: str | None = None,
) -> Endpoint:
    """Add an endpoint to ``entry``, or update the one with the same normalized URI.

    Inputs: ``uri`` (``sip:alice@example.org``, ``https://matrix.to/#/@a:b``, ``tel:…``),
    ``audience`` (an :class:`Endpoint.Audience` value), ``preference`` (lower first),
    ``label``, ``capabilities`` (subset of voice/video/text; default from the scheme),
    ``region`` for national ``tel:`` numbers. Output: the saved :class:`Endpoint`.
    Raises :class:`NormalizationError` for an unsupported or malformed URI or audience.
    """
    if audience not in Endpoint.Audience.values:
        raise NormalizationError(
            _("%(audience)r is not an audience (%(choices)s).")
            % {"audience": audience, "choices": ", ".join(Endpoint.Audience.values)}
        )
    normal = normalize_endpoint_uri(uri, region=region)
    _check_fits(Endpoint, "uri", normal.uri)
    caps = _capabilities(capabilities, normal.capabilities)
    endpoint, _created = Endpoint.objects.update_or_create(
        entry=entry,
        uri=normal.uri,
        defaults={
            "scheme": normal.scheme,
            "service": normal.service,
            "voice": "voice" in caps,
            "video": "video" in caps,
            "text": "text" in caps,
            "preference": preference,
            "label": clean_display(label)[:64],
            "audience": audience,
        },
    )
    schedule_entry_sync(entry.pk)
    return endpoint


@transaction.atomic
def endpoint_update(*, endpoint: Endpoint, **changes) -> Endpoint:
    """Change an endpoint's audience, preference, label or capabilities.

    Accepted keyword arguments: ``audience``, ``preference``, ``label``, ``capabilities``.
    Raises :class:`NormalizationError` for a bad audience or capability, and
    :class:`Forbidden` for opening an endpoint a moderator hid.
    """
    if "audience" in changes:
        if changes["audience"] not in Endpoint.Audience.values:
            raise NormalizationError(
                _("%(audience)r is not an audience.") % {"audience": changes["audience"]}
            )
        # Moderation: an endpoint a moderator hid stays hidden until an appeal is granted.
        from directory.moderation.selectors import endpoint_hidden_by_moderator

        if changes["audience"] != Endpoint.Audience.NOBODY and endpoint_hidden_by_moderator(
            endpoint.pk
        ):
            raise Forbidden(
                _(
                    "A moderator hid this endpoint: it stays hidden unless an appeal is "
                    "granted (see your moderation notices)."
                )
            )
        endpoint.audience = changes["audience"]
    if "preference" in changes:
        endpoint.preference = int(changes["preference"])
    if "label" in changes:
        endpoint.label = clean_display(changes["label"])[:64]
    if "capabilities" in changes:
        caps = _capabilities(changes["capabilities"], frozenset())
        endpoint.voice, endpoint.video, endpoint.text = (c in caps for c in CAPABILITIES)
    endpoint.save()
    schedule_entry_sync(endpoint.entry_id)
    return endpoint


@transaction.atomic
def endpoint_remove(*, endpoint: Endpoint) -> None:
    entry_id = endpoint.entry_id
    endpoint.delete()
    schedule_entry_sync(entry_id)


PREFERENCE_STEP = 10


@transaction.atomic
def endpoint_move(*, endpoint: Endpoint, direction: str) -> Endpoint:
    """Move ``endpoint`` one place earlier (``direction="up"``) or later (``"down"``) in
    its entry's preference order, swapping places with its neighbour.

    Input: an endpoint of an entry the caller may manage; ``direction`` ``"up"`` or
    ``"down"``. Output: the endpoint, saved. The entry's endpoints are locked and read in
    the order callers see (``preference``, then ``id``); the two preferences are swapped
    when they differ, otherwise every endpoint is renumbered 10, 20, 30, … in the new
    order, so a move always changes what callers see. Moving the first endpoint up or
    the last one down changes nothing. Raises :class:`NormalizationError` for another
    ``direction``.
    """
    if direction not in ("up", "down"):
        raise NormalizationError(
            _("%(direction)r is not a direction (up, down).") % {"direction": direction}
        )
    ordered = list(
        Endpoint.objects.select_for_update()
        .filter(entry_id=endpoint.entry_id)
        .order_by("preference", "id")
    )
    index = next(i for i, e in enumerate(ordered) if e.pk == endpoint.pk)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(ordered):
        return ordered[index]
    mover, neighbour = ordered[index], ordered[other]
    if mover.preference != neighbour.preference:
        mover.preference, neighbour.preference = neighbour.preference, mover.preference
        changed = [mover, neighbour]
    else:
        ordered[index], ordered[other] = neighbour, mover
        changed = []
        for position, item in enumerate(ordered, start=1):
            wanted = min(position * PREFERENCE_STEP, 32767)
            if item.preference != wanted:
                item.preference = wanted
                changed.append(item)
    now = timezone.now()
    for item in changed:
        item.updated_at = now
    Endpoint.objects.bulk_update(changed, ["preference", "updated_at"])
    schedule_entry_sync(endpoint.entry_id)
    return mover


@transaction.atomic
def endpoint_set_uri(*, endpoint: Endpoint, uri: str, region: str | None = None) -> Endpoint:
    """Point ``endpoint`` at another URI, keeping its audience, label and preference.

    Inputs: the endpoint, ``uri`` and ``region`` as for :func:`endpoint_add`. Output:
    the saved endpoint with its scheme and service read from the new URI (capabilities
    are left to the caller, who sets them with :func:`endpoint_update`). Raises
    :class:`NormalizationError` for an unsupported or malformed URI and
    :class:`ConflictError` when the entry already lists that URI as another endpoint.
    """
    normal = normalize_endpoint_uri(uri, region=region)
    _check_fits(Endpoint, "uri", normal.uri)
    if normal.uri == endpoint.uri:
        return endpoint
    if Endpoint.objects.filter(entry_id=endpoint.entry_id, uri=normal.uri).exists():
        raise ConflictError(
            _("%(uri)s is already one of this entry's endpoints.") % {"uri": normal.uri}
        )
    endpoint.uri, endpoint.scheme, endpoint.service = normal.uri, normal.scheme, normal.service
    try:
        with transaction.atomic():
            endpoint.save(update_fields=["uri", "scheme", "service", "updated_at"])
    except IntegrityError:
        raise ConflictError(
            _("%(uri)s is already one of this entry's endpoints.") % {"uri": normal.uri}
        ) from None
    schedule_entry_sync(endpoint.entry_id)
    return endpoint
