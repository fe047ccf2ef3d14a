"""The synthetic load: deterministic, normalized like the actions do, and resolvable."""

from __future__ import annotations

import pytest

pytest.importorskip("faker")

from benchmarks.synthetic import (  # noqa: E402  (after the importorskip)
    DIRECTORY,
    ForeignDataError,
    SyntheticDirectory,
    ensure_loaded,
    lookup_mix,
)
from directory.exceptions import NotFound  # noqa: E402
from directory.models import Endpoint, Entry, Handle  # noqa: E402
from directory.normalization import (  # noqa: E402
    normalize_directory_handle,
    normalize_endpoint_uri,
    normalize_handle,
    skeleton,
)
from directory.selectors import entry_resolve  # noqa: E402
from directory.services import entry_create  # noqa: E402


def _shape(rows):
    return [
        (
            r.entry.handle,
            r.entry.nickname,
            r.entry.status,
            [(h.kind, h.raw, h.status) for h in r.handles],
            [(e.uri, e.audience) for e in r.endpoints],
        )
        for r in rows
    ]


def test_it_makes_the_same_entries_for_the_same_seed():
    first = _shape(SyntheticDirectory(5).batch(40))
    again = _shape(SyntheticDirectory(5).batch(40))
    other = _shape(SyntheticDirectory(6).batch(40))
    assert first == again
    assert first != other


def test_it_stores_every_identifier_in_the_directory_normal_form():
    for row in SyntheticDirectory(11).batch(150):
        entry = row.entry
        wanted = normalize_directory_handle(entry.handle)
        assert (entry.handle, entry.handle_canonical, entry.handle_skeleton) == (
            wanted.display,
            wanted.canonical,
            wanted.skeleton,
        )
        assert entry.nickname_skeleton == skeleton(entry.nickname)
        assert 1 <= len(row.handles) <= 3
        for handle in row.handles:
            normal = normalize_handle(handle.kind, handle.raw)
            assert (handle.canonical, handle.key) == (normal.canonical, normal.key)
            assert handle.skeleton == skeleton(normal.canonical)
            assert (handle.status == Handle.Status.VERIFIED) == (handle.verified_at is not None)
        assert 1 <= len(row.endpoints) <= 3
        for endpoint in row.endpoints:
            normal = normalize_endpoint_uri(endpoint.uri)
            assert (endpoint.uri, endpoint.scheme, endpoint.service) == (
                normal.uri,
                normal.scheme,
                normal.service,
            )


def test_it_never_repeats_a_handle_by_case_or_look_alike_or_verified_owner():
    rows = SyntheticDirectory(3).batch(1500)
    canonicals = [r.entry.handle_canonical for r in rows]
    skeletons = [r.entry.handle_skeleton for r in rows]
    verified = [
        (h.kind, h.key) for r in rows for h in r.handles if h.status == Handle.Status.VERIFIED
    ]
    assert len(set(canonicals)) == len(rows)
    assert len(set(skeletons)) == len(rows)
    assert len(set(verified)) == len(verified)
    assert any(not c.isascii() for c in canonicals), "no handle in a non-Latin script"


@pytest.mark.django_db
def test_it_loads_rows_that_resolve_as_the_mix_says():
    load = ensure_loaded(60, seed=4, batch_size=25, progress=False)
    assert not load.reused
    assert (load.entries, load.handles, load.endpoints) == (
        Entry.objects.count(),
        Handle.objects.count(),
        Endpoint.objects.count(),
    )
    mix = lookup_mix(300, seed=4, external_share=0.4, missing_share=0.1)
    assert {lookup.kind for lookup in mix} - {DIRECTORY} and any(not m.found for m in mix)
    for lookup in mix:
        if not lookup.found:
            with pytest.raises(NotFound):
                entry_resolve(lookup.query)
            continue
        entry, matched = entry_resolve(lookup.query)
        if lookup.kind == DIRECTORY:
            assert entry.handle_canonical == lookup.key
        else:
            assert entry.handles.filter(
                kind=lookup.kind, key=lookup.key, status=Handle.Status.VERIFIED
            ).exists(), matched


@pytest.mark.django_db
def test_it_reuses_a_matching_load_and_reloads_when_asked():
    ensure_loaded(12, seed=8, progress=False)
    ids = sorted(Entry.objects.values_list("pk", flat=True))

    again = ensure_loaded(12, seed=8, progress=False)
    assert again.reused
    assert sorted(Entry.objects.values_list("pk", flat=True)) == ids

    other_seed = ensure_loaded(12, seed=9, progress=False)
    assert not other_seed.reused
    assert not Entry.objects.filter(import_key__startswith="bench:8:").exists()

    forced = ensure_loaded(12, seed=9, reload=True, progress=False)
    assert not forced.reused
    assert Entry.objects.count() == 12


@pytest.mark.django_db
def test_it_refuses_to_empty_a_database_holding_real_entries():
    entry_create(nickname="Alice", handle="alice")
    with pytest.raises(ForeignDataError):
        ensure_loaded(5, seed=1, progress=False)
    assert list(Entry.objects.values_list("handle", flat=True)) == ["alice"]
