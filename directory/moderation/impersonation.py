"""Impersonation suspects: names that look like a verified entry's.

When an entry's nickname or directory handle is created or changed, its UTS #39 skeletons
(:func:`directory.normalization.skeleton`, stored on the entry) are compared with those of
every *verified* entry (one holding at least one verified handle). A pair is suspect when
the skeletons, reduced to their letters and digits (so spaces, dots, dashes and invisible
padding do not count), are equal, or, for names of 6 characters or more, one edit apart
(Levenshtein distance 1): short names must match exactly, or ``Ann Lee`` would shadow
half the directory.

Verified entries' keys and their deletion neighbourhoods are kept in
:class:`~directory.moderation.models.ProtectedNameKey`, so a check is a few index
look-ups whatever the size of the directory.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from rapidfuzz.distance import Levenshtein

from directory.models import Entry, Handle
from directory.moderation.models import ImpersonationSuspect, ProtectedNameKey, QueueStatus

# Keys at least this long are suspect one edit away; shorter ones only when equal.
ONE_EDIT_FROM = 6
# At most this many verified entries are compared with one name (the closest keys first
# would need a ranking the index cannot give; a name shared by more is a common name).
CANDIDATES_MAX = 200


def compact_key(skeleton_text: str) -> str:
    """The letters and digits of a skeleton: ``"elon rnusk"`` → ``"elonrnusk"``.

    Input: a UTS #39 skeleton. Output: the same string without anything that is not a
    letter or a digit (separators, punctuation, blank symbols such as U+2800).
    """
    return "".join(ch for ch in skeleton_text if ch.isalnum())


def max_distance(key: str) -> int:
    """The largest Levenshtein distance at which a name with this key is suspect: 0
    under :data:`ONE_EDIT_FROM` characters, 1 from there."""
    return 1 if len(key) >= ONE_EDIT_FROM else 0


def neighbourhood(key: str) -> set[str]:
    """``key`` and, when one edit counts (:func:`max_distance`), every string made by
    deleting one of its characters. Two keys within distance 1 share a member of their
    neighbourhoods (equal; one a deletion of the other; or the same deletion of both)."""
    found = {key}
    if max_distance(key) >= 1:
        found.update(key[:i] + key[i + 1 :] for i in range(len(key)))
    return found


def entry_keys(entry: Entry) -> dict[str, str]:
    """``{"nickname": key, "handle": key}`` of an entry's names (empty keys left out)."""
    keys = {
        "nickname": compact_key(entry.nickname_skeleton),
        "handle": compact_key(entry.handle_skeleton),
    }
    return {field: key for field, key in keys.items() if key}


def _is_verified(entry_id: int) -> bool:
    return Handle.objects.filter(entry_id=entry_id, status=Handle.Status.VERIFIED).exists()


@transaction.atomic
def protect_names(*, entry_id: int) -> int:
    """Make :class:`ProtectedNameKey` hold exactly the keys of ``entry_id``'s names when
    it is verified, and none otherwise (unverified, or gone).

    Output: how many keys the entry now has. Idempotent.
    """
    ProtectedNameKey.objects.filter(entry_id=entry_id).delete()
    entry = Entry.objects.filter(pk=entry_id).only("nickname_skeleton", "handle_skeleton").first()
    if entry is None or not _is_verified(entry_id):
        return 0
    keys: set[str] = set()
    for key in entry_keys(entry).values():
        keys |= neighbourhood(key)
    ProtectedNameKey.objects.bulk_create(
        [ProtectedNameKey(entry_id=entry_id, key=key[:400]) for key in sorted(keys)]
    )
    return len(keys)


def protect_all_names(batch_size: int = 2000, progress=None) -> int:
    """Rebuild :class:`ProtectedNameKey` for every verified entry (after a bulk load or an
    upgrade). Inputs: entries per transaction; ``progress(n)`` called after each batch.
    Output: the number of verified entries."""
    verified = Handle.objects.filter(entry=OuterRef("pk"), status=Handle.Status.VERIFIED)
    ids = Entry.objects.filter(Exists(verified)).order_by("pk").values_list("pk", flat=True)
    done = 0
    last = 0
    while True:
        batch = list(ids.filter(pk__gt=last)[:batch_size])
        if not batch:
            if connection.vendor == "postgresql":
                # Fresh statistics, or the planner scans the new rows instead of the index.
                with connection.cursor() as cursor:
                    cursor.execute(f"ANALYZE {ProtectedNameKey._meta.db_table}")
            return done
        with transaction.atomic():
            ProtectedNameKey.objects.filter(entry_id__in=batch).delete()
            rows = []
            for entry in Entry.objects.filter(pk__in=batch).only(
                "nickname_skeleton", "handle_skeleton"
            ):
                keys: set[str] = set()
                for key in entry_keys(entry).values():
                    keys |= neighbourhood(key)
                rows += [ProtectedNameKey(entry_id=entry.pk, key=k[:400]) for k in keys]
            ProtectedNameKey.objects.bulk_create(rows, batch_size=5000)
        done += len(batch)
        last = batch[-1]
        if progress is not None:
            progress(len(batch))


