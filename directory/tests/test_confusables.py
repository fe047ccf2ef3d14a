"""Directory handle look-alikes, checked against Unicode's own confusables data.

``confusable_homoglyphs`` ships confusables.txt (UTS #39) as JSON: each line
``source ; prototype`` of the file becomes an edge both ways between the two strings.
Every edge that joins a string of a–z and 0–9 to another string is a mapping whose
prototype is that ASCII string (or, for ``m`` → ``rn``, the other way round); either
way the two must collide. Real first names from Faker's locales must not collide unless
UTS #39 calls them confusable. Collisions are checked in bulk on the skeletons; a sample
goes through the service and the database.
"""

from __future__ import annotations

import importlib
import json
import random
import re
import unicodedata
from importlib.resources import files

import pytest

from directory import services
from directory.exceptions import HandleTaken, NormalizationError
from directory.normalization import normalize_directory_handle

_ASCII = re.compile(r"[a-z0-9]+")


def _ascii_prototype_mappings() -> list[tuple[str, str]]:
    table = json.loads(
        files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
    )
    pairs = set()
    for source, edges in table.items():
        for edge in edges:
            if _ASCII.fullmatch(edge["c"]) and source != edge["c"]:
                pairs.add((source, edge["c"]))
    return sorted(pairs)


MAPPINGS = _ascii_prototype_mappings()


def _keys(raw: str) -> frozenset[str] | None:
    """The skeletons of ``raw`` as a handle, or ``None`` when it is not a valid one."""
    try:
        return normalize_directory_handle(raw).skeletons
    except NormalizationError:
        return None


def _handles(source: str, prototype: str) -> tuple[str, str]:
    # Doubled, so one character makes a handle of the minimum length and a handle
    # keeps the single script of its character.
    return source * 2, prototype * 2


def test_the_confusables_data_is_there():
    assert len(MAPPINGS) > 700


def test_every_confusable_of_an_ascii_prototype_collides_with_it():
    missed = []
    for source, prototype in MAPPINGS:
        confusable, original = _handles(source, prototype)
        confusable_keys, original_keys = _keys(confusable), _keys(original)
        if confusable_keys is None or original_keys is None:
            # Refused as invalid (mixed scripts, a separate mark, a symbol, digits alone):
            # it cannot sit beside its prototype; a prototype of digits alone is no handle.
            continue
        if normalize_directory_handle(confusable).display != confusable:
            continue  # NFKC makes it another string (ſ is s): shown as that, not as typed
        if not confusable_keys & original_keys:
            missed.append((source, prototype, sorted(confusable_keys), sorted(original_keys)))
    assert missed == []


@pytest.mark.django_db
def test_a_sample_of_confusables_is_refused_by_the_service():
    rng = random.Random(39)
    sample = [
        pair
        for pair in rng.sample(MAPPINGS, 60)
        if all(_keys(h) is not None for h in _handles(*pair))
    ]
    assert len(sample) >= 10
    for index, (source, prototype) in enumerate(sample):
        confusable, original = _handles(source, prototype)
        first, second = (original, confusable) if index % 2 else (confusable, original)
        try:
            services.entry_create(nickname="First", handle=first)
        except HandleTaken:
            continue  # an earlier pair of the sample took a look-alike of it
        with pytest.raises((HandleTaken, NormalizationError)):
            services.entry_create(nickname="Second", handle=second)


LOCALES = ("en_US", "fr_FR", "de_DE", "es_ES", "it_IT", "pl_PL", "ru_RU", "el_GR", "ja_JP",
           "hi_IN", "tr_TR", "vi_VN", "ar_AA", "ko_KR", "he_IL")  # fmt: skip


def _first_names() -> list[str]:
    names: set[str] = set()
    for locale in LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for attribute in ("first_names", "first_names_male", "first_names_female"):
            found = getattr(provider, attribute, ())
            names.update(found.keys() if isinstance(found, dict) else found)
    return sorted(n for n in names if _keys(n) is not None)


def _uts39_confusable(a: str, b: str) -> bool:
    """Whether UTS #39's own data calls ``a`` and ``b`` confusable: character by
    character, each pair is equal or joined in confusables.txt (directly or through a
    shared prototype), over display and case-folded forms, with ``m`` read as ``rn``,
    the separators the directory ignores and the hiding marks it folds
    (``_HIDDEN_MARKS``) left out."""
    neighbours = _neighbours()

    def near(x: str, y: str) -> bool:
        nx, ny = neighbours.get(x, set()) | {x}, neighbours.get(y, set()) | {y}
        return bool(nx & ny)

    for x in {_marks_off(a), _marks_off(a.casefold())}:
        for y in {_marks_off(b), _marks_off(b.casefold())}:
            x, y = x.replace("m", "rn"), y.replace("m", "rn")
            if len(x) == len(y) and all(near(p, q) for p, q in zip(x, y, strict=True)):
                return True
    return False


_NEIGHBOURS: dict[str, set[str]] = {}


def _neighbours() -> dict[str, set[str]]:
    if not _NEIGHBOURS:
        table = json.loads(
            files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
        )
        for source, edges in table.items():
            for edge in edges:
                target = edge["c"].replace("\u200e", "")
                if len(source) == 1 and len(target) == 1:
                    _NEIGHBOURS.setdefault(source, set()).add(target)
                    _NEIGHBOURS.setdefault(target, set()).add(source)
    return _NEIGHBOURS


# The marks issue 14 names as hiding beside a taken handle (dot below, cedilla, macron
# below, dot above, overlays and strokes): the skeleton (``disarm``) folds them on
# precomposed letters too, so ``Françoise`` meets ``Francoise`` and ``Paweł`` ``Pawel``.
_HIDDEN_MARKS = dict.fromkeys(map(ord, "\u0307\u0323\u0327\u0331\u0335\u0336\u0337\u0338"))
_STROKED = str.maketrans({"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ø": "o", "Ø": "O"})
_SEPARATORS = dict.fromkeys(map(ord, "._-"))


def _marks_off(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.translate(_STROKED))
    return unicodedata.normalize("NFC", decomposed.translate(_HIDDEN_MARKS)).translate(_SEPARATORS)


def test_real_first_names_are_not_refused_as_look_alikes_of_each_other():
    names = _first_names()
    assert len(names) >= 1000
    by_key: dict[str, str] = {}
    clashes = []
    for name in names:
        keys = normalize_directory_handle(name).skeletons
        canonical = normalize_directory_handle(name).canonical
        for key in keys:
            other = by_key.get(key)
            if other is not None and normalize_directory_handle(other).canonical != canonical:
                if not _uts39_confusable(name, other):
                    clashes.append((other, name))
        for key in keys:
            by_key.setdefault(key, name)
    # Cyrillic г and п read as r and n in the skeleton (disarm's confusables.txt 17.0);
    # the JSON this test reads has no such edge, so this one clash is listed by name.
    assert [c for c in clashes if c not in {("Aran", "Агап")}] == []
