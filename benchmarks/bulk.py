"""A million synthetic entries in minutes: pooled Faker data and PostgreSQL COPY.

:mod:`benchmarks.synthetic` makes every entry with Faker and normalizes every identifier
through :mod:`directory.normalization`: about 900 entries a second, 20 minutes for a
million. This loader keeps what a lookup benchmark needs and drops what costs:

- nicknames and user names are drawn from pools made once with Faker in the same twelve
  locales (people share names; a directory of a million has many Maria Garcías);
- every directory handle is still normalized by ``normalize_directory_handle`` (its
  canonical form and UTS #39 skeleton must be exact and unique, and the loader keeps the
  ones handed out, as :class:`benchmarks.synthetic.SyntheticDirectory` does);
- an external handle or endpoint is normalized once per *shape* (kind and host) with a
  placeholder user part, and the user part substituted; a sample of one in a hundred is
  normalized in full and must agree, or the load stops;
- rows go in with ``COPY … FROM STDIN`` (psycopg), primary keys assigned by the loader,
  sequences moved past them afterwards.

The mix of kinds, verification shares, audiences, suspended (0.5 %) and unlisted (10 %)
entries is that of :mod:`benchmarks.synthetic`. Entries carry ``import_key =
"bench:<seed>c:<n>"``, so a load is recognised and reused like the slower one's, and the
answer cache is dropped (:func:`directory.answers.drop_all`) since COPY sends no signals.
"""

from __future__ import annotations

import random
import re
import time
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from faker import Faker
from tqdm import tqdm

from benchmarks.synthetic import (
    AUDIENCE_WEIGHTS,
    EXTERNAL_KINDS,
    FEDIVERSE_HOSTS,
    LABELS,
    LOCALES,
    MATRIX_SERVERS,
    SIP_HOSTS,
    SUSPENDED_SHARE,
    UNLISTED_SHARE,
    UNVERIFIED_STATUSES,
    VERIFIED_SHARE,
    XMPP_SERVERS,
    ForeignDataError,
    LoadResult,
)
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

