"""Bulk import of vCards into the directory: an organisation's phonebook, or the demo.

Each card becomes one operator entry (no owner), written through
:mod:`directory.services` in one transaction per card, so a card that fails leaves no row
behind and the other cards still import. What a card becomes is decided in
:mod:`directory.vcard_mapping`.

Idempotence: each card has a stable ``import_key`` (``Entry.import_key``): its ``UID``,
or else a SHA-256 of its normalized content. Importing a card again changes nothing when
the card is the same, and brings the entry in line with the card when it changed (only
possible for cards with a ``UID``: a changed card without one is a new card). Entries a
person has since taken ownership of are left alone.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import phonenumbers
from django.db import DatabaseError, transaction

from directory.exceptions import HandleTaken, NormalizationError, WorldbookError
from directory.models import Endpoint, Entry, Handle
from directory.normalization import DIRECTORY_HANDLE_MAX
from directory.services import (
    endpoint_add,
    endpoint_remove,
    endpoint_update,
    entry_create,
    entry_update,
    handle_add,
    handle_remove,
)
from directory.vcard_mapping import CardPlan, CardSkipped, PlannedEndpoint, plan_card
from directory.vcards import CardBlock, VCardSyntaxError, parse_card, read_vcard_file

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"
# The reason a card that cannot be read is counted under among the skipped cards.
UNREADABLE = "cannot be read (reported above with its line)"
# The reason a line left out of a card that was read is counted under among the skipped
# properties.
LINE_UNREADABLE = "a line that cannot be read (reported above with its line)"

FALLBACK_HANDLE = "contact"
_HANDLE_ATTEMPTS = 1000


# --------------------------------------------------------------------------------------
# Reports


@dataclass(frozen=True)
class Problem:
    """Something the operator should see: ``path``, 1-based ``line`` (``None`` for the
    whole file) and ``message``. ``str()`` gives ``FILE:LINE: message``."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.message}"


@dataclass
class ImportReport:
    """What an import did.

    Counts: ``files`` named, ``files_unreadable`` (missing, unreadable, or holding no
    vCard); ``cards_found``, each ``BEGIN:VCARD`` opening a card, with or without its
    ``END:VCARD``; ``cards_read``, the cards found less those that cannot be read (no
    ``END:VCARD``, a line off the vCard grammar, an unknown ``VERSION``);
    ``created``/``updated``/``unchanged`` entries. ``cards_skipped`` counts the cards
    found that made no entry change, by reason (one line each in the summary), the cards
    that cannot be read among them, so that ``cards_found == created + updated +
    unchanged + skipped``. ``properties_skipped`` counts skipped properties by reason;
    ``problems`` lists unreadable files and cards and failed cards with their lines, and
    ``property_notes`` each skipped property with its line, both in file and line order.
    """

    files: int = 0
    files_unreadable: int = 0
    cards_found: int = 0
    cards_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    cards_skipped: Counter[str] = field(default_factory=Counter)
    properties_skipped: Counter[str] = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    property_notes: list[Problem] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        """Cards found that made no entry change, those that cannot be read included."""
        return sum(self.cards_skipped.values())

    def summary_lines(self) -> list[str]:
        """The summary as lines of text, for the command line. The counts add up: cards
        found = created + updated + unchanged + skipped; cards read = cards found less
        those that cannot be read (counted among the skipped)."""
        unreadable = self.cards_found - self.cards_read
        lines = [
            f"Files: {self.files} ({self.files_unreadable} unreadable)",
            f"Cards found: {self.cards_found} = {self.created} created + {self.updated} "
            f"updated + {self.unchanged} unchanged + {self.skipped} skipped",
            f"Cards read: {self.cards_read} ({self.cards_found} found less {unreadable} "
            "that cannot be read)",
            f"Entries: {self.created} created, {self.updated} updated, {self.unchanged} unchanged",
            f"Cards skipped: {self.skipped}",
        ]
        lines += [f"  {n:>5}  {reason}" for reason, n in self.cards_skipped.most_common()]
        lines.append(f"Properties skipped: {sum(self.properties_skipped.values())}")
        lines += [f"  {n:>5}  {reason}" for reason, n in self.properties_skipped.most_common()]
        return lines


# --------------------------------------------------------------------------------------
# Writing one card


def _handle_candidates(base: str) -> Iterator[str]:
    """Directory handles to try: ``base``, then ``base-2``, ``base-3`` …; without a base,
    ``contact-1``, ``contact-2`` … Numbers already used are passed over in one query."""
    prefix = base or FALLBACK_HANDLE
    if base:
        yield base
    taken = set(
        Entry.objects.filter(handle_canonical__startswith=f"{prefix.casefold()}-").values_list(
            "handle_canonical", flat=True
        )
    )
    for number in itertools.count(2 if base else 1):
        suffix = f"-{number}"
        candidate = prefix[: DIRECTORY_HANDLE_MAX - len(suffix)].rstrip("-._") + suffix
        if candidate.casefold() not in taken:
            yield candidate


