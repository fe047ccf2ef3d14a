"""Synthetic directory data for load benchmarks.

Entries are made with Faker in several locales from a fixed seed, normalized by the same
functions the directory's actions use (:mod:`directory.normalization`), and inserted with
``bulk_create`` in batches: the per-row actions in :mod:`directory.services` run one
transaction and several queries per row, far too slow for 100 000 entries.

Every synthetic entry carries ``import_key = "bench:<seed>:<n>"``. That marks the rows as
the benchmark's own, so a load can be reused when its seed and size match, and the loader
refuses to empty a database that holds any other entry.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from faker import Faker
from tqdm import tqdm

from directory.exceptions import NormalizationError
from directory.models import Endpoint, Entry, EntryHandleSkeleton, Handle
from directory.normalization import (
    HandleKind,
    clean_display,
    normalize_directory_handle,
    normalize_endpoint_uri,
    normalize_handle,
    skeleton,
)

IMPORT_KEY_PREFIX = "bench"
LOCALES = (
    "en_US",
    "en_GB",
    "it_IT",
    "de_DE",
    "fr_FR",
    "es_ES",
    "pt_BR",
    "pl_PL",
    "tr_TR",
    "ru_RU",
    "ja_JP",
    "hi_IN",
)
# Locales whose names are not written in Latin script: some of their entries get a
# directory handle in that script, as the handle rules allow.
NATIVE_SCRIPT_LOCALES = frozenset({"ru_RU", "ja_JP", "hi_IN"})

FEDIVERSE_HOSTS = (
    "mastodon.social",
    "fosstodon.org",
    "hachyderm.io",
    "chaos.social",
    "social.coop",
)
MATRIX_SERVERS = ("matrix.org", "tchncs.de", "envs.net", "mozilla.org")
XMPP_SERVERS = ("jabber.org", "conversations.im", "jabber.de")
SIP_HOSTS = ("sip.linphone.org", "sip.antisip.com", "voip.ms")

# National numbering plans the synthetic tel: and wa.me endpoints draw from; each "#"
# becomes a random digit. All of them are valid for libphonenumber.
PHONE_PLANS = {
    "en_US": ("+1 212 ### ####", "+1 415 ### ####"),
    "en_GB": ("+44 20 7946 ####", "+44 7700 900###"),
    "it_IT": ("+39 06 ########", "+39 3## #######"),
    "de_DE": ("+49 30 ########", "+49 151 ########"),
    "fr_FR": ("+33 1 ## ## ## ##", "+33 6 ## ## ## ##"),
    "es_ES": ("+34 91 ### ####", "+34 6## ### ###"),
    "pt_BR": ("+55 11 9#### ####",),
    "pl_PL": ("+48 22 ### ## ##", "+48 5## ### ###"),
    "tr_TR": ("+90 212 ### ####", "+90 5## ### ####"),
    "ru_RU": ("+7 495 ### ####", "+7 9## ### ####"),
    "ja_JP": ("+81 3 #### ####", "+81 90 #### ####"),
    "hi_IN": ("+91 98### #####",),
}

EXTERNAL_KINDS = (
    HandleKind.EMAIL,
    HandleKind.FEDIVERSE,
    HandleKind.MATRIX,
    HandleKind.GITHUB,
    HandleKind.ATPROTO,
)
# Share of claimed handles that are verified, per kind.
VERIFIED_SHARE = {
    HandleKind.EMAIL: 0.7,
    HandleKind.FEDIVERSE: 0.7,
    HandleKind.MATRIX: 0.7,
    HandleKind.GITHUB: 0.4,
    HandleKind.ATPROTO: 0.4,
}
UNVERIFIED_STATUSES = (
    Handle.Status.UNVERIFIED,
    Handle.Status.PENDING,
    Handle.Status.STALE,
    Handle.Status.UNREACHABLE,
)
AUDIENCE_WEIGHTS = {
    Endpoint.Audience.EVERYONE: 55,
    Endpoint.Audience.SIGNED_IN: 15,
    Endpoint.Audience.VERIFIED: 15,
    Endpoint.Audience.CONTACTS: 10,
    Endpoint.Audience.NOBODY: 5,
}
LABELS = ("", "", "work", "home", "mobile", "office", "evenings")
SUSPENDED_SHARE = 0.005
UNLISTED_SHARE = 0.1

_NOT_SLUG = re.compile(r"[^a-z0-9_.]+")


@dataclass
class SyntheticEntry:
    """One entry with its external handles and endpoints, not yet saved."""

    entry: Entry
    handles: list[Handle] = field(default_factory=list)
    endpoints: list[Endpoint] = field(default_factory=list)
    skeletons: list[EntryHandleSkeleton] = field(default_factory=list)


class SyntheticDirectory:
    """Makes synthetic entries, the same ones for the same seed.

    Directory handles are unique both case-folded and by UTS #39 skeleton, and each
    verified external handle has one owner, as the database constraints demand; the
    generator keeps the keys it has handed out to guarantee it.
    """

    def __init__(self, seed: int):
        self.seed = seed
        self.rng = random.Random(seed)
        self.faker = Faker(list(LOCALES))
        self.faker.seed_instance(seed)
        self.made = 0
        self._canonicals: set[str] = set()
        self._skeletons: set[str] = set()
        self._verified: set[tuple[str, str]] = set()
        self._now = timezone.now()

    def batch(self, count: int) -> list[SyntheticEntry]:
        """Return the next ``count`` synthetic entries."""
        return [self._one() for _ in range(count)]

    def _one(self) -> SyntheticEntry:
        rng = self.rng
        locale = rng.choice(LOCALES)
        fake = self.faker[locale]
        nickname = clean_display(fake.name())[:200]
        user = _NOT_SLUG.sub("", fake.user_name().lower()).strip("._") or "user"
        handle = self._directory_handle(user, nickname, locale)
        entry = Entry(
            nickname=nickname,
            nickname_skeleton=skeleton(nickname),
            handle=handle.display,
            handle_canonical=handle.canonical,
            handle_skeleton=handle.skeleton,
            discoverable=rng.random() >= UNLISTED_SHARE,
            status=Entry.Status.SUSPENDED
            if rng.random() < SUSPENDED_SHARE
            else Entry.Status.ACTIVE,
            import_key=f"{IMPORT_KEY_PREFIX}:{self.seed}:{self.made}",
        )
        self.made += 1
        slug = (
            handle.canonical
            if handle.canonical.isascii()
            else f"{user}{rng.randrange(100, 10_000)}"
        )
        made = SyntheticEntry(entry)
        made.skeletons = [
            EntryHandleSkeleton(entry=entry, skeleton=key) for key in sorted(handle.skeletons)
        ]
        for kind in rng.sample(EXTERNAL_KINDS, rng.randint(1, 3)):
            made.handles.append(self._external_handle(entry, kind, slug, fake))
        uris: set[str] = set()
        for position in range(rng.randint(1, 3)):
            normal = normalize_endpoint_uri(self._endpoint_uri(slug, fake, locale))
            if normal.uri in uris:
                continue
            uris.add(normal.uri)
            made.endpoints.append(
                Endpoint(
                    entry=entry,
                    uri=normal.uri,
                    scheme=normal.scheme,
                    service=normal.service,
                    voice="voice" in normal.capabilities,
                    video="video" in normal.capabilities,
                    text="text" in normal.capabilities,
                    preference=(position + 1) * 10,
                    label=rng.choice(LABELS),
                    audience=rng.choices(
                        list(AUDIENCE_WEIGHTS), weights=list(AUDIENCE_WEIGHTS.values())
                    )[0],
                )
            )
        return made

    def _directory_handle(self, user: str, nickname: str, locale: str):
        rng = self.rng
        base = user
        if locale in NATIVE_SCRIPT_LOCALES and rng.random() < 0.3:
            base = "".join(ch for ch in nickname if ch.isalnum())[:20] or user
        candidate = base
        while True:
            try:
                wanted = normalize_directory_handle(candidate)
            except NormalizationError:
                base, wanted = user, None
            if (
                wanted is not None
                and wanted.canonical not in self._canonicals
                and not wanted.skeletons & self._skeletons
            ):
                self._canonicals.add(wanted.canonical)
                self._skeletons.update(wanted.skeletons)
                return wanted
            suffix = str(rng.randrange(10, 100_000))
            candidate = base[: 30 - len(suffix)] + suffix

    def _external_handle(self, entry: Entry, kind: str, slug: str, fake) -> Handle:
        rng = self.rng
        hyphenated = re.sub(r"[^a-z0-9]+", "-", slug).strip("-") or "user"
        raw = {
            HandleKind.EMAIL: lambda: f"{slug}@{fake.free_email_domain()}",
            HandleKind.FEDIVERSE: lambda: f"@{slug}@{rng.choice(FEDIVERSE_HOSTS)}",
            HandleKind.MATRIX: lambda: f"@{slug}:{rng.choice(MATRIX_SERVERS)}",
            HandleKind.GITHUB: lambda: hyphenated[:39].strip("-"),
            HandleKind.ATPROTO: lambda: f"{hyphenated[:40]}.bsky.social",
        }[kind]()
        normal = normalize_handle(kind, raw)
        handle = Handle(
            entry=entry,
            kind=normal.kind,
            raw=raw.strip()[:512],
            canonical=normal.canonical,
            key=normal.key,
            skeleton=skeleton(normal.canonical),
        )
        identity = (normal.kind, normal.key)
        if rng.random() < VERIFIED_SHARE[kind] and identity not in self._verified:
            self._verified.add(identity)
            handle.status = Handle.Status.VERIFIED
            handle.verified_at = self._now - timedelta(days=rng.randrange(1, 400))
            handle.checked_at = self._now - timedelta(days=rng.randrange(0, 30))
        else:
            handle.status = rng.choice(UNVERIFIED_STATUSES)
        return handle

    def _endpoint_uri(self, slug: str, fake, locale: str) -> str:
        rng = self.rng
        makers: tuple[Callable[[], str], ...] = (
            lambda: f"sip:{slug}@{rng.choice(SIP_HOSTS)}",
            lambda: f"xmpp:{slug}@{rng.choice(XMPP_SERVERS)}",
            lambda: f"matrix:u/{slug}:{rng.choice(MATRIX_SERVERS)}",
            lambda: f"https://matrix.to/#/@{slug}:{rng.choice(MATRIX_SERVERS)}",
            lambda: f"mailto:{slug}@{fake.free_email_domain()}",
            lambda: f"tel:{self._phone(locale)}",
            lambda: "https://wa.me/" + re.sub(r"\D", "", self._phone(locale)),
            lambda: f"https://meet.jit.si/{slug}-{rng.randrange(1000, 10_000)}",
            lambda: f"facetime:{slug}@icloud.com",
        )
        return rng.choice(makers)()

    def _phone(self, locale: str) -> str:
        plan = self.rng.choice(PHONE_PLANS[locale])
        return "".join(str(self.rng.randrange(10)) if ch == "#" else ch for ch in plan)


@dataclass(frozen=True)
class LoadResult:
    """What :func:`ensure_loaded` found or did. ``seconds`` is wall time of the load."""

    entries: int
    handles: int
    endpoints: int
    seconds: float
    reused: bool

    @property
    def entries_per_second(self) -> float:
        return self.entries / self.seconds if self.seconds else 0.0


class ForeignDataError(RuntimeError):
    """The target database holds entries the benchmark did not make."""


def _bench_entries(seed: int):
    return Entry.objects.filter(import_key__startswith=f"{IMPORT_KEY_PREFIX}:{seed}:")


def _empty_directory() -> None:
    if Entry.objects.exclude(import_key__startswith=f"{IMPORT_KEY_PREFIX}:").exists():
        raise ForeignDataError(
            "The database holds entries that are not synthetic benchmark entries; "
            "point --database-url at a dedicated database."
        )
    if connection.vendor == "postgresql":
        tables = ", ".join(
            connection.ops.quote_name(m._meta.db_table)
            for m in (Endpoint, Handle, EntryHandleSkeleton, Entry)
        )
        with connection.cursor() as cursor:
            # Inside a transaction, deferred foreign-key checks of rows inserted earlier
            # would make TRUNCATE refuse; run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    else:
        Entry.objects.all().delete()


def _insert(rows: list[SyntheticEntry]) -> None:
    with transaction.atomic():
        Entry.objects.bulk_create([r.entry for r in rows])
        # bulk_create set each entry's primary key; the handles and endpoints refer to
        # the same Entry objects, so their foreign keys resolve at insert time.
        Handle.objects.bulk_create([h for r in rows for h in r.handles])
        EntryHandleSkeleton.objects.bulk_create([k for r in rows for k in r.skeletons])
        Endpoint.objects.bulk_create([e for r in rows for e in r.endpoints])


def generate(entries: int, *, seed: int, batch_size: int) -> Iterator[list[SyntheticEntry]]:
    """Yield ``entries`` synthetic entries in batches of at most ``batch_size``."""
    maker = SyntheticDirectory(seed)
    left = entries
    while left > 0:
        count = min(batch_size, left)
        yield maker.batch(count)
        left -= count


def ensure_loaded(
    entries: int,
    *,
    seed: int,
    batch_size: int = 2000,
    reload: bool = False,
    progress: bool = True,
) -> LoadResult:
    """Make the database hold exactly ``entries`` synthetic entries made from ``seed``.

    Inputs: the entry count, the Faker/random seed, the ``bulk_create`` batch size,
    ``reload`` to load even when a matching load exists, ``progress`` for a tqdm bar on
    standard error. Output: a :class:`LoadResult`; ``seconds`` covers generation,
    normalization and insertion, so ``entries_per_second`` is the load throughput.
    A matching load (same seed, same count, nothing else) is reused unless ``reload``.
    Raises :class:`ForeignDataError` rather than delete entries it did not make.
    """
    total = Entry.objects.count()
    if not reload and total == entries and _bench_entries(seed).count() == entries:
        return LoadResult(
            entries=entries,
            handles=Handle.objects.count(),
            endpoints=Endpoint.objects.count(),
            seconds=0.0,
            reused=True,
        )
    _empty_directory()
    started = time.perf_counter()
    handles = endpoints = 0
    with tqdm(total=entries, unit="entries", desc="loading", disable=not progress) as bar:
        for rows in generate(entries, seed=seed, batch_size=batch_size):
            _insert(rows)
            handles += sum(len(r.handles) for r in rows)
            endpoints += sum(len(r.endpoints) for r in rows)
            bar.update(len(rows))
    seconds = time.perf_counter() - started
    if connection.vendor == "postgresql":
        # Fresh statistics so the planner sees 100k rows, not the empty tables it last
        # analysed.
        with connection.cursor() as cursor:
            for model in (Entry, Handle, Endpoint):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return LoadResult(entries, handles, endpoints, seconds, reused=False)


@dataclass(frozen=True)
class Lookup:
    """One lookup of the benchmark mix.

    ``query`` is what a caller sends as ``GET /api/v1/resolve?handle=``; ``kind`` is
    ``"directory"`` for a directory handle or the :class:`HandleKind` of a verified
    external handle, and ``key`` the value the database is searched by
    (``Entry.handle_canonical`` or ``Handle.key``); ``found`` says whether an anonymous
    caller gets the entry (an active entry) or 404 (missing or suspended).
    """

    query: str
    kind: str
    key: str
    found: bool


DIRECTORY = "directory"


def lookup_mix(
    size: int, *, seed: int, external_share: float = 0.25, missing_share: float = 0.04
) -> list[Lookup]:
    """Draw ``size`` lookups over what the database holds, the same ones for a seed.

    About ``external_share`` of them name verified external handles (in the form people
    type them: ``@user@host``, ``user@host``, ``@user:server``), ``missing_share`` name
    nothing (a free directory handle, an unknown email address), and the rest name
    directory handles as ``@handle``. Entries are drawn uniformly, so the mix touches the
    whole table rather than a hot few rows.
    """
    rng = random.Random(seed)
    entries = list(
        Entry.objects.values_list("handle", "handle_canonical", "handle_skeleton", "status")
    )
    verified = list(
        Handle.objects.filter(status=Handle.Status.VERIFIED).values_list(
            "kind", "raw", "key", "entry__status"
        )
    )
    if not entries:
        raise ValueError("The database holds no entries to look up.")
    taken = {e[1] for e in entries} | {e[2] for e in entries}
    active = Entry.Status.ACTIVE
    mix: list[Lookup] = []
    for _ in range(size):
        draw = rng.random()
        if draw < missing_share:
            mix.append(_missing_lookup(rng, taken))
        elif draw < missing_share + external_share and verified:
            kind, raw, key, status = rng.choice(verified)
            mix.append(Lookup(_typed_form(kind, raw, key), kind, key, status == active))
        else:
            display, canonical, _, status = rng.choice(entries)
            mix.append(Lookup(f"@{display}", DIRECTORY, canonical, status == active))
    return mix


def _typed_form(kind: str, raw: str, key: str) -> str:
    # A bare username names a directory handle; platform usernames are looked up by
    # their profile URL.
    if kind == HandleKind.GITHUB:
        return f"https://github.com/{key}"
    return raw


def _missing_lookup(rng: random.Random, taken: set[str]) -> Lookup:
    while True:
        name = f"nobody{rng.randrange(10**9)}"
        if rng.random() < 0.5:
            address = f"{name}@example.net"
            return Lookup(address, HandleKind.EMAIL, address, False)
        wanted = normalize_directory_handle(name)
        if wanted.canonical not in taken and wanted.skeleton not in taken:
            return Lookup(f"@{name}", DIRECTORY, wanted.canonical, False)