POOL_SIZE = 6000
PLACEHOLDER = "qzqslugqzq"
CHECK_EVERY = 100
# Entries per round of three COPY statements (entries, then their handles and endpoints).
CHUNK = 20_000
EMAIL_DOMAINS = ("gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "gmx.de", "mail.ru")

_LETTERS = re.compile(r"[^a-z]+")


def copy_prefix(seed: int) -> str:
    """The ``import_key`` prefix of a COPY load made from ``seed``."""
    return f"bench:{seed}c:"


class _Shapes:
    """Normalized forms per shape, the user part standing as :data:`PLACEHOLDER`."""

    def __init__(self) -> None:
        self._handles: dict[tuple[str, str], tuple[str, str, str]] = {}
        self._endpoints: dict[str, object] = {}

    def handle(self, kind: str, raw: str, slug: str) -> tuple[str, str, str]:
        """``(kind, canonical, key)`` of ``raw`` (which contains ``slug`` once)."""
        template = raw.replace(slug, PLACEHOLDER, 1)
        shape = self._handles.get((kind, template))
        if shape is None:
            normal = normalize_handle(kind, template)
            shape = self._handles[(kind, template)] = (normal.kind, normal.canonical, normal.key)
        return shape[0], shape[1].replace(PLACEHOLDER, slug), shape[2].replace(PLACEHOLDER, slug)

    def endpoint(self, uri: str, slug: str):
        template = uri.replace(slug, PLACEHOLDER, 1)
        normal = self._endpoints.get(template)
        if normal is None:
            normal = self._endpoints[template] = normalize_endpoint_uri(template)
        return normal, normal.uri.replace(PLACEHOLDER, slug)


class BulkDirectory:
    """Rows for COPY, the same ones for the same seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        faker = Faker(list(LOCALES))
        faker.seed_instance(seed)
        self.names: list[tuple[str, str]] = []
        self.users: list[str] = []
        for n in range(POOL_SIZE):
            fake = faker[LOCALES[n % len(LOCALES)]]
            nickname = clean_display(fake.name())[:200]
            self.names.append((nickname, skeleton(nickname)))
            user = _LETTERS.sub("", fake.user_name().lower())[:16]
            self.users.append(user if len(user) >= 2 else "user")
        self.shapes = _Shapes()
        self._canonicals: set[str] = set()
        self._skeletons: set[str] = set()
        self.now = timezone.now()
        self.made = 0

    def _directory_handle(self, base: str, n: int):
        suffix = n
        while True:
            wanted = normalize_directory_handle(f"{base}{suffix}")
            if wanted.canonical not in self._canonicals and not (
                set(wanted.skeletons) & self._skeletons
            ):
                self._canonicals.add(wanted.canonical)
                self._skeletons.update(wanted.skeletons)
                return wanted
            suffix = self.rng.randrange(10**9)

    def _raw_handle(self, kind: str, slug: str) -> str:
        rng = self.rng
        if kind == HandleKind.EMAIL:
            return f"{slug}@{rng.choice(EMAIL_DOMAINS)}"
        if kind == HandleKind.FEDIVERSE:
            return f"@{slug}@{rng.choice(FEDIVERSE_HOSTS)}"
        if kind == HandleKind.MATRIX:
            return f"@{slug}:{rng.choice(MATRIX_SERVERS)}"
        if kind == HandleKind.GITHUB:
            return slug
        return f"{slug}.bsky.social"

    def _uri(self, slug: str) -> str:
        rng = self.rng
        choice = rng.randrange(7)
        if choice == 0:
            return f"sip:{slug}@{rng.choice(SIP_HOSTS)}"
        if choice == 1:
            return f"xmpp:{slug}@{rng.choice(XMPP_SERVERS)}"
        if choice == 2:
            return f"matrix:u/{slug}:{rng.choice(MATRIX_SERVERS)}"
        if choice == 3:
            return f"mailto:{slug}@{rng.choice(EMAIL_DOMAINS)}"
        if choice == 4:
            return f"tel:+1212{rng.randrange(10**7):07d}"
        if choice == 5:
            return f"https://meet.jit.si/{slug}-{rng.randrange(1000, 10_000)}"
        return f"facetime:{slug}@icloud.com"

    def entry(self, entry_id: int, handle_ids, endpoint_ids):
        """One entry's rows: ``(entry row, handle rows, endpoint rows, skeleton rows)``."""
        rng, now = self.rng, self.now
        nickname, nickname_skeleton = rng.choice(self.names)
        wanted = self._directory_handle(rng.choice(self.users), entry_id)
        slug = wanted.canonical
        status = Entry.Status.SUSPENDED if rng.random() < SUSPENDED_SHARE else Entry.Status.ACTIVE
        entry = (
            entry_id, None, nickname, nickname_skeleton, wanted.display, wanted.canonical,
            wanted.skeleton, rng.random() >= UNLISTED_SHARE, True, status,
            f"{copy_prefix(self.seed)}{self.made}", now, now,
        )  # fmt: skip
        self.made += 1
        handles = []
        for kind in rng.sample(EXTERNAL_KINDS, rng.randint(1, 3)):
            raw = self._raw_handle(kind, slug)
            kind, canonical, key = self.shapes.handle(kind, raw, slug)
            if self.made % CHECK_EVERY == 0:
                full = normalize_handle(kind, raw)
                if (full.canonical, full.key) != (canonical, key):
                    raise NormalizationError(f"shape substitution disagrees for {raw!r}")
            if rng.random() < VERIFIED_SHARE[kind]:
                status_, verified_at = (
                    Handle.Status.VERIFIED,
                    now - timedelta(days=rng.randrange(1, 400)),
                )
                checked_at = now - timedelta(days=rng.randrange(0, 30))
            else:
                status_, verified_at, checked_at = rng.choice(UNVERIFIED_STATUSES), None, None
            handles.append((
                next(handle_ids), entry_id, kind, raw, canonical, key, skeleton(canonical),
                status_, verified_at, checked_at, "", now, now,
            ))  # fmt: skip
        endpoints = []
        uris: set[str] = set()
        for position in range(rng.randint(1, 3)):
            normal, uri = self.shapes.endpoint(self._uri(slug), slug)
            if uri in uris:
                continue
            uris.add(uri)
            audience = rng.choices(list(AUDIENCE_WEIGHTS), weights=list(AUDIENCE_WEIGHTS.values()))
            endpoints.append((
                next(endpoint_ids), entry_id, uri, normal.scheme, normal.service,
                "voice" in normal.capabilities, "video" in normal.capabilities,
                "text" in normal.capabilities, (position + 1) * 10, rng.choice(LABELS),
                audience[0], now, now,
            ))  # fmt: skip
        skeletons = [(entry_id, key) for key in sorted(wanted.skeletons)]
        return entry, handles, endpoints, skeletons


ENTRY_COLUMNS = (
    "id", "owner_id", "nickname", "nickname_skeleton", "handle", "handle_canonical",
    "handle_skeleton", "discoverable", "findable_by_number", "status", "import_key",
    "created_at", "updated_at",
)  # fmt: skip
HANDLE_COLUMNS = (
    "id", "entry_id", "kind", "raw", "canonical", "key", "skeleton", "status",
    "verified_at", "checked_at", "verified_by", "created_at", "updated_at",
)  # fmt: skip
# verified_by is empty, as for a handle a moderator verified: the database has no default
# for it, and synthetic handles went through no verification method.
SKELETON_COLUMNS = ("entry_id", "skeleton")
ENDPOINT_COLUMNS = (
    "id", "entry_id", "uri", "scheme", "service", "voice", "video", "text", "preference",
    "label", "audience", "created_at", "updated_at",
)  # fmt: skip


def _counter():
    n = 0
    while True:
        n += 1
        yield n


def _copy_statement(model, columns) -> str:
    quote = connection.ops.quote_name
    return f"COPY {quote(model._meta.db_table)} ({', '.join(map(quote, columns))}) FROM STDIN"


def ensure_bulk_loaded(
    entries: int, *, seed: int, reload: bool = False, progress: bool = True
) -> LoadResult:
    """Make the PostgreSQL database hold exactly ``entries`` COPY-loaded synthetic entries.

    Output: a :class:`~benchmarks.synthetic.LoadResult` (``seconds``: generation, COPY,
    ANALYZE). A matching load is reused unless ``reload``. Raises
    :class:`~benchmarks.synthetic.ForeignDataError` rather than delete entries that are not
    synthetic, and :class:`NormalizationError` when a shape's substitution disagrees with
    full normalization.
    """
    from directory.answers import drop_all

    if connection.vendor != "postgresql":
        raise RuntimeError("the COPY loader needs PostgreSQL")
    prefix = copy_prefix(seed)
    # The bearer-token callers' own entries (bearer_callers) are made afresh on each run
    # beside the load; they do not make it a different load.
    loaded = Entry.objects.exclude(import_key__startswith=CALLER_PREFIX)
    if not reload and loaded.count() == entries:
        if loaded.filter(import_key__startswith=prefix).count() == entries:
            return LoadResult(
                entries, Handle.objects.count(), Endpoint.objects.count(), 0.0, reused=True
            )
    if Entry.objects.exclude(import_key__startswith="bench:").exists():
        raise ForeignDataError(
            "The database holds entries that are not synthetic benchmark entries; "
            "point --database-url at a dedicated database."
        )
    started = time.perf_counter()
    maker = BulkDirectory(seed)
    handle_ids, endpoint_ids = _counter(), _counter()
    handles = endpoints = 0
    quote = connection.ops.quote_name
    tables = [quote(m._meta.db_table) for m in (Endpoint, Handle, EntryHandleSkeleton, Entry)]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            with tqdm(total=entries, unit="entries", desc="loading", disable=not progress) as bar:
                for first in range(1, entries + 1, CHUNK):
                    rows = [
                        maker.entry(entry_id, handle_ids, endpoint_ids)
                        for entry_id in range(first, min(first + CHUNK, entries + 1))
                    ]
                    for model, columns, index in (
                        (Entry, ENTRY_COLUMNS, 0),
                        (Handle, HANDLE_COLUMNS, 1),
                        (Endpoint, ENDPOINT_COLUMNS, 2),
                        (EntryHandleSkeleton, SKELETON_COLUMNS, 3),
                    ):
                        with raw.copy(_copy_statement(model, columns)) as copy:
                            for row in rows:
                                if index == 0:
                                    copy.write_row(row[0])
                                    continue
                                for item in row[index]:
                                    copy.write_row(item)
                    handles += sum(len(row[1]) for row in rows)
                    endpoints += sum(len(row[2]) for row in rows)
                    bar.update(len(rows))
            for model in (Entry, Handle, Endpoint, EntryHandleSkeleton):
                table = model._meta.db_table
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {quote(table)}))",
                    [table],
                )
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {table}")
    drop_all()
    seconds = time.perf_counter() - started
    return LoadResult(entries, handles, endpoints, seconds, reused=False)