@dataclass(frozen=True)
class Resemblance:
    """One verified entry that ``field`` (``nickname`` or ``handle``) of a suspect looks
    like, at Levenshtein ``distance`` between the compact skeletons."""

    resembles: Entry
    field: str
    resembled_value: str
    distance: int


def _candidates(entry: Entry, probes: Iterable[str]):
    ids = (
        ProtectedNameKey.objects.filter(key__in=list(probes))
        .exclude(entry_id=entry.pk)
        .values_list("entry_id", flat=True)
        .distinct()[:CANDIDATES_MAX]
    )
    candidates = Entry.objects.filter(pk__in=list(ids)).only(
        "id", "owner_id", "nickname", "handle", "nickname_skeleton", "handle_skeleton"
    )
    if entry.owner_id is not None:
        candidates = candidates.exclude(owner_id=entry.owner_id)
    return candidates


def find_resemblances(entry: Entry) -> list[Resemblance]:
    """The verified entries (other than ``entry`` and its owner's) whose nickname or
    directory handle looks like ``entry``'s.

    Input: an entry with its stored skeletons. Output: at most one :class:`Resemblance`
    per verified entry, the closest, sorted by distance. Two queries: the protected keys
    that meet the names' neighbourhoods (an index look-up), then those entries; the
    distance is measured with rapidfuzz.
    """
    keys = entry_keys(entry)
    if not keys:
        return []
    probes: set[str] = set()
    for key in keys.values():
        probes |= neighbourhood(key)
    found: dict[int, Resemblance] = {}
    for other in _candidates(entry, probes):
        their = {
            other.nickname: compact_key(other.nickname_skeleton),
            f"@{other.handle}": compact_key(other.handle_skeleton),
        }
        for field, key in keys.items():
            limit = max_distance(key)
            for shown, other_key in their.items():
                if not other_key:
                    continue
                distance = Levenshtein.distance(key, other_key, score_cutoff=limit)
                if distance > limit:
                    continue
                best = found.get(other.pk)
                if best is None or distance < best.distance:
                    found[other.pk] = Resemblance(other, field, shown, distance)
    return sorted(found.values(), key=lambda r: (r.distance, r.resembles.pk))


@transaction.atomic
def impersonation_check(*, entry_id: int) -> list[ImpersonationSuspect]:
    """Queue ``entry_id`` as an impersonation suspect of every verified entry it looks like.

    Input: an entry id (the entry may be gone: nothing happens). Output: the suspects
    opened now; a pair already open is not opened twice, so running it again is harmless.
    """
    entry = Entry.objects.filter(pk=entry_id).first()
    if entry is None:
        return []
    opened = []
    for match in find_resemblances(entry):
        if ImpersonationSuspect.objects.filter(
            entry=entry, resembles=match.resembles, status=QueueStatus.OPEN
        ).exists():
            continue
        suspect = ImpersonationSuspect(
            entry=entry,
            resembles=match.resembles,
            field=match.field,
            suspect_value=(entry.nickname if match.field == "nickname" else entry.at_handle)[:200],
            resembled_value=match.resembled_value[:200],
            distance=match.distance,
        )
        try:
            with transaction.atomic():
                suspect.save()
        except IntegrityError:
            continue  # another run opened the same pair meanwhile
        opened.append(suspect)
    return opened


# At most this many earlier entries are re-checked when an entry becomes verified.
EARLIER_LOOK_ALIKES_MAX = 200


def earlier_look_alikes_check(*, entry_id: int) -> list[ImpersonationSuspect]:
    """After ``entry_id`` became verified: queue the entries that already carried its
    nickname (same UTS #39 skeleton, an index look-up), since their own check ran before
    there was anything to resemble.

    Output: the suspects opened (at most :data:`EARLIER_LOOK_ALIKES_MAX` entries are
    looked at). Idempotent, as :func:`impersonation_check` is.
    """
    entry = Entry.objects.filter(pk=entry_id).only("owner_id", "nickname_skeleton").first()
    if entry is None or not entry.nickname_skeleton:
        return []
    earlier = Entry.objects.filter(nickname_skeleton=entry.nickname_skeleton).exclude(pk=entry_id)
    if entry.owner_id is not None:
        earlier = earlier.exclude(owner_id=entry.owner_id)
    opened: list[ImpersonationSuspect] = []
    for other_id in earlier.order_by("pk").values_list("pk", flat=True)[:EARLIER_LOOK_ALIKES_MAX]:
        opened += impersonation_check(entry_id=other_id)
    return opened
