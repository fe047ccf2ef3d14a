"""Impersonation suspects: names that look like a verified entry's.

When an entry's nickname or directory handle is created or changed, its UTS #39 skeletons
(:func:`directory.normalization.skeleton`, stored on the entry) are compared with those of
every *verified* entry (one holding at least one verified handle). A pair is suspect when
the skeletons, reduced to their letters and digits (so spaces, dots, dashes and invisible
padding do not count), are equal or within a small Levenshtein distance that grows with
the length of the name: short names must match exactly, or ``Ann Lee`` would shadow half
the directory.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Length
from rapidfuzz.distance import Levenshtein

from directory.models import Entry, Handle
from directory.moderation.models import ImpersonationSuspect, QueueStatus

# (shortest key length, largest distance still suspect), longest first.
DISTANCE_STEPS = ((16, 2), (6, 1), (0, 0))


def compact_key(skeleton_text: str) -> str:
    """The letters and digits of a skeleton: ``"elon rnusk"`` → ``"elonrnusk"``.

    Input: a UTS #39 skeleton. Output: the same string without anything that is not a
    letter or a digit (separators, punctuation, blank symbols such as U+2800).
    """
    return "".join(ch for ch in skeleton_text if ch.isalnum())


def max_distance(key: str) -> int:
    """The largest Levenshtein distance at which a name of this key's length is suspect
    (0 for keys under 6 characters, 1 up to 15, 2 from 16)."""
    return next(limit for length, limit in DISTANCE_STEPS if len(key) >= length)


@dataclass(frozen=True)
class Resemblance:
    """One verified entry that ``field`` (``nickname`` or ``handle``) of a suspect looks
    like, at Levenshtein ``distance`` between the compact skeletons."""

    resembles: Entry
    field: str
    resembled_value: str
    distance: int


def _verified_entries():
    verified = Handle.objects.filter(entry=OuterRef("pk"), status=Handle.Status.VERIFIED)
    return Entry.objects.filter(Exists(verified))


def find_resemblances(entry: Entry) -> list[Resemblance]:
    """The verified entries (other than ``entry`` and its owner's) whose nickname or
    directory handle looks like ``entry``'s.

    Input: an entry with its stored skeletons. Output: at most one :class:`Resemblance`
    per verified entry, the closest one, sorted by distance. Candidates are verified
    entries with an equal stored skeleton (an index lookup) or a skeleton of a length
    within the allowed distance; the distance is then measured with rapidfuzz.
    """
    keys = {
        "nickname": compact_key(entry.nickname_skeleton),
        "handle": compact_key(entry.handle_skeleton),
    }
    keys = {field: key for field, key in keys.items() if key}
    if not keys:
        return []
    lengths = Q()
    for key in keys.values():
        spread = max_distance(key) + 4  # separators are in the stored skeleton, not the key
        lengths |= Q(_nick_len__range=(len(key) - spread, len(key) + spread * 2))
        lengths |= Q(_handle_len__range=(len(key) - spread, len(key) + spread * 2))
    candidates = (
        _verified_entries()
        .exclude(pk=entry.pk)
        .annotate(_nick_len=Length("nickname_skeleton"), _handle_len=Length("handle_skeleton"))
        .filter(lengths)
        .only("id", "owner_id", "nickname", "handle", "nickname_skeleton", "handle_skeleton")
    )
    if entry.owner_id is not None:
        candidates = candidates.exclude(owner_id=entry.owner_id)
    found: dict[int, Resemblance] = {}
    for other in candidates.iterator(chunk_size=2000):
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