# ------------------------------------------------------------------ mixes and callers

CALLER_PREFIX = "bench:callers:"
CALLER_APP = "resolve-benchmark"


def sampled_mix(size: int, *, seed: int, external_share: float = 0.25, missing_share: float = 0.04):
    """:func:`benchmarks.synthetic.lookup_mix` without reading the whole directory: the
    entries and verified handles drawn by random primary key (a million rows need not
    come into memory). Same shares, same forms, the same lookups for a seed."""
    from django.db.models import Max

    from benchmarks.synthetic import DIRECTORY, Lookup, _missing_lookup, _typed_form

    rng = random.Random(seed)
    wanted_missing = sum(rng.random() < missing_share for _ in range(size))
    wanted_external = round((size - wanted_missing) * external_share / (1 - missing_share))
    wanted_directory = size - wanted_missing - wanted_external
    top_entry = Entry.objects.aggregate(top=Max("id"))["top"] or 0
    top_handle = Handle.objects.aggregate(top=Max("id"))["top"] or 0
    if not top_entry:
        raise ValueError("The database holds no entries to look up.")
    mix: list[Lookup] = []
    active = Entry.Status.ACTIVE
    while len(mix) < wanted_directory:
        ids = [rng.randint(1, top_entry) for _ in range(wanted_directory - len(mix))]
        found = dict(
            (pk, (handle, canonical, status))
            for pk, handle, canonical, status in Entry.objects.filter(pk__in=ids).values_list(
                "pk", "handle", "handle_canonical", "status"
            )
        )
        for pk in ids:
            if pk in found:
                handle, canonical, status = found[pk]
                mix.append(Lookup(f"@{handle}", DIRECTORY, canonical, status == active))
    external: list[Lookup] = []
    while len(external) < wanted_external and top_handle:
        ids = [rng.randint(1, top_handle) for _ in range(2 * (wanted_external - len(external)))]
        rows = dict(
            (pk, rest)
            for pk, *rest in Handle.objects.filter(
                pk__in=ids, status=Handle.Status.VERIFIED
            ).values_list("pk", "kind", "raw", "key", "entry__status")
        )
        for pk in ids:
            if pk in rows and len(external) < wanted_external:
                kind, raw, key, status = rows[pk]
                external.append(Lookup(_typed_form(kind, raw, key), kind, key, status == active))
    mix += external
    missing = [_missing_lookup(rng, set()) for _ in range(wanted_missing)]
    taken = set(
        Entry.objects.filter(
            handle_canonical__in=[m.key for m in missing if m.kind == DIRECTORY]
        ).values_list("handle_canonical", flat=True)
    )
    mix += [m for m in missing if m.key not in taken]
    rng.shuffle(mix)
    return mix