def _create_entry(plan: CardPlan) -> Entry:
    for candidate in itertools.islice(_handle_candidates(plan.handle_base), _HANDLE_ATTEMPTS):
        try:
            return entry_create(
                nickname=plan.nickname, handle=candidate, import_key=plan.import_key
            )
        except (HandleTaken, NormalizationError):
            if Entry.objects.filter(import_key=plan.import_key).exists():
                raise CardSkipped(
                    "imported at the same time by another import", "another import holds it"
                ) from None
    raise CardSkipped(
        "no free directory handle",
        f"no free directory handle near @{plan.handle_base or FALLBACK_HANDLE}",
    )


def _endpoint_matches(endpoint: Endpoint, planned: PlannedEndpoint) -> bool:
    return (
        endpoint.preference == planned.preference
        and endpoint.label == planned.label
        and endpoint.audience == planned.audience
        and frozenset(endpoint.capabilities) == planned.capabilities
    )


def _sync_entry(entry: Entry, plan: CardPlan) -> bool:
    """Make ``entry`` hold what ``plan`` says; True when anything was written.

    Handles and endpoints the card no longer has are removed, except verified handles:
    a proof of control is kept even if a later card omits the handle.
    """
    changed = False
    if entry.nickname != plan.nickname:
        entry_update(entry=entry, nickname=plan.nickname)
        changed = True
    existing_handles = {(h.kind, h.key): h for h in entry.handles.all()}
    for planned in plan.handles:
        if (planned.kind, planned.key) not in existing_handles:
            handle_add(entry=entry, kind=planned.kind, raw=planned.raw)
            changed = True
    wanted_handles = {(h.kind, h.key) for h in plan.handles}
    for key, handle in existing_handles.items():
        if key not in wanted_handles and handle.status != Handle.Status.VERIFIED:
            handle_remove(handle=handle)
            changed = True
    existing_endpoints = {e.uri: e for e in entry.endpoints.all()}
    for planned in plan.endpoints:
        current = existing_endpoints.get(planned.uri)
        if current is None:
            endpoint_add(
                entry=entry,
                uri=planned.uri,
                audience=planned.audience,
                preference=planned.preference,
                label=planned.label,
                capabilities=planned.capabilities,
            )
            changed = True
        elif not _endpoint_matches(current, planned):
            endpoint_update(
                endpoint=current,
                audience=planned.audience,
                preference=planned.preference,
                label=planned.label,
                capabilities=planned.capabilities,
            )
            changed = True
    wanted_uris = {e.uri for e in plan.endpoints}
    for uri, endpoint in existing_endpoints.items():
        if uri not in wanted_uris:
            endpoint_remove(endpoint=endpoint)
            changed = True
    return changed


def apply_plan(plan: CardPlan) -> str:
    """Write one card's plan in one transaction; returns ``created``, ``updated`` or
    ``unchanged``.

    Raises :class:`CardSkipped` when the entry is now managed by its owner, and lets
    :class:`~directory.exceptions.WorldbookError` or ``DatabaseError`` through after the
    transaction rolled back, so a failed card leaves no row behind.
    """
    with transaction.atomic():
        entry = Entry.objects.select_for_update().filter(import_key=plan.import_key).first()
        if entry is None:
            entry = _create_entry(plan)
            _sync_entry(entry, plan)
            return CREATED
        if entry.owner_id is not None:
            raise CardSkipped(
                "its entry is managed by its owner now; left as it is",
                f"its entry @{entry.handle} is managed by its owner now; left as it is",
            )
        return UPDATED if _sync_entry(entry, plan) else UNCHANGED


# --------------------------------------------------------------------------------------
# Files


def _no_progress(cards: Iterable, total: int, name: str) -> Iterable:
    return cards


class VCardImport:
    """One import run over any number of files, with one report.

    Inputs: ``region`` for national phone numbers (ISO 3166-1 alpha-2, validated by
    :func:`validate_region`); ``on_problem``, called with each :class:`Problem` as it
    is found (unreadable file or card, failed card); ``on_property``, called with each
    skipped property. Both are called in file and line order (a card's own problem, at
    its ``BEGIN:VCARD`` line, before its properties). Use :meth:`import_file` per file,
    then read :attr:`report`.
    """

    def __init__(
        self,
        *,
        region: str | None = None,
        on_problem: Callable[[Problem], None] | None = None,
        on_property: Callable[[Problem], None] | None = None,
    ):
        self.region = validate_region(region)
        self.report = ImportReport()
        self._on_problem = on_problem or (lambda problem: None)
        self._on_property = on_property or (lambda problem: None)
        self._seen_keys: set[str] = set()

    def _problem(self, path: str, line: int | None, message: str) -> None:
        problem = Problem(path, line, message)
        self.report.problems.append(problem)
        self._on_problem(problem)

    def _property_note(self, note: Problem) -> None:
        self.report.property_notes.append(note)
        self._on_property(note)

    def import_file(
        self,
        path: str | Path,
        *,
        wrap: Callable[[Iterable, int, str], Iterable] = _no_progress,
    ) -> None:
        """Import every card of the vCard file at ``path``.

        ``wrap(cards, total, name)`` may wrap the iteration over the file's cards (a
        progress bar). Never raises for bad input: a missing or unreadable file, a card
        that cannot be read and a card that fails to import are reported and counted.
        """
        shown = str(path)
        report = self.report
        report.files += 1
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            report.files_unreadable += 1
            self._problem(shown, None, f"cannot read the file: {exc.strerror or exc}")
            return
        vcard_file = read_vcard_file(data)
        report.cards_found += vcard_file.cards_found
        # Problems of the file as a whole (a card without END:VCARD, stray text) are told
        # where their line falls among the cards', so the output reads in line order.
        pending = sorted(vcard_file.problems, key=lambda problem: problem.line)

        def tell_pending(before: int | None) -> None:
            while pending and (before is None or pending[0].line < before):
                problem = pending.pop(0)
                if problem.lost_card:
                    report.cards_skipped[UNREADABLE] += 1
                self._problem(shown, problem.line, problem.reason)

        if not vcard_file.blocks:
            tell_pending(None)
            report.files_unreadable += 1
            self._problem(shown, None, "no vCard in the file (no BEGIN:VCARD … END:VCARD)")
            return
        for block in wrap(vcard_file.blocks, len(vcard_file.blocks), Path(path).name):
            tell_pending(block.line)
            self._import_block(shown, block)
        tell_pending(None)

    def _import_block(self, shown: str, block: CardBlock) -> None:
        """Import one card, then tell its problems and skipped properties in line order
        (a card's own problem, at its ``BEGIN:VCARD`` line, first)."""
        notes: list[Problem] = []
        problems = self._import_card(shown, block, notes)
        told = [(item.line or 0, 0, item) for item in problems]
        told += [(item.line or 0, 1, item) for item in notes]
        for _line, is_note, item in sorted(told, key=lambda told: told[:2]):
            if is_note:
                self._property_note(item)
            else:
                self._problem(item.path, item.line, item.message)

    def _import_card(self, shown: str, block: CardBlock, notes: list[Problem]) -> list[Problem]:
        """Count one card in the report; returns its problems (the card's own, lines that
        cannot be read) and adds the notes about its skipped properties to ``notes``."""
        report = self.report
        try:
            card = parse_card(block)
        except VCardSyntaxError as exc:
            report.cards_skipped[UNREADABLE] += 1
            return [Problem(shown, exc.line, f"card not imported: {exc.reason}")]
        report.cards_read += 1
        problems = [Problem(shown, exc.line, exc.reason) for exc in card.problems]
        report.properties_skipped[LINE_UNREADABLE] += sum(
            1 for exc in card.problems if exc.lost_line
        )
        try:
            plan = plan_card(card, region=self.region)
            for skipped in plan.skipped:
                report.properties_skipped[skipped.reason] += 1
                notes.append(Problem(shown, skipped.line, skipped.detail))
            if plan.import_key in self._seen_keys:
                raise CardSkipped(
                    "repeats an earlier card of this import (same UID or same content)"
                )
            self._seen_keys.add(plan.import_key)
            outcome = apply_plan(plan)
        except CardSkipped as exc:
            report.cards_skipped[exc.reason] += 1
            return [Problem(shown, card.line, f"card skipped: {exc.detail}"), *problems]
        except (WorldbookError, DatabaseError) as exc:
            report.cards_skipped["failed to import (reported above with its line)"] += 1
            return [
                Problem(shown, card.line, f"card not imported, nothing of it kept: {exc}"),
                *problems,
            ]
        setattr(report, outcome, getattr(report, outcome) + 1)
        return problems


def validate_region(region: str | None) -> str | None:
    """Return ``region`` upper-cased, or ``None``; raises :class:`NormalizationError`
    unless it is an ISO 3166-1 alpha-2 region libphonenumber knows (``US``, ``IT`` …)."""
    if not region:
        return None
    upper = region.strip().upper()
    if upper not in phonenumbers.SUPPORTED_REGIONS:
        raise NormalizationError(
            f"{region!r} is not a region code phone numbers can be read in (such as US or IT)."
        )
    return upper