def bearer_callers(count: int, *, seed: int) -> list[str]:
    """``count`` OAuth2 access tokens (scope ``lookup``) of one calling app, each acting
    for an account of its own; every other account owns an entry with a verified handle
    (a *verified* caller), the rest own none (signed in). Made afresh on each call, the
    previous ones deleted. Output: the raw tokens."""
    import secrets
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from oauth2_provider.models import AccessToken, get_application_model

    from directory import services

    user_model = get_user_model()
    Application = get_application_model()  # noqa: N806
    Application.objects.filter(name=CALLER_APP).delete()
    user_model.objects.filter(username__startswith="bench-caller-").delete()
    app = Application.objects.create(
        name=CALLER_APP,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="http://127.0.0.1/callback",
    )
    rng = random.Random(seed)
    tokens = []
    for n in range(count):
        user = user_model.objects.create_user(
            username=f"bench-caller-{n}", email=f"bench-caller-{n}@example.org"
        )
        if n % 2 == 0:
            entry = services.entry_create(
                nickname=f"Caller {n}",
                handle=f"benchcaller{seed}x{n}",
                owner=user,
                import_key=f"{CALLER_PREFIX}{n}",
            )
            handle = services.handle_add(entry=entry, kind="github", raw=f"benchcaller{seed}x{n}")
            services.handle_mark_verified(handle=handle)
        token = secrets.token_urlsafe(32) + str(rng.random())[2:6]
        AccessToken.objects.create(
            user=user,
            application=app,
            token=token,
            expires=timezone.now() + timedelta(days=1),
            scope="lookup",
        )
        tokens.append(token)
    return tokens


def sydent_associations(seed: int):
    """One ``(email address, Matrix ID)`` pair per entry: the entry's email handle when it
    claims one, else ``<handle>@example.org``; the Matrix ID ``@<handle>:<seed>.bench``.
    Streamed from a server-side cursor."""
    entry_table = connection.ops.quote_name(Entry._meta.db_table)
    handle_table = connection.ops.quote_name(Handle._meta.db_table)
    sql = (
        f"SELECT e.handle_canonical, MIN(h.canonical) FROM {entry_table} e "
        f"LEFT JOIN {handle_table} h ON h.entry_id = e.id AND h.kind = 'email' "
        "WHERE e.import_key LIKE %s GROUP BY e.id ORDER BY e.id"
    )
    connection.ensure_connection()
    with transaction.atomic():
        with connection.connection.cursor(name="sydent_associations") as cursor:
            cursor.itersize = 20_000
            cursor.execute(sql, [copy_prefix(seed) + "%"])
            for canonical, email in cursor:
                yield (email or f"{canonical}@example.org"), f"@{canonical}:{seed}.bench"


def sydent_mix(associations: list[str], size: int, *, seed: int, missing_share: float):
    """``size`` email lookups for Sydent: addresses drawn from ``associations``, a
    ``missing_share`` of unknown ones, as the resolve mix has. Output: ``(address,
    found)`` pairs."""
    rng = random.Random(seed)
    out = []
    for _ in range(size):
        if rng.random() < missing_share:
            out.append((f"nobody{rng.randrange(10**9)}@example.net", False))
        else:
            out.append((rng.choice(associations), True))
    return out
